"""Stateless array math shared by the layers and the autograd engine.

Each function takes NumPy or CuPy arrays (``xp = get_array_module(x)``) and never
modifies its inputs.  The layers in :mod:`framework.layers` cache what their
``backward`` needs; the functions here only compute.
"""

from __future__ import annotations

from .backend import get_array_module

__all__ = [
    "sigmoid",
    "relu",
    "softmax",
    "log_softmax",
    "cross_entropy_error",
    "mean_squared_error",
    "one_hot",
    "sum_to",
]


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    ``0.5 * (1 + tanh(x / 2))`` is the same function; ``tanh`` saturates instead
    of overflowing, so large negative inputs give 0 with no warning.
    """
    xp = get_array_module(x)
    return 0.5 * (1.0 + xp.tanh(0.5 * x))


def relu(x):
    """Rectified linear unit ``max(0, x)``."""
    xp = get_array_module(x)
    return xp.maximum(x, 0)


def softmax(x, axis: int = -1):
    """Softmax along ``axis``: ``exp(x - max) / sum(exp(x - max))``.

    Subtracting the row maximum leaves the result unchanged and keeps ``exp``
    from overflowing (the book's "overflow countermeasure").
    """
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis: int = -1):
    """Logarithm of the softmax, ``x - max - log(sum(exp(x - max)))``, stable for any x."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def cross_entropy_error(y, t):
    """Mean cross-entropy ``-sum(t * log y) / N`` of probabilities ``y``.

    Parameters
    ----------
    y : array, shape (N, C) or (C,)
        Predicted probabilities (rows of a softmax).
    t : array, shape (N,) or (), integer class indices, or the one-hot shape of ``y``.

    Returns
    -------
    float
        The batch mean; a single sample counts as a batch of one.  A small
        ``1e-7`` inside the log keeps ``log(0)`` finite, as in the book.
    """
    xp = get_array_module(y)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.ndim == 1 and t.size == y.size else t.reshape(1)
    if t.shape == y.shape:  # one-hot rows -> indices
        t = t.argmax(axis=1)
    n = y.shape[0]
    return float(-xp.log(y[xp.arange(n), t] + 1e-7).sum() / n)


def mean_squared_error(y, t):
    """Half the squared error, averaged over the batch: ``sum((y - t)**2) / (2 N)``."""
    n = y.shape[0] if y.ndim > 1 else 1
    return float(0.5 * ((y - t) ** 2).sum() / n)


def one_hot(t, num_classes: int, dtype=None):
    """Turn integer labels of shape (N,) into one-hot rows of shape (N, num_classes).

    Raises
    ------
    ValueError
        When a label is negative or not below ``num_classes``.
    """
    xp = get_array_module(t)
    t = xp.asarray(t)
    if t.size and (int(t.min()) < 0 or int(t.max()) >= num_classes):
        raise ValueError(
            f"one_hot: expected labels in [0, {num_classes - 1}], "
            f"got values from {int(t.min())} to {int(t.max())}"
        )
    out = xp.zeros((t.size, num_classes), dtype=dtype or "float32")
    out[xp.arange(t.size), t.reshape(-1)] = 1
    return out.reshape(*t.shape, num_classes)


def sum_to(x, shape: tuple):
    """Sum ``x`` down to ``shape``: the backward of numpy broadcasting.

    Leading axes that broadcasting added are summed away, and axes where
    ``shape`` has 1 are summed with ``keepdims``.
    """
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    y = x.sum(axis=axes, keepdims=True)
    if lead > 0:
        y = y.reshape(y.shape[lead:])
    return y.reshape(shape)
