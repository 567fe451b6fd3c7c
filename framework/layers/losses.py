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
from ..functions import check_labels, log_softmax, softmax
from ._checks import checked_input, require_forward

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


def _cross_entropy(y, t, x) -> float:
    """``-sum(t * log y) / N`` for probabilities ``y = softmax(x)``, labels or target rows.

    ``log y`` is read from ``y`` itself, except where it cannot be: for target rows,
    and when a probability that counts underflowed (a score far below the
    maximum), it is taken from the scores as ``log_softmax(x)``, which stays
    finite (the book adds ``1e-7`` inside the log instead).  Sums of float16
    values are accumulated in float32.
    """
    xp = get_array_module(y)
    N = y.shape[0]
    rows = xp.arange(N)
    p = y[rows, t] if t.ndim == 1 else None  # the probability of each right class
    if p is not None and bool(p.min() >= xp.finfo(y.dtype).tiny):  # NaN: False
        log_p = xp.log(p)
    else:
        log_y = log_softmax(x)
        log_p = log_y[rows, t] if t.ndim == 1 else t * log_y
    return -float(log_p.sum(dtype=np.promote_types(y.dtype, np.float32))) / N


class SoftmaxWithLoss:
    """Softmax followed by cross-entropy, fused so the gradient is simple.

    forward: ``y = softmax(x)``, ``loss = -sum(t * log y) / N`` (with ``log y`` from
    the scores, finite even for scores of 1e4).
    backward: ``dx = dout * (y - t) / N``.

    ``t`` is either integer class labels of shape (N,) or (N, 1), or one-hot (or
    soft) target rows of shape (N, C), each a distribution: ``t`` is read as rows
    only when it has the scores' shape.  The checks are
    :func:`~framework.functions.check_labels`.
    """

    def __init__(self):
        self.y = None  # softmax output, shape (N, C)
        self.t = None  # labels (N,) or target rows (N, C)
        self.loss = None

    def forward(self, x, t):
        x, t = self._checked(x, t)
        self.t = t
        self.y = softmax(x)
        self.loss = _cross_entropy(self.y, self.t, x)
        if not math.isfinite(self.loss):
            _warn_not_finite(self, self.loss, x=x, t=t)
        return self.loss

    def backward(self, dout=1):
        require_forward(self, self.y)
        batch_size = self.t.shape[0]
        if self.t.ndim == 2:  # one-hot (or soft) target rows
            dx = self.y - self.t
        else:
            dx = self.y.copy()
            dx[get_array_module(dx).arange(batch_size), self.t] -= 1
        dx *= dout / batch_size  # in place: dx is a new array of our own
        return dx

    def _checked(self, x, t):
        """Check scores (N, C) and targets; return them ready for the math."""
        if getattr(x, "ndim", 0) != 2:
            got = getattr(x, "shape", type(x).__name__)
            raise ValueError(
                f"SoftmaxWithLoss.forward: expected scores x of shape (N, C), got {got}"
            )
        x = checked_input(self, x)
        return x, check_labels("SoftmaxWithLoss.forward", t, x.shape, x.dtype)


class MeanSquaredError:
    """Regression loss: half the squared error, averaged over the batch.

    forward: ``loss = sum((y - t)**2) / (2 N)``; backward: ``dy = dout * (y - t) / N``.
    The prediction ``y`` passes through unchanged (an identity output layer).
    """

    def __init__(self):
        self.diff = None  # y - t

    def forward(self, y, t):
        y, t = self._checked(y, t)
        N = y.shape[0] if y.ndim > 0 else 1
        self.diff = y - t
        loss = 0.5 * float((self.diff**2).sum()) / N
        if not math.isfinite(loss):
            _warn_not_finite(self, loss, y=y, t=t)
        return loss

    def backward(self, dout=1):
        require_forward(self, self.diff)
        N = self.diff.shape[0] if self.diff.ndim > 0 else 1
        return self.diff * (dout / N)

    def _checked(self, y, t):
        """Check ``y`` (float, not empty) and ``t`` of its shape; return ``t`` in ``y``'s dtype."""
        if getattr(y, "shape", None) != getattr(t, "shape", None):
            raise ValueError(
                f"MeanSquaredError.forward: expected t of the shape of y "
                f"{getattr(y, 'shape', None)}, got {getattr(t, 'shape', type(t).__name__)}"
            )
        y = checked_input(self, y, name="y")
        return y, get_array_module(y).asarray(t).astype(y.dtype, copy=False)
