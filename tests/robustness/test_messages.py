"""Every message of the robustness suite names the framework and says what was expected.

Runs each entry of the ``CASES`` list of every ``tests/robustness/test_*.py`` module
(modules added later are found by their file name) and checks the raised message
with ``message_problem``: no error of the framework may speak only NumPy's or
Python's words.
"""

from __future__ import annotations

import importlib
import pathlib

import pytest

from . import framework_names, message_problem

HERE = pathlib.Path(__file__).parent


def _case_modules():
    """Import every robustness module; one that skips itself (``importorskip``) is left out."""
    modules = {}
    for name in sorted(p.stem for p in HERE.glob("test_*.py") if p.stem != "test_messages"):
        try:
            modules[name] = importlib.import_module(f"{__package__}.{name}")
        except pytest.skip.Exception:
            continue
    return modules


MODULES = _case_modules()


def _all_cases():
    for name, module in MODULES.items():
        for case in getattr(module, "CASES", ()):
            fn, exc, regex = case.values
            yield pytest.param(fn, exc, regex, id=f"{name}:{case.id}", marks=case.marks)


ALL_CASES = list(_all_cases())


def test_every_module_lists_its_cases():
    for name, module in MODULES.items():
        cases = getattr(module, "CASES", None)
        assert isinstance(cases, list) and cases, f"{name}.py defines no CASES list"
        for case in cases:
            assert len(case.values) == 3 and case.id, f"{name}.py: malformed case {case}"
            fn, exc, regex = case.values
            assert callable(fn) and issubclass(exc, BaseException) and isinstance(regex, str)


@pytest.mark.parametrize(("fn", "exc", "regex"), ALL_CASES)
def test_message_names_the_framework_and_what_was_expected(fn, exc, regex):
    with pytest.raises(exc, match=regex) as info:
        fn()
    problem = message_problem(str(info.value))
    assert problem is None, f"{type(info.value).__name__} {problem}"


@pytest.mark.parametrize(
    "message",
    [
        "operands could not be broadcast together with shapes (3,) (4,)",
        "cannot reshape array of size 0 into shape (0,newaxis)",
        "'int' object has no attribute 'forward'",
        "x: expected a float array",  # a variable, not a framework name
        "forward: expected a float array",  # a method without its class
        "Affine.forward: got (3, 5)",  # named, but not what was expected
    ],
)
def test_raw_numpy_and_python_messages_are_caught(message):
    assert message_problem(message) is not None


@pytest.mark.parametrize(
    "message",
    [
        "Affine.forward: expected x of shape (N, 784), got (3, 5)",
        "SGD: expected lr > 0 and finite, got -0.1",
        "Sequential: layer 1 is a class; use Relu() (an instance)",
    ],
)
def test_good_messages_pass(message):
    assert message_problem(message) is None


def test_names_cover_every_part_of_the_framework():
    names = framework_names()
    for name in ["Sequential", "Affine", "SGD", "Adam", "Trainer", "load_mnist", "Variable"]:
        assert name in names
