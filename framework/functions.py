"""Stateless array math shared by the layers and the autograd engine.

Each function takes NumPy or CuPy arrays (``xp = get_array_module(x)``) and never
modifies its inputs.  The layers in :mod:`framework.layers` cache what their
``backward`` needs; the functions here only compute.
"""

from __future__ import annotations

import numpy as np

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
    "pair",
    "conv_output_size",
    "im2col",
    "col2im",
    "im2col_channels_last",
    "col2im_channels_last",
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


def pair(value) -> tuple:
    """``3`` -> ``(3, 3)``; a pair ``(h, w)`` stays as it is (DeZero's ``utils.pair``).

    Stride and pad of the convolution helpers may differ along H and W.
    """
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    raise ValueError(f"pair: expected an int or a pair (h, w) of ints, got {value!r}")


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """Output length of a convolution or pooling along one axis.

    ``out = (input_size + 2 * pad - filter_size) // stride + 1``; the book's
    formula, which drops input rows that a last step of ``stride`` cannot reach.
    """
    return (input_size + 2 * pad - filter_size) // stride + 1


def im2col(input_data, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0):
    """Unroll every filter window of an image batch into one row of a matrix.

    A convolution then becomes one matrix product: ``col @ W.reshape(FN, -1).T``.

    Parameters
    ----------
    input_data : array, shape (N, C, H, W)
    filter_h, filter_w : int
        Window size.
    stride, pad : int or pair (h, w)
        Step between windows; zeros added on each side of H and W.

    Returns
    -------
    array, shape (N * out_h * out_w, C * filter_h * filter_w)
        Row ``(n, i, j)`` holds window ``(i, j)`` of image ``n``, in the book's
        column order ``(c, y, x)``.
    """
    xp = get_array_module(input_data)
    N, C, H, W = input_data.shape
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    out_h = conv_output_size(H, filter_h, sh, ph)
    out_w = conv_output_size(W, filter_w, sw, pw)
    img = input_data
    if ph or pw:
        img = xp.pad(input_data, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    # A strided view of every window, (N, C, out_h, out_w, filter_h, filter_w); no copy yet.
    windows = xp.lib.stride_tricks.sliding_window_view(img, (filter_h, filter_w), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw][:, :, :out_h, :out_w]
    # The one copy: reorder to (N, out_h, out_w, C, filter_h, filter_w) and flatten.
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape: tuple, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0):
    """Fold rows made by :func:`im2col` back into images, summing where windows overlap.

    This is the backward of ``im2col``: every input pixel receives the sum of
    the entries of all windows that contain it.

    Parameters
    ----------
    col : array, shape (N * out_h * out_w, C * filter_h * filter_w)
    input_shape : tuple (N, C, H, W)
        Shape of the images given to ``im2col``.
    filter_h, filter_w, stride, pad : int
        As given to ``im2col``.

    Returns
    -------
    array, shape (N, C, H, W), dtype of ``col``
    """
    xp = get_array_module(col)
    N, C, H, W = input_shape
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    out_h = conv_output_size(H, filter_h, sh, ph)
    out_w = conv_output_size(W, filter_w, sw, pw)
    # A view as (N, C, filter_h, filter_w, out_h, out_w), the book's order; no copy.
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=col.dtype)
    # One slice-add per kernel position (y, x): a plain += on a strided slice never
    # repeats an index, so overlapping windows are all summed.
    for y in range(filter_h):
        y_max = y + sh * out_h
        for x in range(filter_w):
            x_max = x + sw * out_w
            img[:, :, y:y_max:sh, x:x_max:sw] += col[:, :, y, x]
    return img[:, :, ph : H + ph, pw : W + pw]


def im2col_channels_last(x, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0):
    """:func:`im2col` for images stored channels-last, (N, H, W, C); columns ``(y, x, c)``.

    The same windows as ``im2col``, with the columns of a row in the order
    ``(y, x, c)``: each window pixel copies its C channels as one contiguous run,
    which makes this several times faster than the book's ``(c, y, x)`` order
    when C is large.  Multiply with ``W.transpose(0, 2, 3, 1).reshape(FN, -1)``.

    Parameters
    ----------
    x : array, shape (N, H, W, C)
    filter_h, filter_w, stride, pad : int
        As for ``im2col``.

    Returns
    -------
    array, shape (N * out_h * out_w, filter_h * filter_w * C)
    """
    xp = get_array_module(x)
    N, H, W, C = x.shape
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    out_h = conv_output_size(H, filter_h, sh, ph)
    out_w = conv_output_size(W, filter_w, sw, pw)
    if ph or pw:
        x = xp.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    windows = xp.lib.stride_tricks.sliding_window_view(x, (filter_h, filter_w), axis=(1, 2))
    windows = windows[:, ::sh, ::sw][:, :out_h, :out_w]  # (N, oh, ow, C, fh, fw)
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(N * out_h * out_w, -1)


def col2im_channels_last(
    col, input_shape: tuple, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0
):
    """Fold rows made by :func:`im2col_channels_last` back into (N, H, W, C) images.

    The backward of ``im2col_channels_last``: overlapping windows are summed, with
    one slice-add per kernel position (y, x), as in :func:`col2im`.
    """
    xp = get_array_module(col)
    N, H, W, C = input_shape
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    out_h = conv_output_size(H, filter_h, sh, ph)
    out_w = conv_output_size(W, filter_w, sw, pw)
    col = col.reshape(N, out_h, out_w, filter_h, filter_w, C)
    img = xp.zeros((N, H + 2 * ph, W + 2 * pw, C), dtype=col.dtype)
    for y in range(filter_h):
        y_max = y + sh * out_h
        for x in range(filter_w):
            x_max = x + sw * out_w
            img[:, y:y_max:sh, x:x_max:sw, :] += col[:, :, :, y, x, :]
    return img[:, ph : H + ph, pw : W + pw, :]
