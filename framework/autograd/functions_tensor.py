"""Tensor functions: reshape, transpose, indexing, sums, max/min and matrix products.

Each ``Function`` has ``forward`` on raw arrays next to ``backward`` written with
``Variable`` operations.  ``sum_to`` and ``broadcast_to`` live in ``arithmetic`` (every
binary operation needs them) and are re-exported by ``functions``.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .arithmetic import broadcast_to, sum_to
from .core import Function, Variable, as_variable

__all__ = [
    "reshape",
    "expand_dims",
    "flatten",
    "transpose",
    "get_item",
    "sum",
    "average",
    "mean",
    "sum_to",
    "broadcast_to",
    "matmul",
    "linear",
    "linear_simple",
    "max",
    "min",
    "Reshape",
    "Transpose",
    "GetItem",
    "GetItemGrad",
    "Sum",
    "MatMul",
    "Linear",
    "Max",
    "Min",
]


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


def expand_dims(x, axis: int) -> Variable:
    """Insert an axis of length 1 at position ``axis`` (a ``reshape``)."""
    x = as_variable(x)
    shape = list(x.shape)
    shape.insert(axis, 1)
    return reshape(x, tuple(shape))


def flatten(x) -> Variable:
    """Reshape ``(N, ...)`` to ``(N, D)``, keeping the batch axis."""
    return reshape(x, (x.shape[0], -1))


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


def average(x, axis=None, keepdims: bool = False) -> Variable:
    """Mean of ``x`` over ``axis``: ``sum(x, axis) * (y.size / x.size)``; also ``F.mean``."""
    x = as_variable(x)
    y = sum(x, axis, keepdims)
    return y * (y.size / x.size)


mean = average


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


class Linear(Function):
    """Fully connected: ``y = x @ W + b``.

    backward: ``gx = gy @ W.T``, ``gW = x.T @ gy``, ``gb = sum(gy, axis=0)``.
    Shapes: x (N, D), W (D, M), b (M,) or absent, y (N, M).
    """

    def forward(self, x, W, b=None):
        _check_matmul("linear", x, W)
        if b is not None and b.shape != (W.shape[1],):
            raise ValueError(
                f"linear: expected b of shape ({W.shape[1]},) to match W {W.shape}, got {b.shape}"
            )
        y = x @ W
        return y if b is None else y + b

    def backward(self, gy):
        x, W = self.inputs[:2]
        # A plain-array x (a network's input) needs no gradient: skip that product.
        gx = matmul(gy, W.T) if self.needs_input_grad[0] else None
        gW = matmul(x.T, gy) if self.needs_input_grad[1] else None
        if len(self.inputs) == 2:
            return gx, gW
        return gx, gW, sum_to(gy, self.inputs[2].shape)


def linear(x, W, b=None) -> Variable:
    """``x @ W + b`` as one node (cheaper than ``matmul`` then ``add``)."""
    return Linear()(x, W) if b is None else Linear()(x, W, b)


def linear_simple(x, W, b=None) -> Variable:
    """``x @ W + b`` as two nodes, ``matmul`` then ``add`` (the plain twin of ``linear``).

    The product ``t`` is needed by no backward (``add`` passes its gradient
    through), so its array is released at once to save memory, as in DeZero.
    """
    t = matmul(x, W)
    if b is None:
        return t
    y = t + b
    t.data = None  # no backward reads it
    return y
