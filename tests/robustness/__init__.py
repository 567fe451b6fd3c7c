"""Robustness suite: bad input at every entry point, answered by a clear exception.

One module per entry point (``test_net.py`` for ``Sequential``, ``test_optimizers.py``,
``test_trainer.py``, ``test_cli.py``, ``test_layers.py``, ``test_autograd.py`` ...).
Each defines a module-level list ``CASES`` of::

    pytest.param(callable_that_raises, ExpectedExceptionType, "regex of the message", id="...")

and one parametrized test over it (``with pytest.raises(exc, match=regex): fn()``).
``test_messages.py`` runs every case of every module once more and checks the
message itself with ``message_problem``: it must name a public class or function of
the framework (``"Affine.forward: ..."``, ``"SGD: ..."``, ``"load_mnist: ..."``) and say
what was expected, so that no message of the framework holds only NumPy's or
Python's words.

A package, because its module names repeat those in ``tests/``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import re

__all__ = ["framework_names", "message_problem"]

# A word that says what was expected, or what to do instead.
_EXPECTATION = re.compile(
    r"\b(expect\w*|must|should|needs?|requires?|only|at least|at most|instead|use|pass|"
    r"got|try|call|make|pick|give|set|lower|between|in \[|in \()",
    re.IGNORECASE,
)
# An identifier followed by ':', '.' or '(' ("Affine.forward:", "SGD:", "load(").
_NAMED = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(?=[:.(])")


@functools.cache
def framework_names() -> frozenset:
    """Every public name of the framework: each module's ``__all__`` and ``framework``.

    Modules that cannot be imported here (an optional library missing) are skipped.
    """
    import framework

    names = {"framework"}
    modules = [framework]
    for info in pkgutil.walk_packages(framework.__path__, "framework."):
        if info.name.endswith("__main__"):
            modules.append(importlib.import_module("framework.__main__"))
            continue
        try:
            modules.append(importlib.import_module(info.name))
        except ImportError:
            continue
    for module in modules:
        for name in getattr(module, "__all__", ()):
            names.add(name)
            obj = getattr(module, name, None)
            if inspect.isclass(obj):
                names.update(n for n in vars(obj) if not n.startswith("_"))
    return frozenset(names)


def message_problem(message: str) -> str | None:
    """Return what a framework error message lacks, or None when it is a good one.

    A good message names a public class or function of the framework, followed by
    ':', '.' or '(' (``"Sequential: ..."``, ``"Affine.forward: ..."``), and says what
    was expected or what to do (``expected``, ``must``, ``use`` ...).
    """
    names = framework_names()
    if not any(m.group(1) in names for m in _NAMED.finditer(message)):
        return f"names no class or function of the framework: {message!r}"
    if not _EXPECTATION.search(message):
        return f"does not say what was expected: {message!r}"
    return None
