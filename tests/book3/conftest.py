"""The ``dezero`` fixture: ``import dezero`` inside a test gets ``framework.autograd``.

The aliases live in ``sys.modules`` only while a test that asks for the fixture
runs; afterwards every entry is restored (or removed), so a real DeZero that a
benchmark imports is never shadowed.  Any ``dezero.*`` module already imported
(a real DeZero's) is hidden for the test and put back afterwards.

::

    def test_something(dezero):
        import dezero.functions as F
        from dezero.models import MLP
"""

from __future__ import annotations

import importlib
import sys

import pytest

#: DeZero's modules, each an alias of ``framework.autograd.<name>``.
DEZERO_MODULES = (
    "core",
    "functions",
    "functions_conv",
    "layers",
    "models",
    "optimizers",
    "utils",
    "cuda",
    "datasets",
    "dataloaders",
    "transforms",
)


def alias_dezero(monkeypatch):
    """Point ``dezero`` and ``dezero.<module>`` at our modules until ``monkeypatch`` undoes it."""
    package = importlib.import_module("framework.autograd")
    for name in [m for m in sys.modules if m.startswith("dezero.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dezero", package)
    for name in DEZERO_MODULES:
        module = importlib.import_module(f"framework.autograd.{name}")
        monkeypatch.setitem(sys.modules, f"dezero.{name}", module)
    return package


@pytest.fixture
def dezero(monkeypatch):
    """Make ``dezero`` and ``dezero.<module>`` importable as our modules; returns ``dezero``."""
    return alias_dezero(monkeypatch)
