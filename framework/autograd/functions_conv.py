"""Convolution and pooling nodes, built on the one ``im2col`` / ``col2im`` of ``functions``.

``im2col`` turns every filter window of an (N, C, H, W) batch into one row of a
matrix (N*OH*OW, C*KH*KW), with columns in the order (c, y, x); a convolution is
then a single matrix product, and pooling a reduction over each window.  The
backward of ``im2col`` is ``col2im`` and the other way round, so every backward
below is written with these two nodes and is itself differentiable.
"""

from __future__ import annotations

from .. import backend
from ..functions import col2im as _col2im_array
from ..functions import conv_output_size
from ..functions import im2col as _im2col_array
from .arithmetic import broadcast_to
from .core import Function, Variable
from .functions_tensor import GetItemGrad, matmul

__all__ = ["conv2d", "pooling", "average_pooling", "im2col", "col2im"]


def _pair(fn: str, name: str, value, same: bool = False) -> tuple:
    """``3`` -> (3, 3); ``(3, 3)`` stays; with ``same`` both entries must be equal."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or (same and pair[0] != pair[1]):
        raise ValueError(
            f"{fn}: expected {name} as an int or a pair"
            f"{' of equal ints' if same else ''}, got {value!r}"
        )
    return pair


def _out_hw(shape, kernel, stride, pad) -> tuple:
    return (
        conv_output_size(shape[2], kernel[0], stride, pad),
        conv_output_size(shape[3], kernel[1], stride, pad),
    )


class Im2col(Function):
    """``y = im2col(x)``: (N, C, H, W) -> (N*OH*OW, C*KH*KW); backward ``col2im(gy)``.

    With ``to_matrix=False`` the output is (N, C, KH, KW, OH, OW), as in DeZero.
    """

    def __init__(self, kernel_size, stride, pad, to_matrix):
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
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


def im2col(x, kernel_size, stride: int = 1, pad: int = 0, to_matrix: bool = True) -> Variable:
    """Unroll the windows of ``x`` (N, C, H, W) into rows (N*OH*OW, C*KH*KW)."""
    kernel = _pair("im2col", "kernel_size", kernel_size)
    stride = _pair("im2col", "stride", stride, same=True)[0]
    pad = _pair("im2col", "pad", pad, same=True)[0]
    return Im2col(kernel, stride, pad, to_matrix)(x)


class Col2im(Function):
    """``y = col2im(x)``, summing overlapping windows back into images; backward ``im2col``."""

    def __init__(self, input_shape, kernel_size, stride, pad, to_matrix):
        self.input_shape = tuple(input_shape)
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
        self.to_matrix = to_matrix

    def forward(self, col):
        KH, KW = self.kernel_size
        if not self.to_matrix:  # (N, C, KH, KW, OH, OW) -> rows
            col = col.transpose(0, 4, 5, 1, 2, 3).reshape(-1, self.input_shape[1] * KH * KW)
        return _col2im_array(col, self.input_shape, KH, KW, self.stride, self.pad)

    def backward(self, gy):
        return im2col(gy, self.kernel_size, self.stride, self.pad, self.to_matrix)


def col2im(x, input_shape, kernel_size, stride: int = 1, pad: int = 0, to_matrix=True) -> Variable:
    """Fold rows (N*OH*OW, C*KH*KW) back into images of ``input_shape``."""
    kernel = _pair("col2im", "kernel_size", kernel_size)
    stride = _pair("col2im", "stride", stride, same=True)[0]
    pad = _pair("col2im", "pad", pad, same=True)[0]
    return Col2im(input_shape, kernel, stride, pad, to_matrix)(x)


class Conv2d(Function):
    """2-D convolution (cross-correlation), ``y = im2col(x) @ W.reshape(OC, -1).T + b``.

    ``y[n, o, i, j] = sum_{c, p, q} W[o, c, p, q] x_pad[n, c, s i + p, s j + q] + b[o]``.
    backward, with ``gy`` as rows ``g`` (N*OH*OW, OC): ``gW = (g.T @ im2col(x))``
    reshaped to W, ``gb = sum(g, axis=0)``, ``gx = col2im(g @ W.reshape(OC, -1))``.
    Shapes: x (N, C, H, W), W (OC, C, KH, KW), b (OC,), y (N, OC, OH, OW).
    """

    def __init__(self, stride=1, pad=0):
        self.stride = stride
        self.pad = pad

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


def conv2d(x, W, b=None, stride: int = 1, pad: int = 0) -> Variable:
    """Convolve ``x`` (N, C, H, W) with filters ``W`` (OC, C, KH, KW), add ``b`` (OC,)."""
    stride = _pair("conv2d", "stride", stride, same=True)[0]
    pad = _pair("conv2d", "pad", pad, same=True)[0]
    f = Conv2d(stride, pad)
    return f(x, W) if b is None else f(x, W, b)


class Pooling(Function):
    """Max pooling: ``y`` = the maximum of each (KH, KW) window of each channel.

    backward: each ``gy`` goes to the position of its window's maximum (the
    ``argmax`` kept from forward); ``col2im`` adds up windows that overlap.
    """

    def __init__(self, kernel_size, stride, pad):
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad

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


def pooling(x, kernel_size, stride: int = 1, pad: int = 0) -> Variable:
    """Max pooling of ``x`` (N, C, H, W) over ``kernel_size`` windows."""
    kernel = _pair("pooling", "kernel_size", kernel_size)
    stride = _pair("pooling", "stride", stride, same=True)[0]
    pad = _pair("pooling", "pad", pad, same=True)[0]
    return Pooling(kernel, stride, pad)(x)


class AveragePooling(Function):
    """Average pooling: ``y`` = the mean of each window; backward spreads ``gy / (KH KW)``."""

    def __init__(self, kernel_size, stride, pad):
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad

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


def average_pooling(x, kernel_size, stride: int = 1, pad: int = 0) -> Variable:
    """Average pooling of ``x`` (N, C, H, W) over ``kernel_size`` windows."""
    kernel = _pair("average_pooling", "kernel_size", kernel_size)
    stride = _pair("average_pooling", "stride", stride, same=True)[0]
    pad = _pair("average_pooling", "pad", pad, same=True)[0]
    return AveragePooling(kernel, stride, pad)(x)
