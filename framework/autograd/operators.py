"""The nodes behind Variable's operators and methods, and the one place they are attached.

``setup_variable()`` (DeZero's name, step 20) gives ``Variable`` its operators
``+ - * / **``, unary ``-``, ``@`` and indexing, and its methods ``reshape``,
``transpose``, ``T``, ``sum``, ``max``, ``min``, ``dot``; it runs when this module
is imported, which ``import framework.autograd`` always does.

Every binary node sums its gradients back to its inputs' shapes with ``sum_to``
(the backward of NumPy broadcasting), so ``x (N, D) + b (D,)`` gives ``b`` a
gradient of shape (D,).  A Python number as an operand becomes a 0-d array of
the other operand's module (NumPy or CuPy) and dtype.  Each ``Function`` has
``forward`` on raw arrays next to ``backward`` written with ``Variable`` operations.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .core import SCALAR_TYPES, Function, Variable, as_variable

__all__ = [
    "add",
    "sub",
    "rsub",
    "mul",
    "div",
    "rdiv",
    "neg",
    "pow",
    "sum_to",
    "broadcast_to",
    "reshape",
    "transpose",
    "get_item",
    "sum",
    "max",
    "min",
    "matmul",
    "setup_variable",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Pow",
    "SumTo",
    "BroadcastTo",
    "Reshape",
    "Transpose",
    "GetItem",
    "GetItemGrad",
    "Sum",
    "Max",
    "Min",
    "MatMul",
]


def _operands(x0, x1):
    """Make a scalar operand an array of the other operand's module and dtype.

    A Python float next to float32 data stays float32 (NumPy's rule for Python
    scalars, NEP 50), so ``x * 2.0`` never turns a float32 graph into float64.
    """
    if isinstance(x1, _OPERAND_TYPES) and isinstance(x0, _OPERAND_TYPES):  # the common case
        return x0, x1
    if isinstance(x1, SCALAR_TYPES):
        x1 = _scalar_like(x1, x0)
    elif isinstance(x0, SCALAR_TYPES):
        x0 = _scalar_like(x0, x1)
    return x0, x1


_OPERAND_TYPES = (Variable, np.ndarray)  # operands that need no conversion


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
            f"sum_to: cannot sum x of shape {x.shape} to {tuple(shape)}, which has more "
            f"axes; expected a shape with at most {x.ndim} axes"
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


class Reshape(Function):
    """``y = x.reshape(shape)``; ``gx = gy.reshape(x.shape)``."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.x_shape)


def reshape(x, shape) -> Variable:
    """Reshape ``x`` to ``shape`` (one ``-1`` allowed); returns ``x`` if nothing changes."""
    if x.shape == tuple(shape):
        return as_variable(x)
    return Reshape(tuple(shape))(x)


class Transpose(Function):
    """``y = x.transpose(axes)``; ``gx = gy.transpose(inverse of axes)``."""

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return transpose(gy)
        inv_axes = tuple(np.argsort([ax % len(self.axes) for ax in self.axes]))
        return transpose(gy, inv_axes)


def transpose(x, axes=None) -> Variable:
    """Permute the axes of ``x`` (reverse them when ``axes`` is None)."""
    return Transpose(axes)(x)


class GetItem(Function):
    """``y = x[slices]``; ``gx`` = zeros of x's shape with ``gy`` added at ``slices``."""

    def __init__(self, slices):
        self.slices = slices

    def forward(self, x):
        return x[self.slices]

    def backward(self, gy):
        (x,) = self.inputs
        return GetItemGrad(self.slices, x.shape)(gy)


class GetItemGrad(Function):
    """Scatter-add ``gy`` into zeros of ``in_shape`` at ``slices``; backward ``get_item``.

    Repeated indices add up (``x[[0, 0]]`` sends both gradients to ``x[0]``), which
    ``gx[slices] += gy`` would not do, so ``backend.scatter_add`` is used.
    """

    def __init__(self, slices, in_shape):
        self.slices = slices
        self.in_shape = in_shape

    def forward(self, gy):
        xp = backend.get_array_module(gy)
        gx = xp.zeros(self.in_shape, dtype=gy.dtype)
        return backend.scatter_add(gx, self.slices, gy)

    def backward(self, ggx):
        return get_item(ggx, self.slices)


def get_item(x, slices) -> Variable:
    """``x[slices]`` for any NumPy index (ints, slices, integer arrays, masks)."""
    if isinstance(slices, Variable):
        slices = slices.data
    return GetItem(slices)(x)


def _keepdims_shape(x_shape, axis) -> tuple:
    """Shape of a reduction over ``axis`` with ``keepdims=True``."""
    ndim = len(x_shape)
    if axis is None:
        axes = range(ndim)
    elif isinstance(axis, int):
        axes = (axis % ndim,)
    else:
        axes = tuple(a % ndim for a in axis)
    return tuple(1 if i in axes else s for i, s in enumerate(x_shape))


class Sum(Function):
    """``y = x.sum(axis, keepdims)``; ``gx = broadcast_to(gy, x.shape)``."""

    def __init__(self, axis, keepdims):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        self.x_shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        gy = reshape(gy, _keepdims_shape(self.x_shape, self.axis))
        return broadcast_to(gy, self.x_shape)


def sum(x, axis=None, keepdims: bool = False) -> Variable:
    """Sum of the elements of ``x`` over ``axis`` (all axes when None)."""
    return Sum(axis, keepdims)(x)


class Max(Function):
    """``y = x.max(axis)``; the gradient goes to the elements equal to the maximum.

    At a tie every maximal element receives ``gy`` (as in DeZero), so check
    gradients away from ties.
    """

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0]
        y = self.outputs[0]()
        shape = _keepdims_shape(x.shape, self.axis)
        cond = x.data == y.data.reshape(shape)
        return broadcast_to(reshape(gy, shape), x.shape) * cond


class Min(Max):
    """``y = x.min(axis)``; the gradient goes to the elements equal to the minimum."""

    def forward(self, x):
        return x.min(axis=self.axis, keepdims=self.keepdims)


def max(x, axis=None, keepdims: bool = False) -> Variable:
    """Maximum of ``x`` over ``axis``."""
    return Max(axis, keepdims)(x)


def min(x, axis=None, keepdims: bool = False) -> Variable:
    """Minimum of ``x`` over ``axis``."""
    return Min(axis, keepdims)(x)


def _check_matmul(name, x, W):
    if x.ndim != 2 or W.ndim != 2 or x.shape[1] != W.shape[0]:
        hint = "x must be (N, D) and W (D, M)"
        if x.ndim > 2 and W.ndim == 2:
            hint = f"flatten x first with F.flatten(x) to (N, {int(np.prod(x.shape[1:]))})"
        raise ValueError(
            f"{name}: cannot multiply x of shape {x.shape} by W of shape {W.shape}; {hint}"
        )


class MatMul(Function):
    """``y = x @ W``; ``gx = gy @ W.T``, ``gW = x.T @ gy``.  Shapes (N, D) @ (D, M)."""

    def forward(self, x, W):
        _check_matmul("matmul", x, W)
        return x @ W

    def backward(self, gy):
        x, W = self.inputs
        gx = matmul(gy, W.T) if self.needs_input_grad[0] else None
        gW = matmul(x.T, gy) if self.needs_input_grad[1] else None
        return gx, gW


def matmul(x, W) -> Variable:
    """Matrix product of ``x`` (N, D) and ``W`` (D, M)."""
    return MatMul()(x, W)


# -- the operators and methods of Variable: attached here, and only here ------
def _reshape_method(self, *shape):
    """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``: ``reshape``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return reshape(self, tuple(shape))


def _transpose_method(self, *axes):
    """``x.transpose()``, ``x.transpose(1, 0)`` or ``x.transpose((1, 0))``: ``transpose``."""
    if len(axes) == 0:
        axes = None
    elif len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        axes = axes[0]
    return transpose(self, axes)


def _rmatmul(self, other):
    return matmul(other, self)


def setup_variable() -> None:
    """Attach the operators and tensor methods to ``Variable`` (``x + y`` calls ``add(x, y)``).

    Importing ``framework.autograd`` has already done it; calling it again is harmless.
    """
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
    Variable.__matmul__ = matmul
    Variable.__rmatmul__ = _rmatmul
    Variable.__getitem__ = get_item
    Variable.reshape = _reshape_method
    Variable.transpose = _transpose_method
    Variable.T = property(transpose, doc="Transpose (all axes reversed).")
    Variable.sum = sum
    Variable.max = max
    Variable.min = min
    Variable.dot = matmul
    Variable.matmul = matmul


setup_variable()
