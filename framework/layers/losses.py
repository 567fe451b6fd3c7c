"""Loss layers: the last layer of a net, ``forward(x, t)`` gives a scalar loss.

A loss that comes out NaN or infinite is returned, as in the book (whose
``batch_norm_test.py`` lets some nets diverge on purpose), but never silently: the
layer warns with a ``RuntimeWarning`` naming itself, the input that was not finite
and the likely cause.  The ``Trainer`` stops on such a loss.

dtypes: a loss computes in the scores' dtype; targets are cast to it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..backend import get_array_module
from ._checks import check_float, require_forward

__all__ = ["SoftmaxWithLoss", "MeanSquaredError"]


def _warn_not_finite(layer, loss, **arrays) -> None:
    """Warn that ``loss`` is NaN or infinite, naming the input that caused it."""
    xp = get_array_module(*arrays.values())
    cause = "the scores overflowed"
    for name, a in arrays.items():
        bad = int((~xp.isfinite(a)).sum())
        if bad:
            cause = f"input {name} holds {bad} nan/inf values"
            break
    warnings.warn(
        f"{type(layer).__name__}.forward: loss is {loss} because {cause}; the weights have "
        "probably diverged, try a lower learning rate or smaller initial weights",
        RuntimeWarning,
        stacklevel=3,
    )


class SoftmaxWithLoss:
    """Softmax followed by cross-entropy, fused so the gradient is simple.

    forward: ``y = softmax(x)``, ``loss = -sum(t * log y) / N`` (computed as
    ``log z - (x - max)`` with ``z = sum(exp(x - max))``, finite even for scores of 1e4).
    backward: ``dx = dout * (y - t) / N``.

    ``t`` is either integer class labels of shape (N,) or (N, 1), or one-hot (or
    soft) target rows of shape (N, C): ``t`` is one-hot only when it has the
    scores' shape.
    """

    def __init__(self):
        self.y = None  # softmax output, shape (N, C)
        self.t = None  # labels (N,) or target rows (N, C)
        self.loss = None

    def forward(self, x, t):
        xp = get_array_module(x)
        if getattr(x, "ndim", 0) != 2:
            got = getattr(x, "shape", type(x).__name__)
            raise ValueError(
                f"SoftmaxWithLoss.forward: expected scores x of shape (N, C), got {got}"
            )
        check_float(self, "x", x)
        N, C = x.shape
        t = xp.asarray(t)
        if t.shape == x.shape and t.dtype.kind in "biuf":
            t = t.astype(x.dtype, copy=False)  # float64 one-hot rows keep a float32 net float32
        elif t.shape == (N, 1) and t.dtype.kind in "iu":
            t = t.reshape(N)  # a column of class indices
        if t.ndim == 1 and t.dtype.kind in "iu":
            if t.shape[0] != N:
                raise ValueError(
                    f"SoftmaxWithLoss.forward: x has {N} rows but t has {t.shape[0]} labels; "
                    "x and t must hold the same samples"
                )
            # Read as unsigned, a negative label becomes huge: one max() checks both ends.
            if int(t.view(f"u{t.itemsize}").max()) >= C:
                lo, hi = int(t.min()), int(t.max())
                raise ValueError(
                    f"SoftmaxWithLoss.forward: expected labels in [0, {C - 1}] for {C} "
                    f"classes, got values from {lo} to {hi}"
                )
        elif t.shape != x.shape or t.dtype.kind != "f":
            # Labels or one-hot rows of the wrong length: ValueError; any other t: TypeError.
            right_kind = t.ndim in (1, 2) and t.dtype.kind in ("iu" if t.ndim == 1 else "biuf")
            error = ValueError if right_kind else TypeError
            raise error(
                f"SoftmaxWithLoss.forward: expected t as integer labels of shape ({N},) or "
                f"({N}, 1), or one-hot rows of shape {x.shape}, got {t.dtype} array of shape "
                f"{t.shape}"
            )
        shifted = x - x.max(axis=1, keepdims=True)  # same softmax, and exp cannot overflow
        e = xp.exp(shifted)
        z = e.sum(axis=1, keepdims=True)
        # -log y = log z - shifted: finite even where y itself underflows to 0.
        # Sums of float16 scores are accumulated in float32, where they cannot overflow.
        acc = np.promote_types(x.dtype, np.float32)
        if t.ndim == 1:
            loss = float(xp.log(z).sum(dtype=acc) - shifted[xp.arange(N), t].sum(dtype=acc)) / N
        else:
            loss = float((t * (xp.log(z) - shifted)).sum(dtype=acc)) / N
        if not math.isfinite(loss):
            _warn_not_finite(self, loss, x=x, t=t)
        e /= z  # e is our own array: it becomes y = softmax(x) in place
        self.y = e
        self.t = t
        self.loss = loss
        return loss

    def backward(self, dout=1):
        require_forward(self, self.y)
        N = self.y.shape[0]
        if self.t.ndim == 1:
            dx = self.y.copy()
            dx[get_array_module(dx).arange(N), self.t] -= 1
        else:
            dx = self.y - self.t
        dx *= dout / N
        return dx


class MeanSquaredError:
    """Regression loss: half the squared error, averaged over the batch.

    forward: ``loss = sum((y - t)**2) / (2 N)``; backward: ``dy = dout * (y - t) / N``.
    The prediction ``y`` passes through unchanged (an identity output layer).
    """

    def __init__(self):
        self.diff = None  # y - t

    def forward(self, y, t):
        if getattr(y, "shape", None) != getattr(t, "shape", None):
            raise ValueError(
                f"MeanSquaredError.forward: expected t of the shape of y "
                f"{getattr(y, 'shape', None)}, got {getattr(t, 'shape', type(t).__name__)}"
            )
        check_float(self, "y", y)
        xp = get_array_module(y)
        N = y.shape[0] if y.ndim > 0 else 1
        self.diff = y - xp.asarray(t).astype(y.dtype, copy=False)  # float32 y stays float32
        loss = 0.5 * float((self.diff * self.diff).sum()) / N
        if not math.isfinite(loss):
            _warn_not_finite(self, loss, y=y, t=t)
        return loss

    def backward(self, dout=1):
        require_forward(self, self.diff)
        N = self.diff.shape[0] if self.diff.ndim > 0 else 1
        return self.diff * (dout / N)
