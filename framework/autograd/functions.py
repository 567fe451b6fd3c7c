"""``F``: every differentiable function, under DeZero's names and signatures.

``import framework.autograd.functions as F``, then ``F.relu(F.linear(x, W, b))``.
Each name is a plain function that calls a ``Function`` node (forward and backward
side by side, formula in the docstring).  The nodes live in three modules,
grouped as DeZero's ``functions.py`` groups them, and this one gathers them:

=====================  ==============================================================
``operators``          add, sub, mul, div, neg, pow, sum_to, broadcast_to, reshape,
                       transpose, get_item, sum, max, min, matmul: the nodes behind
                       ``Variable``'s operators and methods (attached there, once)
``functions_math``     exp, log, reciprocal, sin, cos, tanh, sigmoid, relu, softmax,
                       log_softmax, leaky_relu, clip; mean_squared_error(_simple),
                       softmax_cross_entropy, sigmoid_cross_entropy,
                       binary_cross_entropy, accuracy
``functions_conv``     conv2d, conv2d_simple, deconv2d, pooling, pooling_simple,
                       average_pooling, im2col, col2im
this module            linear, linear_simple, expand_dims, flatten, average (mean);
                       dropout, batch_norm (alias ``batch_nrom``, DeZero's spelling),
                       embed_id
=====================  ==============================================================

Where DeZero keeps a plain version beside a fused one, both are here and the
tests prove them equal: ``linear_simple``, ``sigmoid_simple``, ``softmax_simple``,
``softmax_cross_entropy_simple``, ``mean_squared_error_simple``, ``conv2d_simple``,
``pooling_simple``.  More activations assembled from primitive nodes only (swish,
GELU ...), with functions that draw their graphs, are in
:mod:`framework.autograd.composed`.

``dropout`` and ``batch_norm`` read ``Config.train``; wrap evaluation in
``with test_mode():``.
"""

# ruff: noqa: F401  (F re-exports the nodes of its modules; __all__ is built from theirs)

from __future__ import annotations

from .. import backend
from . import functions_conv, functions_math, operators
from .composed import sigmoid as sigmoid_simple
from .composed import softmax as softmax_simple
from .composed import softmax_cross_entropy as softmax_cross_entropy_simple
from .core import Config, Function, Variable, as_array, as_variable
from .functions_conv import (
    AveragePooling,
    Col2im,
    Conv2d,
    Deconv2d,
    Im2col,
    Pooling,
    average_pooling,
    col2im,
    conv2d,
    conv2d_simple,
    deconv2d,
    im2col,
    pooling,
    pooling_simple,
)
from .functions_math import (
    Clip,
    Cos,
    Exp,
    LeakyReLU,
    Log,
    LogSoftmax,
    MeanSquaredError,
    Reciprocal,
    ReLU,
    Sigmoid,
    Sin,
    Softmax,
    SoftmaxCrossEntropy,
    Tanh,
    accuracy,
    binary_cross_entropy,
    clip,
    cos,
    exp,
    leaky_relu,
    log,
    log_softmax,
    mean_squared_error,
    mean_squared_error_simple,
    reciprocal,
    relu,
    sigmoid,
    sigmoid_cross_entropy,
    sin,
    softmax,
    softmax_cross_entropy,
    tanh,
)
from .operators import (
    Add,
    BroadcastTo,
    Div,
    GetItem,
    GetItemGrad,
    MatMul,
    Max,
    Min,
    Mul,
    Neg,
    Pow,
    Reshape,
    Sub,
    Sum,
    SumTo,
    Transpose,
    _check_matmul,
    add,
    broadcast_to,
    div,
    get_item,
    matmul,
    max,
    min,
    mul,
    neg,
    pow,
    rdiv,
    reshape,
    rsub,
    sub,
    sum,
    sum_to,
    transpose,
)

# F's names: every name of operators (but setup_variable) and functions_math, the
# convolution functions, and those defined here.
__all__ = [
    *(name for name in operators.__all__ if name != "setup_variable"),
    *functions_math.__all__,
    *functions_conv.F_NAMES,
    "sigmoid_simple",
    "softmax_simple",
    "softmax_cross_entropy_simple",
    "expand_dims",
    "flatten",
    "average",
    "mean",
    "linear",
    "linear_simple",
    "dropout",
    "batch_norm",
    "batch_nrom",
    "embed_id",
    "Linear",
    "BatchNorm",
    # DeZero's functions module also hands these on
    "Function",
    "Variable",
    "as_array",
    "as_variable",
]


# -- fully connected ---------------------------------------------------------
class Linear(Function):
    """Fully connected: ``y = x @ W + b``.

    backward: ``gx = gy @ W.T``, ``gW = x.T @ gy``, ``gb = sum(gy, axis=0)``.
    Shapes: x (N, D), W (D, M), b (M,) or absent, y (N, M).
    """

    def forward(self, x, W, b=None):
        _check_matmul("linear", x, W)
        if b is not None and b.shape != (W.shape[1],):
            raise ValueError(
                f"linear: expected b of shape ({W.shape[1]},) to match W {W.shape}, got {b.shape}"
            )
        y = x @ W
        if b is not None:
            y += b  # in place: y is a new array of our own
        return y

    def backward(self, gy):
        x, W = self.inputs[:2]
        # A plain-array x (a network's input) needs no gradient: skip that product.
        gx = matmul(gy, W.T) if self.needs_input_grad[0] else None
        gW = matmul(x.T, gy) if self.needs_input_grad[1] else None
        if len(self.inputs) == 2:
            return gx, gW
        return gx, gW, sum(gy, axis=0)


def linear(x, W, b=None) -> Variable:
    """``x @ W + b`` as one node (cheaper than ``matmul`` then ``add``)."""
    return Linear()(x, W) if b is None else Linear()(x, W, b)


def expand_dims(x, axis: int) -> Variable:
    """Insert an axis of length 1 at position ``axis`` (a ``reshape``)."""
    x = as_variable(x)
    shape = list(x.shape)
    shape.insert(axis, 1)
    return reshape(x, tuple(shape))


def flatten(x) -> Variable:
    """Reshape ``(N, ...)`` to ``(N, D)``, keeping the batch axis."""
    return reshape(x, (x.shape[0], -1))


def average(x, axis=None, keepdims: bool = False) -> Variable:
    """Mean of ``x`` over ``axis``: ``sum(x, axis) * (y.size / x.size)``; also ``F.mean``."""
    x = as_variable(x)
    y = sum(x, axis, keepdims)
    return y * (y.size / x.size)


mean = average


def linear_simple(x, W, b=None) -> Variable:
    """``x @ W + b`` as two nodes, ``matmul`` then ``add`` (the plain twin of ``linear``).

    The product ``t`` is needed by no backward (``add`` passes its gradient
    through), so its array is released at once to save memory, as in DeZero.
    """
    t = matmul(x, W)
    if b is None:
        return t
    y = t + b
    t.data = None  # no backward reads it
    return y


# -- training-time functions and embed_id ------------------------------------
def dropout(x, dropout_ratio: float = 0.5, rng=None) -> Variable:
    """Inverted dropout: zero each element with probability ``dropout_ratio``.

    Training: ``mask = rand(x.shape) > dropout_ratio`` and
    ``y = x * mask / (1 - dropout_ratio)``, so the expected value of ``y`` is
    ``x``; the backward ``gx = gy * mask / (1 - dropout_ratio)`` follows from
    ``mul`` and ``div``.  Test mode: ``y = x``.

    Parameters
    ----------
    x : Variable or array
    dropout_ratio : float in [0, 1)
    rng : numpy.random.Generator, optional
        Draws the mask (on the host).  Without it the mask comes from the global
        state of ``x``'s array module (``np.random.rand``, as in DeZero), so
        ``np.random.seed(0)`` repeats the same mask.
    """
    x = as_variable(x)
    if not 0.0 <= dropout_ratio < 1.0:
        raise ValueError(f"dropout: expected dropout_ratio in [0, 1), got {dropout_ratio}")
    if not Config.train:
        return x
    xp = backend.get_array_module(x)
    draws = xp.random.rand(*x.shape) if rng is None else xp.asarray(rng.random(x.shape))
    mask = (draws > dropout_ratio).astype(x.dtype)
    scale = xp.asarray(1.0 - dropout_ratio, dtype=x.dtype)
    return x * mask / scale


def _rows(a):
    """(N, C, H, W) -> (N*H*W, C) so every channel is a column; 2-D stays."""
    return a if a.ndim == 2 else a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])


def _unrows(a, shape):
    """Inverse of ``_rows`` for an array or a Variable."""
    if len(shape) == 2:
        return a
    N, C, H, W = shape
    return a.reshape(N, H, W, C).transpose(0, 3, 1, 2)


class BatchNorm(Function):
    """Batch normalization per feature (per channel for images).

    forward: ``xc = (x - mean) / sqrt(var + eps)``, ``y = gamma * xc + beta``,
    with the batch mean and variance when training (the running ``mean``/``var``
    arrays are then updated in place: ``m = decay m + (1 - decay) batch_mean``),
    and the running ones in test mode.
    backward (training, ``M`` rows): ``gbeta = sum(gy)``, ``ggamma = sum(xc gy)``,
    ``gx = gamma / sqrt(var + eps) * (gy - gbeta / M - xc * ggamma / M)``.
    In test mode the statistics are constants and ``gx = gamma / sqrt(var + eps) gy``.
    ``xc`` is kept as a constant, so this backward is exact to first order only.
    """

    def __init__(self, mean, var, decay, eps):
        self.avg_mean = mean
        self.avg_var = var
        self.decay = decay
        self.eps = eps

    def forward(self, x, gamma, beta):
        xp = backend.get_array_module(x)
        x2 = _rows(x)
        self.train = Config.train
        if self.train:
            mean, var = x2.mean(axis=0), x2.var(axis=0)
            m = x2.shape[0]
            self.avg_mean *= self.decay
            self.avg_mean += (1 - self.decay) * mean
            self.avg_var *= self.decay
            self.avg_var += (1 - self.decay) * (m / (m - 1 if m > 1 else 1)) * var  # unbiased
        else:
            mean, var = self.avg_mean, self.avg_var
        self.inv_std = 1 / xp.sqrt(var + self.eps)
        self.xc = (x2 - mean) * self.inv_std
        return _unrows(gamma * self.xc + beta, x.shape)

    def backward(self, gy):
        x, gamma = self.inputs[:2]
        gy2 = _rows(gy)
        gbeta = gy2.sum(axis=0)
        ggamma = (gy2 * self.xc).sum(axis=0)
        if self.train:
            M = gy2.shape[0]
            gy2 = gy2 - gbeta / M - self.xc * ggamma / M
        gx = gy2 * (gamma * self.inv_std)
        return _unrows(gx, x.shape), ggamma, gbeta


def batch_norm(x, gamma, beta, mean, var, decay: float = 0.9, eps: float = 2e-5) -> Variable:
    """Normalize ``x`` (N, C) or (N, C, H, W) per feature; ``mean``/``var`` are running arrays.

    The convention, DeZero's (from Chainer), shared with the hand-written
    ``BatchNormalization`` layer: ``eps = 2e-5`` inside the square root, running
    statistics ``m = decay m + (1 - decay) batch_mean`` with ``decay = 0.9``, and the
    *unbiased* batch variance ``var * M / (M - 1)`` (``M`` rows: N, or N*H*W for
    images) in the running variance, because in test mode it estimates the variance
    of the whole population, not of one batch.  A batch of one row adds its
    (zero) variance unscaled.  The normalisation itself uses the biased batch
    variance, as the paper (Ioffe and Szegedy, 2015) and both books do.

    Parameters
    ----------
    x : Variable or array, shape (N, C) or (N, C, H, W)
    gamma, beta : Variable or array, shape (C,)
        Learned scale and shift.
    mean, var : array, shape (C,)
        Running statistics, updated in place when training.
    """
    x = as_variable(x)
    C = x.shape[1] if x.ndim in (2, 4) else None
    if C is None or any(getattr(a, "shape", None) != (C,) for a in (gamma, beta, mean, var)):
        raise ValueError(
            f"batch_norm: expected x of shape (N, C) or (N, C, H, W) and gamma, beta, mean, "
            f"var of shape (C,), got x {x.shape}, gamma {getattr(gamma, 'shape', None)}, "
            f"beta {getattr(beta, 'shape', None)}, mean {getattr(mean, 'shape', None)}, "
            f"var {getattr(var, 'shape', None)}"
        )
    return BatchNorm(mean, var, decay, eps)(x, gamma, beta)


batch_nrom = batch_norm  # DeZero's spelling (its layers call F.batch_nrom)


def embed_id(x, W) -> Variable:
    """Rows of the embedding matrix ``W`` (V, D) at the word ids ``x``: ``W[x]``.

    ``x`` is an integer array of any shape S; the result has shape S + (D,).  The
    backward adds each ``gy`` row into row ``x`` of ``gW`` (an id seen twice gets both).
    """
    if isinstance(x, Variable):
        x = x.data
    if isinstance(x, (int, list, tuple)):
        x = backend.get_array_module(W).asarray(x)
    if getattr(x, "dtype", None) is None or x.dtype.kind not in "iu":
        raise TypeError(
            f"embed_id: expected x as an integer array of word ids, got "
            f"{getattr(x, 'dtype', type(x).__name__)}"
        )
    V = W.shape[0]
    if x.size and (int(x.min()) < 0 or int(x.max()) >= V):
        raise ValueError(
            f"embed_id: expected ids in [0, {V - 1}] for W with {V} rows, got values from "
            f"{int(x.min())} to {int(x.max())}"
        )
    return get_item(W, x)
