"""Elementwise math, activations and losses: one fused ``Function`` each.

Fused means one node with a hand-derived ``backward``: fewer nodes, less memory and
no overflow in the intermediate steps.  Their twins built only from primitive
nodes (no backward written at all) are in :mod:`framework.autograd.composed`;
the tests check that both give the same numbers.

A loss that comes out NaN or infinite is never returned silently: the function
returns it with a ``RuntimeWarning`` naming itself and the likely cause, as the
loss layers do (the books let some networks diverge on purpose).  Labels ``t``
for the classification losses and ``accuracy`` are class indices of shape (N,)
or (N, 1); they are one-hot rows only when ``t`` has the scores' shape.
"""

from __future__ import annotations

import warnings

from .. import backend
from .. import functions as _np_functions
from .core import Config, Function, Variable, as_array, as_variable
from .operators import broadcast_to, sum

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
    "mean_squared_error",
    "mean_squared_error_simple",
    "softmax_cross_entropy",
    "sigmoid_cross_entropy",
    "binary_cross_entropy",
    "accuracy",
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
    "MeanSquaredError",
    "SoftmaxCrossEntropy",
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


# -- losses and the accuracy metric -------------------------------------------
def _check_finite(name: str, loss):
    """Warn (``RuntimeWarning``) when ``loss`` is NaN or infinite; the value is kept."""
    xp = backend.get_array_module(loss)
    if not bool(xp.isfinite(loss)):
        warnings.warn(
            f"{name}: loss is {float(loss)}; the inputs hold nan/inf or the weights have "
            "diverged, try a lower learning rate",
            RuntimeWarning,
            stacklevel=4,
        )


def mean_squared_error_simple(x0, x1) -> Variable:
    """``sum((x0 - x1)**2) / N`` from primitive nodes (the twin of ``mean_squared_error``)."""
    x0, x1 = as_variable(x0), as_variable(x1)
    diff = x0 - x1
    return sum(diff**2) / len(diff)


class MeanSquaredError(Function):
    """``y = sum((x0 - x1)**2) / N`` (DeZero's form: no factor 1/2, N = len(x0)).

    backward: ``gx0 = gy * 2 (x0 - x1) / N``, ``gx1 = -gx0``.  The book's
    ``MeanSquaredError`` layer halves this loss, and its gradient with it.
    """

    def forward(self, x0, x1):
        if x0.shape != x1.shape:
            raise ValueError(
                f"mean_squared_error: expected x0 and x1 of one shape, got {x0.shape} and "
                f"{x1.shape}; reshape the target, e.g. t.reshape({x0.shape})"
            )
        diff = x0 - x1
        y = (diff * diff).sum() / len(diff)
        _check_finite("mean_squared_error", y)
        return y

    def backward(self, gy):
        x0, x1 = self.inputs
        diff = x0 - x1
        gx0 = broadcast_to(gy, diff.shape) * diff * (2.0 / len(diff))
        return gx0, -gx0


def mean_squared_error(x0, x1) -> Variable:
    """Mean over the batch of the summed squared error between ``x0`` and ``x1``.

    A target ``x1`` with as many elements as ``x0`` but another shape is reshaped
    to ``x0``'s shape (DeZero's step 59 compares a (1, 1) output with a (1,)
    target); other shapes are refused, because broadcasting (N, 1) against (N,)
    would silently compare every pair.
    """
    x0, x1 = as_variable(x0), as_variable(x1)
    if x0.shape != x1.shape and x0.size == x1.size:
        x1 = x1.reshape(x0.shape)
    return MeanSquaredError()(x0, x1)


def _is_one_hot(y, t) -> bool:
    """One-hot rows only when ``t`` has the scores' shape (N, C) with C > 1."""
    return t.ndim == 2 and t.shape == y.shape and y.shape[1] > 1


class SoftmaxCrossEntropy(Function):
    """Softmax then cross-entropy, fused: ``loss = -sum(t * log softmax(x)) / N``.

    backward: ``gx = (softmax(x) - t) * gy / N`` (``t`` as one-hot rows); the
    labels get no gradient.  Shapes: x (N, C); t (N,) or (N, 1) labels or (N, C) rows.
    The targets are checked by :func:`framework.functions.check_labels`, the
    label checker of the layer world too.
    """

    def forward(self, x, t):
        if x.ndim != 2:
            raise ValueError(
                f"softmax_cross_entropy: expected scores x of shape (N, C), got {x.shape}"
            )
        self.t = _np_functions.check_labels("softmax_cross_entropy", t, x.shape, x.dtype)
        xp = backend.get_array_module(x)
        N = x.shape[0]
        log_p = _np_functions.log_softmax(x)
        self.y = _np_functions._exp_shifted(log_p)  # softmax(x), kept for backward
        picked = log_p[xp.arange(N), self.t] if self.t.ndim == 1 else (self.t * log_p).sum(axis=1)
        loss = -picked.sum() / N
        _check_finite("softmax_cross_entropy", loss)
        return loss

    def backward(self, gy):
        x = self.inputs[0]
        N, C = x.shape
        xp = backend.get_array_module(x.data)
        t_rows = self.t if self.t.ndim == 2 else xp.eye(C, dtype=x.dtype)[self.t]
        # Recording the backward (create_graph) needs softmax(x) as a node of x;
        # otherwise the forward's softmax is the same numbers, already computed.
        y = softmax(x) if Config.enable_backprop else self.y
        return (y - t_rows) * (gy / N), None


def softmax_cross_entropy(x, t) -> Variable:
    """Cross-entropy of the softmax of scores ``x`` against labels ``t`` (batch mean)."""
    return SoftmaxCrossEntropy()(x, t)


def _binary_targets(name, p, t):
    """``t`` reshaped to ``p``'s shape (DeZero reshapes (N,) to (N, 1)); else ValueError."""
    t = as_variable(t)
    if t.shape != p.shape:
        if t.size != p.size:
            raise ValueError(
                f"{name}: expected t with one target per element of x, of shape {p.shape}, "
                f"got {t.shape}"
            )
        t = t.reshape(p.shape)
    return t


def sigmoid_cross_entropy(x, t) -> Variable:
    """Binary cross-entropy of ``sigmoid(x)`` against targets ``t`` in {0, 1}.

    ``loss = -sum(t log p + (1 - t) log(1 - p)) / N`` with ``p = sigmoid(x)``
    clipped to ``[1e-15, 1]`` (DeZero's guard against ``log(0)``).  Shapes: x (N, 1)
    or (N,), t of x's size.
    """
    x = as_variable(x)
    t = _binary_targets("sigmoid_cross_entropy", x, t)
    p = clip(sigmoid(x), 1e-15, 1.0)
    tlog_p = t * log(p) + (1 - t) * log(1 - p)
    return -1 * sum(tlog_p) / len(x)


def binary_cross_entropy(p, t) -> Variable:
    """Binary cross-entropy of probabilities ``p`` against targets ``t`` in {0, 1}.

    ``loss = -sum(t log p + (1 - t) log(1 - p)) / N`` with ``p`` clipped to
    ``[1e-15, 0.999]`` as in DeZero (so ``log(1 - p)`` stays finite).
    """
    p = as_variable(p)
    t = _binary_targets("binary_cross_entropy", p, t)
    p = clip(p, 1e-15, 0.999)
    tlog_p = t * log(p) + (1 - t) * log(1 - p)
    return -1 * sum(tlog_p) / len(t)


def accuracy(y, t) -> Variable:
    """Fraction of rows of ``y`` whose largest score is at the label ``t`` (no gradient).

    ``t``: labels (N,) or (N, 1), or one-hot rows of ``y``'s shape.
    """
    y, t = as_variable(y), as_variable(t)
    labels = t.data.argmax(axis=1) if _is_one_hot(y, t) else t.data.ravel()
    if len(labels) != len(y):
        raise ValueError(
            f"accuracy: y has {len(y)} rows but t has {len(labels)} labels; "
            "they must hold the same samples"
        )
    pred = y.data.argmax(axis=1).reshape(labels.shape)
    acc = (pred == labels).mean()
    return Variable(as_array(acc, backend.get_array_module(acc)))
