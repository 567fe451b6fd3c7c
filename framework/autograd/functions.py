"""``F``: every differentiable function, under DeZero's names and signatures.

``import framework.autograd.functions as F``, then ``F.relu(F.linear(x, W, b))``.
Each name is a plain function that calls a ``Function`` node; the nodes live, by
topic, in these modules (forward and backward side by side, formula in the docstring):

=====================  ==============================================================
``arithmetic``         add, sub, mul, div, neg, pow (the operators), sum_to, broadcast_to
``functions_math``     exp, log, reciprocal, sin, cos, tanh, sigmoid, relu, softmax,
                       log_softmax, clip
``functions_tensor``   reshape, flatten, transpose, get_item, sum, matmul, linear, max, min
``functions_loss``     mean_squared_error, softmax_cross_entropy, accuracy
``functions_train``    dropout, batch_norm (they read ``Config.train``)
``functions_conv``     conv2d, pooling, average_pooling, im2col, col2im
=====================  ==============================================================

Activations assembled from primitive nodes only, with no backward written at all
(sigmoid as ``1 / (1 + exp(-x))``, swish, GELU ...), are in
:mod:`framework.autograd.composed`, next to functions that draw their graphs.  Three
of them are also here under DeZero's names, beside their fused twins:
``sigmoid_simple``, ``softmax_simple`` and ``softmax_cross_entropy_simple``.
"""

from __future__ import annotations

from .arithmetic import add, broadcast_to, div, mul, neg, pow, rdiv, rsub, sub, sum_to
from .composed import sigmoid as sigmoid_simple
from .composed import softmax as softmax_simple
from .composed import softmax_cross_entropy as softmax_cross_entropy_simple
from .functions_conv import average_pooling, col2im, conv2d, im2col, pooling
from .functions_loss import accuracy, mean_squared_error, softmax_cross_entropy
from .functions_math import (
    clip,
    cos,
    exp,
    log,
    log_softmax,
    reciprocal,
    relu,
    sigmoid,
    sin,
    softmax,
    tanh,
)
from .functions_tensor import (
    flatten,
    get_item,
    linear,
    matmul,
    max,
    min,
    reshape,
    sum,
    transpose,
)
from .functions_train import batch_norm, dropout

__all__ = [
    "add",
    "sub",
    "rsub",
    "mul",
    "div",
    "rdiv",
    "neg",
    "pow",
    "exp",
    "log",
    "reciprocal",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "sigmoid_simple",
    "relu",
    "softmax",
    "softmax_simple",
    "log_softmax",
    "clip",
    "reshape",
    "flatten",
    "transpose",
    "get_item",
    "sum",
    "sum_to",
    "broadcast_to",
    "matmul",
    "linear",
    "max",
    "min",
    "mean_squared_error",
    "softmax_cross_entropy",
    "softmax_cross_entropy_simple",
    "accuracy",
    "dropout",
    "batch_norm",
    "conv2d",
    "pooling",
    "average_pooling",
    "im2col",
    "col2im",
]
