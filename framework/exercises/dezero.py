"""Checkers for DeZero (book 3): functions built from autograd nodes.

The learner's function takes and returns a ``framework.autograd.Variable``; its
gradient comes from ``backward`` through the graph and must match the numerical
gradient of a NumPy reference.  The learner may use the autograd package (that is
the point), but not the library's ready-made activations in ``composed.py``.
"""

from __future__ import annotations

from ._core import (
    Checker,
    CheckFailed,
    expect_close,
    expect_unchanged,
    numerical_gradient,
    passed,
    require_own,
    rng,
)

__all__ = ["check_composed_activation"]

AUTOGRAD = ("autograd/core.py", "autograd/arithmetic.py", "autograd/functions", "backend.py")
AUTOGRAD += ("autograd/utils.py", "autograd/config.py", "functions.py")


def check_composed_activation(fn, reference, name: str | None = None) -> None:
    """Check an activation built from autograd nodes, against the NumPy function ``reference``."""
    from ..autograd import Variable

    name = name or getattr(fn, "__name__", "the activation")
    require_own(fn, name, kind="function")
    c, gen = Checker(allowed=AUTOGRAD), rng()
    x = Variable(gen.uniform(-3, 3, (2, 3)))
    x0 = x.data.copy()
    y = c.call(name, fn, x)
    if not isinstance(y, Variable):
        raise CheckFailed(
            f"{name} returned {type(y).__name__}; build it from autograd functions "
            "(F.exp, +, *, ...) on the Variable so that backward works"
        )
    expect_unchanged(name, "x.data", x.data, x0)
    expect_close(name, "y", y.data, reference(x0.copy()))
    g = gen.standard_normal((2, 3))
    y.grad = Variable(g.copy())
    c.call(f"backward through {name}", y.backward)
    if x.grad is None:
        raise CheckFailed(
            f"after backward, x.grad is None: {name} does not depend on x through the graph "
            "(did you compute with x.data instead of x?)"
        )
    a = x0.copy()
    num = numerical_gradient(lambda: float((g * reference(a)).sum()), a)
    expect_close(f"backward through {name}", "x.grad", x.grad.data, num, rtol=1e-5)
    passed(name, 4)
