"""Convolution and pooling nodes, built on the one ``im2col`` / ``col2im`` of ``functions``.

``im2col`` turns every filter window of an (N, C, H, W) batch into one row of a
matrix (N*OH*OW, C*KH*KW), with columns in the order (c, y, x); a convolution is
then a single matrix product, and pooling a reduction over each window.  The
backward of ``im2col`` is ``col2im`` and the other way round, so every backward
below is written with these two nodes and is itself differentiable.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..functions import col2im as _col2im_array
from ..functions import conv_output_size, pair
from ..functions import im2col as _im2col_array
from .core import Function, Variable, as_variable
from .operators import GetItemGrad, broadcast_to, matmul

#: The functions and nodes that ``F`` hands on (as DeZero's ``functions.py`` does).
F_NAMES = [
    "conv2d",
    "conv2d_simple",
    "deconv2d",
    "pooling",
    "pooling_simple",
    "average_pooling",
    "im2col",
    "col2im",
    "Conv2d",
    "Deconv2d",
    "Pooling",
    "AveragePooling",
    "Im2col",
    "Col2im",
]
__all__ = [
    *F_NAMES,
    "im2col_array",
    "col2im_array",
    "get_conv_outsize",
    "get_deconv_outsize",
    "pair",
]


def _pair(fn: str, name: str, value) -> tuple:
    """``3`` -> (3, 3); a pair ``(h, w)`` stays; anything else is a ValueError naming ``fn``."""
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    raise ValueError(f"{fn}: expected {name} as an int or a pair (h, w) of ints, got {value!r}")


def get_conv_outsize(input_size: int, kernel_size: int, stride: int, pad: int) -> int:
    """Output length of a convolution along one axis: ``(size + 2 pad - k) // stride + 1``."""
    return conv_output_size(input_size, kernel_size, stride, pad)


def get_deconv_outsize(size: int, k: int, s: int, p: int) -> int:
    """Output length of a transposed convolution: ``s (size - 1) + k - 2 p``."""
    return s * (size - 1) + k - 2 * p


def _out_hw(shape, kernel, stride, pad) -> tuple:
    """(OH, OW) for images of ``shape`` (N, C, H, W); kernel, stride, pad are pairs.

    A stride that does not divide the padded input floors the size, as in the
    book, DeZero and PyTorch: the last rows that a full window cannot reach are dropped.
    """
    return (
        conv_output_size(shape[2], kernel[0], stride[0], pad[0]),
        conv_output_size(shape[3], kernel[1], stride[1], pad[1]),
    )


def _check_windows(fn, shape, kernel, stride, pad):
    """ValueError unless ``shape`` is (N, C, H, W) and at least one window fits."""
    if len(shape) != 4:
        raise ValueError(f"{fn}: expected x of shape (N, C, H, W), got {tuple(shape)}")
    OH, OW = _out_hw(shape, kernel, stride, pad)
    if OH < 1 or OW < 1:
        raise ValueError(
            f"{fn}: a {kernel[0]}x{kernel[1]} window with pad {pad} does not fit in an image "
            f"of {shape[2]}x{shape[3]}; use a smaller kernel or more padding"
        )


def _windows(fn: str, kernel_size, stride, pad, shape=None) -> tuple:
    """(kernel, stride, pad) as pairs, errors naming ``fn``; with ``shape``, a window must fit."""
    kernel = _pair(fn, "kernel_size", kernel_size)
    stride, pad = _pair(fn, "stride", stride), _pair(fn, "pad", pad)
    if shape is not None:
        _check_windows(fn, shape, kernel, stride, pad)
    return kernel, stride, pad


class Im2col(Function):
    """``y = im2col(x)``: (N, C, H, W) -> (N*OH*OW, C*KH*KW); backward ``col2im(gy)``.

    With ``to_matrix=False`` the output is (N, C, KH, KW, OH, OW), as in DeZero.
    """

    def __init__(self, kernel_size, stride, pad, to_matrix):
        self.kernel_size, self.stride, self.pad = _windows("Im2col", kernel_size, stride, pad)
        self.to_matrix = to_matrix

    def forward(self, x):
        self.input_shape = x.shape
        KH, KW = self.kernel_size
        col = _im2col_array(x, KH, KW, self.stride, self.pad)
        if self.to_matrix:
            return col
        N, C = x.shape[:2]
        OH, OW = _out_hw(x.shape, self.kernel_size, self.stride, self.pad)
        return col.reshape(N, OH, OW, C, KH, KW).transpose(0, 3, 4, 5, 1, 2)

    def backward(self, gy):
        args = (self.kernel_size, self.stride, self.pad, self.to_matrix)
        return col2im(gy, self.input_shape, *args)


def im2col(x, kernel_size, stride=1, pad=0, to_matrix: bool = True) -> Variable:
    """Unroll the windows of ``x`` (N, C, H, W) into rows (N*OH*OW, C*KH*KW).

    ``kernel_size``, ``stride`` and ``pad`` are ints or pairs (h, w).
    """
    kernel, stride, pad = _windows("im2col", kernel_size, stride, pad, x.shape)
    return Im2col(kernel, stride, pad, to_matrix)(x)


def im2col_array(img, kernel_size, stride, pad, to_matrix: bool = True):
    """``im2col`` on a raw array (no graph): rows (N*OH*OW, C*KH*KW), or (N, C, KH, KW, OH, OW)."""
    return Im2col(
        *_windows("im2col_array", kernel_size, stride, pad),
        to_matrix,
    ).forward(img)


def col2im_array(col, img_shape, kernel_size, stride, pad, to_matrix: bool = True):
    """``col2im`` on a raw array (no graph): fold windows back into images of ``img_shape``."""
    return Col2im(
        img_shape,
        *_windows("col2im_array", kernel_size, stride, pad),
        to_matrix,
    ).forward(col)


class Col2im(Function):
    """``y = col2im(x)``, summing overlapping windows back into images; backward ``im2col``."""

    def __init__(self, input_shape, kernel_size, stride, pad, to_matrix):
        self.input_shape = tuple(input_shape)
        self.kernel_size, self.stride, self.pad = _windows("Col2im", kernel_size, stride, pad)
        self.to_matrix = to_matrix

    def forward(self, col):
        KH, KW = self.kernel_size
        if not self.to_matrix:  # (N, C, KH, KW, OH, OW) -> rows
            col = col.transpose(0, 4, 5, 1, 2, 3).reshape(-1, self.input_shape[1] * KH * KW)
        return _col2im_array(col, self.input_shape, KH, KW, self.stride, self.pad)

    def backward(self, gy):
        return im2col(gy, self.kernel_size, self.stride, self.pad, self.to_matrix)


def col2im(x, input_shape, kernel_size, stride=1, pad=0, to_matrix=True) -> Variable:
    """Fold rows (N*OH*OW, C*KH*KW) back into images of ``input_shape``."""
    kernel, stride, pad = _windows("col2im", kernel_size, stride, pad)
    return Col2im(input_shape, kernel, stride, pad, to_matrix)(x)


class Conv2d(Function):
    """2-D convolution (cross-correlation), ``y = im2col(x) @ W.reshape(OC, -1).T + b``.

    ``y[n, o, i, j] = sum_{c, p, q} W[o, c, p, q] x_pad[n, c, s i + p, s j + q] + b[o]``.
    backward, with ``gy`` as rows ``g`` (N*OH*OW, OC): ``gW = (g.T @ im2col(x))``
    reshaped to W, ``gb = sum(g, axis=0)``, ``gx = col2im(g @ W.reshape(OC, -1))``.
    Shapes: x (N, C, H, W), W (OC, C, KH, KW), b (OC,), y (N, OC, OH, OW).
    """

    def __init__(self, stride=1, pad=0):
        self.stride = _pair("Conv2d", "stride", stride)
        self.pad = _pair("Conv2d", "pad", pad)

    def forward(self, x, W, b=None):
        if x.ndim != 4 or W.ndim != 4 or x.shape[1] != W.shape[1]:
            raise ValueError(
                f"conv2d: expected x of shape (N, C, H, W) and W of shape (OC, C, KH, KW) "
                f"with the same C, got x {x.shape} and W {W.shape}"
            )
        N = x.shape[0]
        OC, _, KH, KW = W.shape
        OH, OW = _out_hw(x.shape, (KH, KW), self.stride, self.pad)
        y = _im2col_array(x, KH, KW, self.stride, self.pad) @ W.reshape(OC, -1).T
        if b is not None:
            y += b
        return y.reshape(N, OH, OW, OC).transpose(0, 3, 1, 2)

    def backward(self, gy):
        x, W = self.inputs[:2]
        OC, _, KH, KW = W.shape
        g = gy.transpose(0, 2, 3, 1).reshape(-1, OC)
        col = im2col(x, (KH, KW), self.stride, self.pad)
        gW = matmul(g.T, col).reshape(W.shape)
        gx = None  # a plain-array x (the images) needs no gradient: skip col2im
        if self.needs_input_grad[0]:
            gx = col2im(matmul(g, W.reshape(OC, -1)), x.shape, (KH, KW), self.stride, self.pad)
        return (gx, gW) if len(self.inputs) == 2 else (gx, gW, g.sum(axis=0))


def conv2d(x, W, b=None, stride=1, pad=0) -> Variable:
    """Convolve ``x`` (N, C, H, W) with filters ``W`` (OC, C, KH, KW), add ``b`` (OC,).

    ``stride`` and ``pad`` are ints or pairs (h, w); the output is
    (N, OC, OH, OW) with ``OH = (H + 2 PH - KH) // SH + 1`` (floored).
    """
    stride = _pair("conv2d", "stride", stride)
    pad = _pair("conv2d", "pad", pad)
    if len(x.shape) == 4 and len(W.shape) == 4:  # else Conv2d.forward names the problem
        _check_windows("conv2d", x.shape, W.shape[2:], stride, pad)
    f = Conv2d(stride, pad)
    return f(x, W) if b is None else f(x, W, b)


def conv2d_simple(x, W, b=None, stride=1, pad=0) -> Variable:
    """``conv2d`` from graph nodes: ``im2col``, ``matmul``, ``add``, ``reshape``, ``transpose``.

    The plain twin of :func:`conv2d` (DeZero's ``conv2d_simple``): every step is
    a node whose backward is already written, so this needs no backward of its own.
    """
    x, W = as_variable(x), as_variable(W)
    N = x.shape[0]
    OC, C, KH, KW = W.shape
    stride = _pair("conv2d_simple", "stride", stride)
    pad = _pair("conv2d_simple", "pad", pad)
    OH, OW = _out_hw(x.shape, (KH, KW), stride, pad)
    col = im2col(x, (KH, KW), stride, pad, to_matrix=True)  # (N*OH*OW, C*KH*KW)
    y = matmul(col, W.reshape(OC, -1).transpose())  # (N*OH*OW, OC)
    if b is not None:
        y = y + b
    return y.reshape(N, OH, OW, OC).transpose(0, 3, 1, 2)


class Deconv2d(Function):
    """Transposed convolution: the backward of ``conv2d`` with respect to its input.

    With ``W`` of shape (C, OC, KH, KW), each input pixel ``x[n, c, i, j]`` adds
    ``x[n, c, i, j] * W[c]`` into the output window at ``(SH i - PH, SW j - PW)``:
    ``y = col2im(rows(x) @ W.reshape(C, -1)) + b``.  The output is (N, OC, OH, OW),
    ``OH = SH (H - 1) + KH - 2 PH`` unless ``outsize`` is given.
    backward: ``gx = conv2d(gy, W)``, ``gW = (rows(x).T @ im2col(gy))`` reshaped
    to W, ``gb = sum(gy, axis=(0, 2, 3))``.
    """

    def __init__(self, stride=1, pad=0, outsize=None):
        self.stride = _pair("Deconv2d", "stride", stride)
        self.pad = _pair("Deconv2d", "pad", pad)
        self.outsize = outsize

    def forward(self, x, W, b=None):
        if x.ndim != 4 or W.ndim != 4 or x.shape[1] != W.shape[0]:
            raise ValueError(
                f"deconv2d: expected x of shape (N, C, H, W) and W of shape (C, OC, KH, KW) "
                f"with the same C, got x {x.shape} and W {W.shape}"
            )
        N, C, H, Wd = x.shape
        _, OC, KH, KW = W.shape
        (SH, SW), (PH, PW) = self.stride, self.pad
        if self.outsize is None:
            OH, OW = get_deconv_outsize(H, KH, SH, PH), get_deconv_outsize(Wd, KW, SW, PW)
        else:
            OH, OW = self.outsize
        self.out_shape = (N, OC, OH, OW)
        if _out_hw(self.out_shape, (KH, KW), self.stride, self.pad) != (H, Wd):
            raise ValueError(
                f"deconv2d: outsize {(OH, OW)} does not give back the input size {(H, Wd)} "
                f"under a {KH}x{KW} convolution with stride {self.stride} and pad {self.pad}"
            )
        rows = x.transpose(0, 2, 3, 1).reshape(-1, C)  # (N*H*W, C)
        col = rows @ W.reshape(C, -1)  # (N*H*W, OC*KH*KW)
        y = _col2im_array(col, self.out_shape, KH, KW, self.stride, self.pad)
        if b is not None:
            y += b.reshape(1, OC, 1, 1)
        return y

    def backward(self, gy):
        x, W = self.inputs[:2]
        C, OC, KH, KW = W.shape
        gx = conv2d(gy, W, None, self.stride, self.pad) if self.needs_input_grad[0] else None
        rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
        gW = matmul(rows.T, im2col(gy, (KH, KW), self.stride, self.pad)).reshape(W.shape)
        if len(self.inputs) == 2:
            return gx, gW
        return gx, gW, gy.sum(axis=(0, 2, 3))


def deconv2d(x, W, b=None, stride=1, pad=0, outsize=None) -> Variable:
    """Transposed convolution of ``x`` (N, C, H, W) with ``W`` (C, OC, KH, KW), plus ``b`` (OC,).

    ``outsize`` (OH, OW) picks the output size when a floored stride makes it
    ambiguous; by default ``OH = SH (H - 1) + KH - 2 PH``.
    """
    stride = _pair("deconv2d", "stride", stride)
    pad = _pair("deconv2d", "pad", pad)
    outsize = None if outsize is None else _pair("deconv2d", "outsize", outsize)
    f = Deconv2d(stride, pad, outsize)
    return f(x, W) if b is None else f(x, W, b)


class Pooling(Function):
    """Max pooling: ``y`` = the maximum of each (KH, KW) window of each channel.

    backward: each ``gy`` goes to the position of its window's maximum (the
    ``argmax`` kept from forward); ``col2im`` adds up windows that overlap.
    """

    def __init__(self, kernel_size, stride=1, pad=0):
        self.kernel_size, self.stride, self.pad = _windows(
            type(self).__name__, kernel_size, stride, pad
        )

    def forward(self, x):
        N, C = x.shape[:2]
        KH, KW = self.kernel_size
        OH, OW = _out_hw(x.shape, self.kernel_size, self.stride, self.pad)
        col = _im2col_array(x, KH, KW, self.stride, self.pad).reshape(-1, KH * KW)
        self.argmax = col.argmax(axis=1)
        y = col.max(axis=1)
        return y.reshape(N, OH, OW, C).transpose(0, 3, 1, 2)

    def backward(self, gy):
        (x,) = self.inputs
        KH, KW = self.kernel_size
        rows = gy.transpose(0, 2, 3, 1).reshape(-1)  # one entry per window, (n, i, j, c)
        xp = backend.get_array_module(rows.data)
        at_max = (xp.arange(rows.size), self.argmax)
        gcol = GetItemGrad(at_max, (rows.size, KH * KW))(rows)
        gcol = gcol.reshape(-1, x.shape[1] * KH * KW)
        return col2im(gcol, x.shape, self.kernel_size, self.stride, self.pad)


def pooling(x, kernel_size, stride=1, pad=0) -> Variable:
    """Max pooling of ``x`` (N, C, H, W) over ``kernel_size`` windows (ints or pairs)."""
    kernel, stride, pad = _windows("pooling", kernel_size, stride, pad, x.shape)
    return Pooling(kernel, stride, pad)(x)


def pooling_simple(x, kernel_size, stride=1, pad=0) -> Variable:
    """Max pooling assembled from graph nodes: ``im2col``, ``reshape``, ``max``, ``transpose``.

    The plain twin of :func:`pooling` (DeZero's ``pooling_simple``); ``max`` sends
    the gradient to every element equal to the window's maximum (all of them at a tie).
    """
    x = as_variable(x)
    N, C = x.shape[:2]
    kernel, stride, pad = _windows("pooling_simple", kernel_size, stride, pad)
    OH, OW = _out_hw(x.shape, kernel, stride, pad)
    col = im2col(x, kernel, stride, pad, to_matrix=True).reshape(-1, kernel[0] * kernel[1])
    y = col.max(axis=1)
    return y.reshape(N, OH, OW, C).transpose(0, 3, 1, 2)


class AveragePooling(Pooling):
    """Average pooling: ``y`` = the mean of each window; backward spreads ``gy / (KH KW)``."""

    def forward(self, x):
        N, C = x.shape[:2]
        KH, KW = self.kernel_size
        OH, OW = _out_hw(x.shape, self.kernel_size, self.stride, self.pad)
        col = _im2col_array(x, KH, KW, self.stride, self.pad).reshape(-1, KH * KW)
        return col.mean(axis=1).reshape(N, OH, OW, C).transpose(0, 3, 1, 2)

    def backward(self, gy):
        (x,) = self.inputs
        KH, KW = self.kernel_size
        rows = gy.transpose(0, 2, 3, 1).reshape(-1, 1)
        gcol = broadcast_to(rows, (rows.shape[0], KH * KW)) * (1.0 / (KH * KW))
        gcol = gcol.reshape(-1, x.shape[1] * KH * KW)
        return col2im(gcol, x.shape, self.kernel_size, self.stride, self.pad)


def average_pooling(x, kernel_size, stride=1, pad=0) -> Variable:
    """Average pooling of ``x`` (N, C, H, W) over ``kernel_size`` windows (ints or pairs)."""
    kernel, stride, pad = _windows("average_pooling", kernel_size, stride, pad, x.shape)
    return AveragePooling(kernel, stride, pad)(x)
