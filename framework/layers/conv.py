"""Layers of the book's chapter 7: Convolution, Pooling and Flatten for image batches.

Images come as ``(N, C, H, W)``: N samples, C channels, H rows, W columns.  The
convolution unrolls every filter window into a row with ``im2col``, so that it
becomes one matrix product; its backward folds the rows back with ``col2im``.
Pooling takes the maximum (or mean) of each row of the same ``im2col``.

Each layer reads as the book's formula.  A faster arrangement, where a benchmark
showed it pays, is a named twin beside it (``ConvolutionChannelsLast``,
``PoolingWindowLoop``), proven equal to the plain form by the tests.

Stride and pad are an int or a pair ``(h, w)``; a stride that does not step onto
the last window position floors the output size, as in the book.

dtypes: ``Convolution`` computes in its weights' dtype (an ``x`` or ``dout`` of
another float dtype is cast once at the door); ``Pooling`` and ``Flatten`` keep
their input's dtype.  Integer images are refused with a ``TypeError``.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module
from ..functions import (
    col2im,
    col2im_channels_last,
    conv_output_size,
    im2col,
    im2col_channels_last,
    pair,
)
from ..initializers import init_weight
from ._checks import check_float, checked_dout, checked_input
from .basic import WeightAndBias

__all__ = ["Convolution", "Pooling", "Flatten", "ConvolutionChannelsLast", "PoolingWindowLoop"]


def _output_hw(layer, x, filter_h: int, filter_w: int, stride: tuple, pad: tuple) -> tuple:
    """Return ``(out_h, out_w)`` for ``x`` of shape (N, C, H, W), or raise ``ValueError``.

    ``stride`` and ``pad`` are pairs ``(h, w)``.  The window must fit in the padded
    input.  A stride that does not step exactly onto the last position floors the
    output size, as the book, DeZero and PyTorch do: the last rows or columns that
    no window reaches are left out (``out = (H + 2*pad - window) // stride + 1``).
    """
    (sh, sw), (ph, pw) = stride, pad
    H, W = x.shape[2], x.shape[3]
    if H + 2 * ph < filter_h or W + 2 * pw < filter_w:
        raise ValueError(
            f"{type(layer).__name__}.forward: window {filter_h}x{filter_w} is larger than "
            f"the padded input {H + 2 * ph}x{W + 2 * pw} (x of shape {x.shape}, "
            f"pad={_show(pad)}); use a smaller window or a larger pad"
        )
    return conv_output_size(H, filter_h, sh, ph), conv_output_size(W, filter_w, sw, pw)


def _show(p: tuple):
    """``(2, 2)`` -> ``2``; ``(3, 1)`` stays a pair: stride and pad as the user wrote them."""
    return p[0] if p[0] == p[1] else p


def _stride_pad(name: str, stride, pad) -> tuple:
    """Check ``stride`` and ``pad`` (ints or int pairs) and return them as pairs."""
    try:
        pairs = pair(stride), pair(pad)
    except (TypeError, ValueError):
        pairs = None
    if pairs is None or min(pairs[0]) < 1 or min(pairs[1]) < 0:
        raise ValueError(
            f"{name}: expected stride >= 1 and pad >= 0 (ints or pairs (h, w)), got "
            f"stride={stride!r}, pad={pad!r}"
        )
    return pairs


def _check_images(layer, x, channels=None) -> None:
    """Raise ``ValueError`` unless ``x`` is a batch of images (N, C, H, W)."""
    name = type(layer).__name__
    want = f"(N, {channels}, H, W)" if channels is not None else "(N, C, H, W)"
    if getattr(x, "ndim", 0) != 4:
        got = getattr(x, "shape", type(x).__name__)
        hint = ""
        if getattr(x, "ndim", 0) == 2:
            hint = "; flat images? reshape them, e.g. x.reshape(-1, 1, 28, 28)"
        raise ValueError(f"{name}.forward: expected x of shape {want}, got {got}{hint}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{name}.forward: expected x of shape {want} (the filters W have {channels} "
            f"input channel(s)), got {x.shape}"
        )


class Convolution(WeightAndBias):
    """2-D convolution (cross-correlation, as in the book and PyTorch).

    forward: ``out[n, f, i, j] = sum_{c,y,x} W[f, c, y, x] * xpad[n, c, s*i + y, s*j + x]
    + b[f]``, computed as ``col @ col_W + b`` with ``col = im2col(x)`` (one row per
    window, columns in the order ``(c, y, x)``) and ``col_W = W.reshape(FN, -1).T``
    (one column per filter).

    backward: with ``dout`` as rows (N * out_h * out_w, FN) in the order of ``col``:
    ``db = sum(dout, axis=0)``, ``dW = dout.T @ col``, ``dx = col2im(dout @ col_W.T)``.

    Build it from arrays, as in the book, ``Convolution(W, b, stride=1, pad=0)``, or
    from a filter shape, ``Convolution((30, 1, 5, 5), rng=rng)`` (He init, ``b = 0``).
    :class:`ConvolutionChannelsLast` computes the same numbers faster.

    Parameters
    ----------
    W : array of shape (FN, C, FH, FW), or a tuple giving that shape
        FN filters, each of C channels and FH x FW pixels.
    b : array of shape (FN,), or a number, optional
        Bias; zeros when omitted.  A number (the book's ``b = 0`` in
        ``apply_filter.py``) gives every filter that bias.
    stride, pad : int or pair (h, w) of ints
        Step between windows; zeros added on each side of the image.
    init : {"he", "xavier"} or float
        Only when built from a shape: the weight scale (fan-in ``C * FH * FW``).
    rng : numpy.random.Generator, optional
        Only when built from a shape; without it the weights come from NumPy's
        global state, so ``np.random.seed(0)`` repeats a run.
    dtype : dtype, default float32
        Only when built from a shape.  ``x`` and ``dout`` are cast to the weights' dtype.
    """

    def __init__(
        self, W, b=None, stride: int = 1, pad: int = 0, *, init="he", rng=None, dtype="float32"
    ):
        if isinstance(W, tuple):
            W = init_weight(W, init, rng, dtype)
        check_float(self, "W", W)
        if b is None:
            b = 0.0
        if isinstance(b, (int, float, np.integer, np.floating)) and not isinstance(b, bool):
            b = get_array_module(W).full(W.shape[:1], b, dtype=W.dtype)
        if W.ndim != 4 or getattr(b, "shape", None) != (W.shape[0],) or b.dtype != W.dtype:
            raise ValueError(
                f"Convolution: expected W of shape (FN, C, FH, FW) and b of shape (FN,) with "
                f"one dtype, got W {W.shape} {W.dtype} and b {getattr(b, 'shape', None)} "
                f"{getattr(b, 'dtype', type(b).__name__)}"
            )
        self._stride, self._pad = _stride_pad("Convolution", stride, pad)
        xp = get_array_module(W)
        self.W = W
        self.b = b
        self.stride = _show(self._stride)  # as the user wrote it: 1 or (3, 1)
        self.pad = _show(self._pad)
        self.dW = xp.zeros_like(W)
        self.db = xp.zeros_like(b)
        self.x_shape = None
        self.out_shape = None
        self.col = None  # im2col of x, one row per window
        self.col_W = None  # W with one column per filter, rows in col's column order

    def forward(self, x, train: bool = True):
        """Return the feature maps; ``train=False`` keeps no ``col`` for ``backward``."""
        x, out_h, out_w = self._checked_x(x)
        FN, C, FH, FW = self.W.shape
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = col @ col_W
        out += self.b  # in place: no second (N * out_h * out_w, FN) array
        self._keep(x, out_h, out_w, col if train else None, col_W)
        return out.reshape(x.shape[0], out_h, out_w, FN).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = self._checked_dout(dout)
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = dout.sum(axis=0)
        self.dW = (dout.T @ self.col).reshape(FN, C, FH, FW)
        dcol = dout @ self.col_W.T
        return col2im(dcol, self.x_shape, FH, FW, self.stride, self.pad)

    def backward_params_only(self, dout) -> None:
        """Fast path for a net's first layer: ``dW`` and ``db`` as :meth:`backward`, no ``dx``.

        Skips ``dcol = dout @ col_W.T`` and its ``col2im``, whose result nobody
        reads when ``x`` is the data; ``Sequential`` calls it for its first layer.
        """
        self.backward_params(self._checked_dout(dout))

    def backward_params(self, dout) -> None:
        """``db`` and ``dW`` from ``dout`` already checked (shared with the twin)."""
        FN, C, FH, FW = self.W.shape
        rows = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = rows.sum(axis=0)
        self.dW = (rows.T @ self.col).reshape(FN, C, FH, FW)

    def _keep(self, x, out_h, out_w, col, col_W) -> None:
        """Cache what ``backward`` needs (``col`` is None after a test-mode forward)."""
        self.x_shape = x.shape
        self.out_shape = (x.shape[0], self.W.shape[0], out_h, out_w)
        self.col, self.col_W = col, col_W

    def _checked_x(self, x):
        """Check images (N, C, H, W) the filters fit; return ``(x, out_h, out_w)``."""
        FN, C, FH, FW = self.W.shape
        _check_images(self, x, C)
        x = checked_input(self, x, self.W)
        return (x, *_output_hw(self, x, FH, FW, self._stride, self._pad))

    def _checked_dout(self, dout):
        dout = checked_dout(self, dout, self.out_shape, self.out_shape, self.W)
        if self.col is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward: the last forward ran with train=False and "
                "kept nothing for backward; call forward(x, train=True) first"
            )
        return dout


class ConvolutionChannelsLast(Convolution):
    """Fast twin of :class:`Convolution`: the same numbers, im2col in ``(y, x, c)`` order.

    The plain form's ``col = im2col(x)`` copies one number at a time into the
    columns ``(c, y, x)``; here the images are read channels-last, (N, H, W, C),
    and :func:`~framework.functions.im2col_channels_last` copies the C channels
    of each window pixel as one contiguous run, with ``col_W`` reordered to match
    (``W.transpose(0, 2, 3, 1)``).  The output is a channels-last array seen as
    (N, FN, out_h, out_w), so a following convolution needs no copy either.
    Measured gain: see benchmarks/README.md ("plain and fast").
    """

    def forward(self, x, train: bool = True):
        x, out_h, out_w = self._checked_x(x)
        FN = self.W.shape[0]
        col = im2col_channels_last(x.transpose(0, 2, 3, 1), *self.W.shape[2:], *self._sp())
        col_W = self.W.transpose(0, 2, 3, 1).reshape(FN, -1)
        out = col @ col_W.T
        out += self.b  # in place: no second (N * out_h * out_w, FN) array
        self._keep(x, out_h, out_w, col if train else None, col_W)
        return out.reshape(x.shape[0], out_h, out_w, FN).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = self._checked_dout(dout)
        self.backward_params(dout)
        FN, C, FH, FW = self.W.shape
        dcol = dout.transpose(0, 2, 3, 1).reshape(-1, FN) @ self.col_W
        N, C, H, W = self.x_shape
        dx = col2im_channels_last(dcol, (N, H, W, C), FH, FW, *self._sp())
        return dx.transpose(0, 3, 1, 2)  # back to (N, C, H, W), channels-last in memory

    def backward_params(self, dout) -> None:
        FN, C, FH, FW = self.W.shape
        rows = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = rows.sum(axis=0)
        dW = rows.T @ self.col  # (FN, FH * FW * C): columns (y, x, c)
        self.dW = dW.reshape(FN, FH, FW, C).transpose(0, 3, 1, 2).copy()

    def _sp(self) -> tuple:
        return self._stride, self._pad


class Pooling:
    """Max pooling (or average pooling) over ``pool_h x pool_w`` windows of each channel.

    max: ``out[n, c, i, j] = max_{y,x} xpad[n, c, s*i + y, s*j + x]``: ``im2col``
    with one window of one channel per row, then the maximum of each row;
    ``arg_max`` keeps its column (the first one on ties, as ``argmax``).  backward
    puts ``dout`` at that column of a zero row and folds the rows back with
    ``col2im``.  Padding uses ``-inf`` (the book pads with 0, which can become a
    window's maximum when the inputs are negative: a bug here avoided, as PyTorch does).

    average: ``out = mean`` of each row (zero padding counts, as in PyTorch's
    default); backward spreads ``dout / (pool_h * pool_w)`` over the row.

    :class:`PoolingWindowLoop` computes the same numbers faster.

    Parameters
    ----------
    pool_h, pool_w : int
        Window size.
    stride, pad : int or pair (h, w) of ints
        Step between windows (the book's default 2, which tiles a 2x2 window) and
        padding.
    mode : {"max", "average"}
    """

    def __init__(self, pool_h: int, pool_w: int, stride=2, pad=0, mode: str = "max"):
        if mode not in ("max", "average"):
            raise ValueError(f"Pooling: expected mode 'max' or 'average', got {mode!r}")
        try:
            pool_h, pool_w = pair((pool_h, pool_w))
        except ValueError:
            raise ValueError(
                f"Pooling: expected pool_h and pool_w to be ints, got {pool_h!r} and {pool_w!r}"
            ) from None
        (sh, sw), (ph, pw) = _stride_pad("Pooling", stride, pad)
        if min(pool_h, pool_w) < 1 or 2 * ph > pool_h or 2 * pw > pool_w:
            raise ValueError(
                f"Pooling: expected pool_h, pool_w >= 1 and 0 <= pad <= half the window, "
                f"got pool_h={pool_h}, pool_w={pool_w}, stride={stride!r}, pad={pad!r}"
            )
        self.pool_h = pool_h
        self.pool_w = pool_w
        self._stride, self._pad = (sh, sw), (ph, pw)
        self.stride = _show(self._stride)  # as the user wrote it: 2 or (3, 1)
        self.pad = _show(self._pad)
        self.mode = mode
        self.x_shape = None
        self.out_shape = None
        self.arg_max = None  # max mode: column (y * pool_w + x) of each window's maximum

    def forward(self, x):
        x, out_h, out_w = self._checked_x(x)
        N, C = x.shape[:2]
        fill = -np.inf if self.mode == "max" else 0.0
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad, fill=fill)
        col = col.reshape(-1, self.pool_h * self.pool_w)  # rows (n, i, j, c)
        if self.mode == "max":
            self.arg_max = col.argmax(axis=1)
            # The maximum of each row, read at its arg max: the same numbers as
            # col.max(axis=1), which NumPy computes several times slower on rows of 4.
            out = col[get_array_module(col).arange(len(col)), self.arg_max]
        else:
            out = col.mean(axis=1)
        return out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = checked_dout(self, dout, self.out_shape, self.out_shape)
        xp = get_array_module(dout)
        dout = dout.transpose(0, 2, 3, 1).reshape(-1)  # one value per row of col
        pool_size = self.pool_h * self.pool_w
        if self.mode == "max":
            dcol = xp.zeros((dout.size, pool_size), dtype=dout.dtype)
            dcol[xp.arange(dout.size), self.arg_max] = dout
        else:
            dcol = xp.repeat(dout[:, None] * (1.0 / pool_size), pool_size, axis=1)
        dcol = dcol.reshape(-1, self.x_shape[1] * pool_size)
        return col2im(dcol, self.x_shape, self.pool_h, self.pool_w, self.stride, self.pad)

    def _checked_x(self, x):
        """Check float images (N, C, H, W); return ``(x, out_h, out_w)``."""
        _check_images(self, x)
        x = checked_input(self, x)
        out_hw = _output_hw(self, x, self.pool_h, self.pool_w, self._stride, self._pad)
        self.x_shape = x.shape
        self.out_shape = (*x.shape[:2], *out_hw)
        return (x, *out_hw)


class PoolingWindowLoop(Pooling):
    """Fast twin of :class:`Pooling`: a loop over the window's positions instead of ``im2col``.

    The plain form copies every window into a row (``im2col``), then takes each
    row's maximum.  Here the loop runs over the ``pool_h * pool_w`` positions of
    the window (4 for the usual 2x2); each step compares the whole batch at once
    through a strided view, so nothing is copied into rows, ``arg_max`` is one
    byte per output, and when the windows tile the image the backward is one
    pass.  ``dx`` comes back channels-last in memory, as a convolution's output
    is.  Measured gain: see benchmarks/README.md ("plain and fast").
    """

    def _windows(self, a, out_h, out_w):
        """Yield, for each position (y, x) of the window, that pixel of every window.

        Each item is a strided view of ``a`` of shape (N, C, out_h, out_w).
        """
        sh, sw = self._stride
        for y in range(self.pool_h):
            for x in range(self.pool_w):
                yield a[:, :, y : y + sh * out_h : sh, x : x + sw * out_w : sw]

    def forward(self, x):
        x, out_h, out_w = self._checked_x(x)
        xp = get_array_module(x)
        ph, pw = self._pad
        fill = -np.inf if self.mode == "max" else 0.0
        padding = ((0, 0), (0, 0), (ph, ph), (pw, pw))
        xpad = xp.pad(x, padding, constant_values=fill) if ph or pw else x
        views = self._windows(xpad, out_h, out_w)
        # order="K" keeps x's memory layout (a convolution's output is channels-last),
        # so every loop below walks its arrays in one order.
        out = next(views).copy(order="K")
        if self.mode == "average":
            for view in views:
                out += view
            out *= 1.0 / (self.pool_h * self.pool_w)
            return out
        kind = xp.uint8 if self.pool_h * self.pool_w <= 256 else xp.int32
        self.arg_max = xp.zeros_like(out, dtype=kind)
        for k, view in enumerate(views, start=1):
            bigger = view > out  # strictly: the first maximum wins ties, like argmax
            xp.maximum(out, view, out=out)
            # arg_max = where(bigger, k, arg_max), since k only grows; where() is
            # several times slower on a random mask.
            xp.maximum(self.arg_max, bigger * kind(k), out=self.arg_max)
        return out

    def backward(self, dout):
        dout = checked_dout(self, dout, self.out_shape, self.out_shape)
        xp = get_array_module(dout)
        N, C, H, W = self.x_shape
        ph, pw = self.pool_h, self.pool_w
        tiled = self._stride == (ph, pw) and self._pad == (0, 0)
        if self.mode == "max" and tiled and H % ph == 0 and W % pw == 0:
            return self._backward_tiled(dout)
        py, px = self._pad
        dxpad = xp.zeros((N, H + 2 * py, W + 2 * px, C), dtype=dout.dtype).transpose(0, 3, 1, 2)
        if self.mode == "average":
            dout = dout * (1.0 / (ph * pw))  # each pixel of a window gets an equal share
        out_h, out_w = self.out_shape[2:]
        for k, view in enumerate(self._windows(dxpad, out_h, out_w)):
            # view is a slice of dxpad: += sums where windows overlap (stride < window).
            view += dout * (self.arg_max == k) if self.mode == "max" else dout
        return dxpad[:, :, py : H + py, px : W + px]

    def _backward_tiled(self, dout):
        """Max-pool backward when the windows tile the image: one pass over ``dx``.

        Works channels-last, (N, H, W, C), where a convolution's output already lives.
        """
        xp = get_array_module(dout)
        N, C, H, W = self.x_shape
        ph, pw = self.pool_h, self.pool_w
        out_h, out_w = self.out_shape[2:]
        arg = self.arg_max.transpose(0, 2, 3, 1)[:, :, None, :, None, :]
        at_max = arg == xp.arange(ph * pw, dtype=arg.dtype).reshape(ph, 1, pw, 1)
        dx = xp.empty((N, H, W, C), dtype=dout.dtype)
        g = dout.transpose(0, 2, 3, 1)[:, :, None, :, None, :]
        xp.multiply(at_max, g, out=dx.reshape(N, out_h, ph, out_w, pw, C))
        return dx.transpose(0, 3, 1, 2)


class Flatten:
    """Flatten each sample: (N, C, H, W) -> (N, C*H*W); backward restores the shape."""

    def __init__(self):
        self.x_shape = None

    def forward(self, x):
        if getattr(x, "ndim", 0) < 1:
            raise ValueError(
                f"Flatten.forward: expected x of shape (N, ...), got "
                f"{getattr(x, 'shape', type(x).__name__)}"
            )
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        shape = None if self.x_shape is None else (self.x_shape[0], math.prod(self.x_shape[1:]))
        dout = checked_dout(self, dout, self.x_shape, shape)
        return dout.reshape(self.x_shape)
