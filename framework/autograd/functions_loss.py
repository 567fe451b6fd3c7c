"""Loss functions and the accuracy metric for autograd models.

A loss that comes out NaN or infinite is never returned silently: the function
raises ``FloatingPointError`` naming itself, as the loss layers do.
"""

from __future__ import annotations

from .. import backend
from .. import functions as _np_functions
from .arithmetic import broadcast_to
from .core import Function, Variable, as_array, as_variable
from .functions_math import softmax

__all__ = ["mean_squared_error", "softmax_cross_entropy", "accuracy"]


def _check_finite(name: str, loss):
    xp = backend.get_array_module(loss)
    if not bool(xp.isfinite(loss)):
        raise FloatingPointError(
            f"{name}: loss is {float(loss)}; the inputs hold nan/inf or the weights have "
            "diverged, try a lower learning rate"
        )


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
    """Mean over the batch of the summed squared error between ``x0`` and ``x1``."""
    return MeanSquaredError()(x0, x1)


def _check_targets(x, t):
    """Raise ValueError/TypeError unless ``t`` fits scores ``x`` of shape (N, C)."""
    if x.ndim != 2:
        raise ValueError(
            f"softmax_cross_entropy: expected scores x of shape (N, C), got {x.shape}"
        )
    N, C = x.shape
    if t.shape == x.shape and t.dtype.kind == "f":
        return
    if t.ndim != 1 or t.dtype.kind not in "iu":
        raise TypeError(
            f"softmax_cross_entropy: expected t as integer labels of shape ({N},) or one-hot "
            f"rows of shape {x.shape}, got {t.dtype} array of shape {t.shape}"
        )
    if t.shape[0] != N:
        raise ValueError(
            f"softmax_cross_entropy: x has {N} rows but t has {t.shape[0]} labels; "
            "x and t must hold the same samples"
        )
    if N and (int(t.min()) < 0 or int(t.max()) >= C):
        raise ValueError(
            f"softmax_cross_entropy: expected labels in [0, {C - 1}] for {C} classes, got "
            f"values from {int(t.min())} to {int(t.max())}"
        )


class SoftmaxCrossEntropy(Function):
    """Softmax then cross-entropy, fused: ``loss = -sum(t * log softmax(x)) / N``.

    backward: ``gx = (softmax(x) - t) * gy / N`` (``t`` as one-hot rows); the
    labels get no gradient.  Shapes: x (N, C); t (N,) labels or (N, C) rows.
    """

    def forward(self, x, t):
        _check_targets(x, t)
        xp = backend.get_array_module(x)
        N = x.shape[0]
        logp = _np_functions.log_softmax(x)
        picked = logp[xp.arange(N), t] if t.ndim == 1 else (t * logp).sum(axis=1)
        loss = -picked.sum() / N
        _check_finite("softmax_cross_entropy", loss)
        return loss

    def backward(self, gy):
        x, t = self.inputs
        N, C = x.shape
        xp = backend.get_array_module(x.data)
        t_rows = t.data if t.shape == x.shape else xp.eye(C, dtype=x.dtype)[t.data]  # one-hot
        return (softmax(x) - t_rows) * (gy / N), None


def softmax_cross_entropy(x, t) -> Variable:
    """Cross-entropy of the softmax of scores ``x`` against labels ``t`` (batch mean)."""
    return SoftmaxCrossEntropy()(x, t)


def accuracy(y, t) -> Variable:
    """Fraction of rows of ``y`` whose largest score is at the label ``t`` (no gradient)."""
    y, t = as_variable(y), as_variable(t)
    labels = t.data.argmax(axis=1) if t.ndim == 2 else t.data
    if len(labels) != len(y):
        raise ValueError(
            f"accuracy: y has {len(y)} rows but t has {len(labels)} labels; "
            "they must hold the same samples"
        )
    pred = y.data.argmax(axis=1).reshape(labels.shape)
    acc = (pred == labels).mean()
    return Variable(as_array(acc, backend.get_array_module(acc)))
