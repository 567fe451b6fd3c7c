"""Elementwise math and activations as fused nodes: one ``Function`` each.

Fused means one node with a hand-derived ``backward``: fewer nodes, less memory and
no overflow in the intermediate steps.  Their twins built only from primitive
nodes (no backward written at all) are in :mod:`framework.autograd.composed`;
the tests check that both give the same numbers.
"""

from __future__ import annotations

from .. import backend
from .. import functions as _np_functions
from .core import Function, Variable

__all__ = [
    "exp",
    "log",
    "reciprocal",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "softmax",
    "log_softmax",
    "leaky_relu",
    "clip",
    "Exp",
    "Log",
    "Reciprocal",
    "Sin",
    "Cos",
    "Tanh",
    "Sigmoid",
    "ReLU",
    "Softmax",
    "LogSoftmax",
    "LeakyReLU",
    "Clip",
]


class Exp(Function):
    """``y = exp(x)``; ``gx = gy * y``."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.exp(x)

    def backward(self, gy):
        y = self.outputs[0]()  # the output, through its weakref
        return gy * y


def exp(x) -> Variable:
    """Elementwise ``e ** x``."""
    return Exp()(x)


class Log(Function):
    """``y = log(x)``; ``gx = gy / x``."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.log(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy / x


def log(x) -> Variable:
    """Elementwise natural logarithm."""
    return Log()(x)


class Reciprocal(Function):
    """``y = 1 / x``; ``gx = -gy * y**2``."""

    def forward(self, x):
        return 1.0 / x

    def backward(self, gy):
        y = self.outputs[0]()
        return -gy * y * y


def reciprocal(x) -> Variable:
    """Elementwise ``1 / x``."""
    return Reciprocal()(x)


class Sin(Function):
    """``y = sin(x)``; ``gx = gy * cos(x)``."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.sin(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * cos(x)


def sin(x) -> Variable:
    """Elementwise sine."""
    return Sin()(x)


class Cos(Function):
    """``y = cos(x)``; ``gx = -gy * sin(x)``."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.cos(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * -sin(x)


def cos(x) -> Variable:
    """Elementwise cosine."""
    return Cos()(x)


class Tanh(Function):
    """``y = tanh(x)``; ``gx = gy * (1 - y**2)``."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.tanh(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * (1 - y * y)


def tanh(x) -> Variable:
    """Elementwise hyperbolic tangent."""
    return Tanh()(x)


class Sigmoid(Function):
    """``y = 1 / (1 + exp(-x))``; ``gx = gy * y * (1 - y)``.

    Computed as ``0.5 * (1 + tanh(x / 2))``, which never overflows.
    """

    def forward(self, x):
        return _np_functions.sigmoid(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * y * (1 - y)


def sigmoid(x) -> Variable:
    """Logistic sigmoid (fused; the composed twin is ``composed.sigmoid``)."""
    return Sigmoid()(x)


class ReLU(Function):
    """``y = max(x, 0)``; ``gx = gy`` where ``x > 0``, else 0."""

    def forward(self, x):
        return _np_functions.relu(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * (x.data > 0)  # the mask is a constant: no gradient flows into it


def relu(x) -> Variable:
    """Rectified linear unit."""
    return ReLU()(x)


class Softmax(Function):
    """``y = exp(x) / sum(exp(x), axis)``; ``gx = y * gy - y * sum(y * gy, axis)``.

    Shapes: ``x``, ``y`` and the gradients share one shape, e.g. (N, C).
    """

    def __init__(self, axis=1):
        self.axis = axis

    def forward(self, x):
        return _np_functions.softmax(x, axis=self.axis)

    def backward(self, gy):
        y = self.outputs[0]()
        gx = y * gy
        return gx - y * gx.sum(axis=self.axis, keepdims=True)


def softmax(x, axis: int = 1) -> Variable:
    """Softmax along ``axis`` (computed with the row maximum subtracted)."""
    return Softmax(axis)(x)


class LogSoftmax(Function):
    """``y = x - log(sum(exp(x), axis))``; ``gx = gy - exp(y) * sum(gy, axis)``."""

    def __init__(self, axis=1):
        self.axis = axis

    def forward(self, x):
        return _np_functions.log_softmax(x, axis=self.axis)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy - exp(y) * gy.sum(axis=self.axis, keepdims=True)


def log_softmax(x, axis: int = 1) -> Variable:
    """Logarithm of the softmax along ``axis``, finite for any input."""
    return LogSoftmax(axis)(x)


class LeakyReLU(Function):
    """``y = x`` where ``x > 0``, else ``slope * x``; ``gx = gy`` or ``slope * gy`` likewise."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.where(x > 0, x, x * self.slope).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.inputs
        xp = backend.get_array_module(x.data)
        factor = xp.where(x.data > 0, 1.0, self.slope).astype(gy.dtype)  # a constant
        return gy * factor


def leaky_relu(x, slope: float = 0.2) -> Variable:
    """Leaky ReLU: negative inputs are scaled by ``slope`` instead of set to 0."""
    return LeakyReLU(slope)(x)


class Clip(Function):
    """``y = min(max(x, x_min), x_max)``; ``gx = gy`` where ``x_min <= x <= x_max``."""

    def __init__(self, x_min, x_max):
        self.x_min = x_min
        self.x_max = x_max

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.clip(x, self.x_min, self.x_max)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * ((x.data >= self.x_min) & (x.data <= self.x_max))


def clip(x, x_min, x_max) -> Variable:
    """Limit ``x`` to ``[x_min, x_max]``."""
    if x_min > x_max:
        raise ValueError(f"clip: expected x_min <= x_max, got x_min={x_min}, x_max={x_max}")
    return Clip(x_min, x_max)(x)
