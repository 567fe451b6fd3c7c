"""Stateless array math shared by the layers and the autograd engine.

Each function takes NumPy or CuPy arrays (``xp = get_array_module(x)``) and never
modifies its inputs.  The layers in :mod:`framework.layers` cache what their
``backward`` needs; the functions here only compute.
"""

from __future__ import annotations

import numpy as np

from .backend import get_array_module, to_cpu

__all__ = [
    "identity_function",
    "step_function",
    "sigmoid",
    "sigmoid_grad",
    "relu",
    "relu_grad",
    "softmax",
    "log_softmax",
    "sum_squared_error",
    "mean_squared_error",
    "cross_entropy_error",
    "softmax_loss",
    "one_hot",
    "check_labels",
    "sum_to",
    "smooth_curve",
    "shuffle_dataset",
    "pair",
    "conv_output_size",
    "im2col",
    "col2im",
    "im2col_channels_last",
    "col2im_channels_last",
]


def identity_function(x):
    """Identity ``y = x``: the output activation of a regression net (book chapter 3).

    Returns ``x`` itself, not a copy.
    """
    return x


def step_function(x):
    """Step function ``y = 1 if x > 0 else 0``, as an integer array (book chapter 3).

    Parameters
    ----------
    x : array or number

    Returns
    -------
    array of int, shape of ``x``
        ``0`` at ``x = 0``; a number gives a 0-d array, as in the book.
    """
    xp = get_array_module(x)
    return xp.array(x > 0, dtype=int)


def sigmoid(x):
    """Logistic sigmoid ``y = 1 / (1 + exp(-x))``: the book's formula, without its warning.

    For very negative ``x`` (below about -709 in float64, -88 in float32)
    ``exp(-x)`` overflows to ``inf`` and ``y`` becomes 0, the correct limit.  NumPy
    warns about that overflow (the book's sigmoid prints a ``RuntimeWarning``) and
    raises under ``np.seterr(all="raise")``; here it is harmless, so it is
    silenced.  The numbers are the book's, bit for bit.  (The overflow-free
    shortcut ``0.5 * (1 + tanh(x / 2))`` returns 0 already at ``x = -40``, where
    ``y = 4.2e-18``.)

    Parameters
    ----------
    x : array or number

    Returns
    -------
    array of the shape (and float dtype) of ``x``
    """
    xp = get_array_module(x)
    with np.errstate(over="ignore", under="ignore"):  # exp(1000) = inf gives y = 0: harmless
        return 1.0 / (1.0 + xp.exp(-x))


def sigmoid_grad(x):
    """Return the derivative of the sigmoid at ``x``: ``dy/dx = (1 - sigmoid(x)) * sigmoid(x)``.

    ``x`` is the input of the sigmoid, not its output (book ``common/functions.py``).
    """
    y = sigmoid(x)
    return (1.0 - y) * y


def relu(x):
    """Rectified linear unit ``y = max(0, x)``."""
    xp = get_array_module(x)
    return xp.maximum(x, 0)


def relu_grad(x):
    """Return the derivative of ReLU at ``x``: 1 where ``x >= 0``, else 0, in the dtype of ``x``.

    At ``x = 0`` the book's ``relu_grad`` returns 1 (any value in [0, 1] is a valid
    subgradient there); the :class:`~framework.layers.Relu` layer uses 0.
    """
    xp = get_array_module(x)
    x = xp.asarray(x)
    return (x >= 0).astype(x.dtype)


def softmax(x, axis: int = -1):
    """Softmax along ``axis``: ``y_k = exp(x_k - max) / sum_j exp(x_j - max)``.

    Subtracting the maximum leaves the result unchanged and keeps ``exp``
    from overflowing (the book's "overflow countermeasure").  A 1-D ``x`` is one
    sample; a 2-D ``x`` is a batch with one sample per row.  Scores far below the
    maximum give 0 (see :func:`_exp_shifted`).
    """
    shifted = x - x.max(axis=axis, keepdims=True)
    e = _exp_shifted(shifted)
    e /= e.sum(axis=axis, keepdims=True)  # in place: e is a new array of our own
    return e


def log_softmax(x, axis: int = -1):
    """Logarithm of the softmax, ``x - max - log(sum(exp(x - max)))``, stable for any x."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - get_array_module(x).log(_exp_shifted(shifted).sum(axis=axis, keepdims=True))


def _exp_shifted(shifted):
    """``exp(shifted)`` of values <= 0 (scores minus their maximum, or log-probabilities).

    The results lie in [0, 1], 0 where they underflow.  That underflow is
    harmless, so it is silenced where it would raise, even under
    ``np.seterr(all="raise")`` (only there, which keeps the common path free of an
    ``errstate``; ``under="warn"`` still warns, as asked).
    """
    xp = get_array_module(shifted)
    try:
        return xp.exp(shifted)
    except FloatingPointError:  # np.seterr(under="raise"): exp(-1000) = 0 is harmless
        with np.errstate(under="ignore"):
            return xp.exp(shifted)


def sum_squared_error(y, t) -> float:
    """Sum of squared errors ``E = 0.5 * sum_k (y_k - t_k)**2`` (book chapter 4).

    Summed over every element, a batch included; :func:`mean_squared_error`
    divides a batch by its size.
    """
    xp = get_array_module(y)
    return float(0.5 * xp.sum((y - t) ** 2))


def mean_squared_error(y, t) -> float:
    """Half the squared error, averaged over the batch: ``E = sum((y - t)**2) / (2 N)``.

    For one sample (1-D ``y``, ``N = 1``) this is the book's chapter 4
    ``mean_squared_error``, ``0.5 * sum((y - t)**2)``; a batch of N rows gives the
    mean over its samples, the scale of :func:`cross_entropy_error`.
    """
    n = y.shape[0] if y.ndim > 1 else 1
    return float(0.5 * ((y - t) ** 2).sum() / n)


def cross_entropy_error(y, t) -> float:
    """Mean cross-entropy ``E = -(1/N) sum_n sum_k t_nk log(y_nk + 1e-7)`` of probabilities ``y``.

    Parameters
    ----------
    y : array, shape (N, C) or (C,)
        Predicted probabilities (rows of a softmax).  A 1-D ``y`` is one sample,
        a batch of one, as in the book.
    t : array
        Class indices of shape (N,) or (N, 1) (a 1-D ``y`` takes a single
        label), or one-hot rows of the shape of ``y``.  Only a ``t`` of the shape
        of ``y`` is read as one-hot.  (The book tests ``t.size == y.size``, so its
        labels of shape (N, 1) pick an (N, N) block and give a wrong number; here
        they are class indices.)

    Returns
    -------
    float
        The batch mean.  The small ``1e-7`` inside the log keeps ``log(0)``
        finite, as in the book.

    Raises
    ------
    ValueError
        When ``t`` holds neither one label per sample nor one-hot rows, a label is
        outside ``[0, C)``, or a row is not a distribution (:func:`check_labels`).
    """
    xp = get_array_module(y)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = xp.asarray(t).reshape(1, -1)  # one one-hot row, or a single label as (1, 1)
    t = check_labels("cross_entropy_error", t, y.shape, y.dtype, name="y")
    if t.ndim == 2:  # one-hot rows -> indices, as the book does
        t = t.argmax(axis=1)
    n = y.shape[0]
    return float(-xp.log(y[xp.arange(n), t] + 1e-7).sum() / n)


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # by itemsize


def check_labels(where: str, t, scores_shape: tuple, dtype=None, name: str = "x"):
    """Check targets ``t`` against scores of shape (N, C); return ``t`` ready for the loss.

    ``t`` is either integer class labels of shape (N,) or (N, 1), returned as (N,),
    or target rows of shape (N, C) (one-hot or soft), returned as floats of
    ``dtype``.  Refused, with a ``ValueError`` naming ``where``: labels outside
    ``[0, C)``, a label count that is not N, and rows that are not a distribution
    (a negative entry, or a row whose sum is not 1: an all-zero one-hot row would
    give a loss of 0).  Any other ``t`` is a ``TypeError``.  The check costs one
    pass over ``t``; it is the one label checker of the framework
    (``SoftmaxWithLoss``, ``cross_entropy_error``, ``Sequential.accuracy``).
    ``name`` is what the scores are called in the message.
    """
    if type(t) is not np.ndarray:
        t = (get_array_module(t) if hasattr(t, "dtype") else np).asarray(t)
    N, C = scores_shape
    if t.ndim == 2 and t.shape == (N, 1) and t.dtype.kind in "iu":
        t = t.reshape(N)  # a column of class indices
    if t.ndim == 1 and t.dtype.kind in "iu":
        if t.shape[0] != N:
            raise ValueError(
                f"{where}: {name} has {N} rows but t has {t.shape[0]} labels; "
                f"{name} and t must hold the same samples"
            )
        # Read as unsigned, a negative label becomes huge: one max() checks both ends.
        if int(t.view(_UNSIGNED[t.itemsize]).max()) >= C:
            lo, hi = int(t.min()), int(t.max())
            raise ValueError(
                f"{where}: expected labels in [0, {C - 1}] for {C} classes, "
                f"got values from {lo} to {hi}"
            )
        return t
    if t.shape != tuple(scores_shape) or t.dtype.kind not in "biuf":
        # Labels or rows of the wrong length: ValueError; any other t: TypeError.
        right_kind = t.ndim in (1, 2) and t.dtype.kind in ("iu" if t.ndim == 1 else "biuf")
        raise (ValueError if right_kind else TypeError)(
            f"{where}: expected t as integer labels of shape ({N},) or ({N}, 1), or one-hot "
            f"rows of shape {tuple(scores_shape)}, got {t.dtype} array of shape {t.shape}"
        )
    t = t.astype(dtype or "float64", copy=False)
    sums = t.sum(axis=1)
    bad = bool((t < 0).any()) or bool((abs(sums - 1) > 1e-3).any())
    if bad:
        raise ValueError(
            f"{where}: expected each row of t to be a distribution (entries >= 0 summing to "
            f"1, e.g. one-hot), got row sums from {float(sums.min()):g} to "
            f"{float(sums.max()):g} and smallest entry {float(t.min()):g}; for class "
            "indices pass an integer array of shape (N,)"
        )
    return t


def softmax_loss(X, t) -> float:
    """Cross-entropy of the softmax of scores ``X``: ``cross_entropy_error(softmax(X), t)``."""
    return cross_entropy_error(softmax(X), t)


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


def smooth_curve(x, window_len: int = 11):
    """Smooth a noisy curve (a loss history) with a normalised Kaiser window (book ``util.py``).

    ``y_i = sum_j w_j s_{i+j}`` over a window of ``window_len`` points centred on
    point ``i``, with weights ``w = kaiser(window_len, 2) / sum(kaiser(window_len, 2))``.
    The curve ``s`` is extended past each end by mirroring it, as in the book:
    at the start without repeating the first point, at the end repeating the last.

    Parameters
    ----------
    x : sequence or 1-D array of numbers, e.g. ``trainer.train_loss_list``
    window_len : int, default 11 (the book's, odd)

    Returns
    -------
    numpy array of float64, shape ``(len(x),)``
        The book's numbers.  The book's slicing returns a shorter, shifted curve
        when ``len(x) < window_len``; here the result always has ``len(x)`` points.
    """
    x = to_cpu(x).astype(np.float64)
    if x.ndim != 1 or x.size == 0 or window_len < 1 or window_len % 2 == 0:
        raise ValueError(
            f"smooth_curve: expected a non-empty 1-D curve and an odd window_len, got shape "
            f"{x.shape} and window_len={window_len}"
        )
    pad = window_len - 1
    start = np.pad(x, (pad, 0), mode="reflect")[:pad]  # x[pad], ..., x[1]
    end = np.pad(x, (0, pad), mode="symmetric")[-pad:] if pad else x[:0]  # x[-1], ..., x[-pad]
    s = np.concatenate([start, x, end])
    w = np.kaiser(window_len, 2)
    y = np.convolve(s, w / w.sum(), mode="valid")  # len(x) + pad points
    half = pad // 2
    return y[half : half + x.size]


def shuffle_dataset(x, t, rng=None):
    """Shuffle samples and labels together by one random permutation (book ``util.py``).

    ``x_new[i] = x[p[i]]`` and ``t_new[i] = t[p[i]]`` for a random permutation ``p``
    of ``range(N)``.

    Parameters
    ----------
    x : array, shape (N, ...)
        Samples: (N, D) vectors, (N, C, H, W) images or any other shape (the book
        handles only 2-D and 4-D ``x``).
    t : array, shape (N,) or (N, C)
        Labels.
    rng : numpy.random.Generator, optional
        Source of the permutation; without it NumPy's global state, so
        ``np.random.seed`` repeats a shuffle exactly as in the book.

    Returns
    -------
    x, t : shuffled copies
    """
    if len(x) != len(t):
        raise ValueError(
            f"shuffle_dataset: expected as many labels as samples, got {len(x)} samples "
            f"and {len(t)} labels"
        )
    permutation = (np.random if rng is None else rng).permutation(x.shape[0])
    xp = get_array_module(x)
    permutation = xp.asarray(permutation)
    return x[permutation], t[permutation]


def pair(value) -> tuple:
    """``3`` -> ``(3, 3)``; a pair ``(h, w)`` stays as it is (DeZero's ``utils.pair``).

    Stride and pad of the convolution helpers may differ along H and W.  Only
    ints are accepted: ``1.7`` or ``(2.5, 2)`` raise rather than being truncated.
    """
    values = value if isinstance(value, (tuple, list)) and len(value) == 2 else (value, value)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return (int(values[0]), int(values[1]))
    raise ValueError(f"pair: expected an int or a pair (h, w) of ints, got {value!r}")


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """Output length of a convolution or pooling along one axis.

    ``out = (input_size + 2 * pad - filter_size) // stride + 1``; the book's
    formula, which drops input rows that a last step of ``stride`` cannot reach.
    """
    return (input_size + 2 * pad - filter_size) // stride + 1


def im2col(input_data, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0, fill=0.0):
    """Unroll every filter window of an image batch into one row of a matrix.

    A convolution then becomes one matrix product: ``col @ W.reshape(FN, -1).T``.

    Parameters
    ----------
    input_data : array, shape (N, C, H, W)
    filter_h, filter_w : int
        Window size.
    stride, pad : int or pair (h, w)
        Step between windows; values added on each side of H and W.
    fill : float, default 0
        The value of the padding (max pooling pads with ``-inf``, so that padding
        is never a window's maximum).

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
        img = xp.pad(input_data, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
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
