"""Arithmetic nodes and operator overloading: ``+ - * / **`` and unary ``-`` on Variables.

Every binary node sums its gradients back to its inputs' shapes with ``sum_to``
(the backward of NumPy broadcasting), so ``x (N, D) + b (D,)`` gives ``b`` a
gradient of shape (D,).  A Python number as an operand becomes a 0-d array of
the other operand's module (NumPy or CuPy) and dtype.

``setup_variable()`` (DeZero's name, step 20) attaches the operators to
``Variable``; it runs when this module is imported, which ``framework.autograd``
always does, so ``x * 2 + 1`` works as soon as ``Variable`` is importable.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .core import SCALAR_TYPES, Function, Variable, as_variable

__all__ = [
    "sum_to",
    "broadcast_to",
    "add",
    "sub",
    "rsub",
    "mul",
    "div",
    "rdiv",
    "neg",
    "pow",
    "setup_variable",
    "SumTo",
    "BroadcastTo",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Pow",
]


def _operands(x0, x1):
    """Make a scalar operand an array of the other operand's module and dtype.

    A Python float next to float32 data stays float32 (NumPy's rule for Python
    scalars, NEP 50), so ``x * 2.0`` never turns a float32 graph into float64.
    """
    if isinstance(x1, SCALAR_TYPES):
        x1 = _scalar_like(x1, x0)
    elif isinstance(x0, SCALAR_TYPES):
        x0 = _scalar_like(x0, x1)
    return x0, x1


def _scalar_like(c, x):
    x = as_variable(x)
    xp = backend.get_array_module(x.data)
    return xp.asarray(c, dtype=np.result_type(x.dtype, c))


# -- broadcasting: sum_to and broadcast_to are each other's backward ----------
def _sum_to_array(x, shape):
    """Sum ``x`` to ``shape`` by DeZero's rule (the backward of broadcasting).

    First the leading axes that broadcasting added, then, with ``keepdims``,
    every axis where ``shape`` has 1.
    For a ``shape`` that ``x`` really broadcasts from, the result has that shape.
    For any other ``shape`` of no more axes than ``x`` the rule still gives an
    array (as DeZero does; e.g. (10, 20, 20) -> (10,) gives shape (20,)), and its
    backward still broadcasts back to ``x``'s shape.
    """
    lead = x.ndim - len(shape)
    if lead < 0:
        raise ValueError(
            f"sum_to: cannot sum x of shape {x.shape} to {tuple(shape)}, which has more axes"
        )
    lead_axes = tuple(range(lead))
    axes = tuple(lead + i for i, s in enumerate(shape) if s == 1)
    y = x.sum(lead_axes + axes, keepdims=True)
    return y.squeeze(lead_axes) if lead > 0 else y


class SumTo(Function):
    """Sum down to ``shape``, the backward of broadcasting; backward ``broadcast_to``."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        return _sum_to_array(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.x_shape)


def sum_to(x, shape) -> Variable:
    """Sum ``x`` to ``shape`` (returns ``x`` itself when the shape already matches)."""
    if x.shape == tuple(shape):
        return as_variable(x)
    return SumTo(shape)(x)


class BroadcastTo(Function):
    """Repeat ``x`` to ``shape`` as numpy broadcasting does; backward ``sum_to``."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        xp = backend.get_array_module(x)
        return xp.broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.x_shape)


def broadcast_to(x, shape) -> Variable:
    """Broadcast ``x`` to ``shape`` (returns ``x`` itself when the shape already matches)."""
    if x.shape == tuple(shape):
        return as_variable(x)
    return BroadcastTo(shape)(x)


# -- arithmetic: each binary backward sums back over broadcast axes ------------
class Add(Function):
    """``y = x0 + x1``; ``gx0 = gy``, ``gx1 = gy`` (each summed to its input's shape)."""

    def forward(self, x0, x1):
        self.x0_shape, self.x1_shape = x0.shape, x1.shape
        return x0 + x1

    def backward(self, gy):
        return sum_to(gy, self.x0_shape), sum_to(gy, self.x1_shape)


def add(x0, x1) -> Variable:
    """``x0 + x1`` with broadcasting."""
    return Add()(*_operands(x0, x1))


class Sub(Function):
    """``y = x0 - x1``; ``gx0 = gy``, ``gx1 = -gy``."""

    def forward(self, x0, x1):
        self.x0_shape, self.x1_shape = x0.shape, x1.shape
        return x0 - x1

    def backward(self, gy):
        return sum_to(gy, self.x0_shape), sum_to(-gy, self.x1_shape)


def sub(x0, x1) -> Variable:
    """``x0 - x1`` with broadcasting."""
    return Sub()(*_operands(x0, x1))


def rsub(x0, x1) -> Variable:
    """``x1 - x0`` (for ``2.0 - x``)."""
    x0, x1 = _operands(x0, x1)
    return Sub()(x1, x0)


class Mul(Function):
    """``y = x0 * x1``; ``gx0 = gy * x1``, ``gx1 = gy * x0``."""

    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy * x1, x0.shape), sum_to(gy * x0, x1.shape)


def mul(x0, x1) -> Variable:
    """``x0 * x1`` with broadcasting."""
    return Mul()(*_operands(x0, x1))


class Div(Function):
    """``y = x0 / x1``; ``gx0 = gy / x1``, ``gx1 = -gy * x0 / x1**2``."""

    def forward(self, x0, x1):
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy / x1, x0.shape), sum_to(gy * (-x0 / x1**2), x1.shape)


def div(x0, x1) -> Variable:
    """``x0 / x1`` with broadcasting."""
    return Div()(*_operands(x0, x1))


def rdiv(x0, x1) -> Variable:
    """``x1 / x0`` (for ``1.0 / x``)."""
    x0, x1 = _operands(x0, x1)
    return Div()(x1, x0)


class Neg(Function):
    """``y = -x``; ``gx = -gy``."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def neg(x) -> Variable:
    """``-x``."""
    return Neg()(x)


class Pow(Function):
    """``y = x ** c`` for a constant number ``c``; ``gx = c * x ** (c - 1) * gy``."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x**self.c

    def backward(self, gy):
        (x,) = self.inputs
        return self.c * x ** (self.c - 1) * gy


def pow(x, c) -> Variable:
    """``x ** c`` where ``c`` is a Python number (a constant, not a Variable)."""
    if not isinstance(c, SCALAR_TYPES):
        raise TypeError(
            f"pow: expected the exponent as a Python number, got {type(c).__name__}; "
            "for a variable exponent write exp(c * log(x))"
        )
    return Pow(c)(x)


def setup_variable() -> None:
    """Attach the arithmetic operators to ``Variable`` (``x + y`` calls ``add(x, y)``)."""
    Variable.__add__ = add
    Variable.__radd__ = add
    Variable.__sub__ = sub
    Variable.__rsub__ = rsub
    Variable.__mul__ = mul
    Variable.__rmul__ = mul
    Variable.__truediv__ = div
    Variable.__rtruediv__ = rdiv
    Variable.__neg__ = neg
    Variable.__pow__ = pow


setup_variable()
