"""The layout of ``framework.autograd``: one-way imports, short modules, operators in one place."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

import framework.autograd as autograd
import framework.autograd.functions as F

PACKAGE = pathlib.Path(autograd.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _module_level_imports(name: str) -> set:
    """Sibling modules that ``name`` imports at module level (``from .x``, ``from . import x``)."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found & set(MODULES)


def test_sibling_imports_have_no_cycle():
    graph = {m: _module_level_imports(m) for m in MODULES}
    done, path = set(), []

    def visit(m):
        if m in path:
            pytest.fail(f"import cycle: {' -> '.join([*path[path.index(m) :], m])}")
        if m in done:
            return
        path.append(m)
        for dep in sorted(graph[m]):
            visit(dep)
        path.pop()
        done.add(m)

    for m in MODULES:
        visit(m)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    code = f"import framework.autograd.{module} as m; print(m.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"framework.autograd.{module}"


@pytest.mark.parametrize("module", MODULES)
def test_modules_stay_under_about_500_lines(module):
    assert len((PACKAGE / f"{module}.py").read_text().splitlines()) <= 520


def test_operators_are_attached_to_variable_in_one_place():
    """Only ``operators.setup_variable`` (and ``core_simple``'s own Variable) assigns them."""
    assigning = set()
    for m in MODULES:
        for node in ast.walk(ast.parse((PACKAGE / f"{m}.py").read_text())):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and getattr(target.value, "id", "") == (
                        "Variable"
                    ):
                        assigning.add(m)
    assert assigning <= {"operators", "core_simple"}
    assert "operators" in assigning
    for op in ["__add__", "__mul__", "__pow__", "__neg__", "__matmul__", "__getitem__", "T"]:
        assert op in autograd.Variable.__dict__, op


def test_every_f_name_is_importable():
    for name in F.__all__:
        assert hasattr(F, name), name
    from framework.autograd import functions_conv

    for name in functions_conv.__all__:
        assert hasattr(functions_conv, name), name
