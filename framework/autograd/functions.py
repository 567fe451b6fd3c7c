"""``F``: every differentiable function, under DeZero's names and signatures.

``import framework.autograd.functions as F``, then ``F.relu(F.linear(x, W, b))``.
Each name is a plain function that calls a ``Function`` node; the nodes live, by
topic, in these modules (forward and backward side by side, formula in the docstring),
grouped as DeZero's ``functions.py`` groups them:

=====================  ==============================================================
``arithmetic``         add, sub, mul, div, neg, pow (the operators), sum_to, broadcast_to
``functions_math``     exp, log, reciprocal, sin, cos, tanh, sigmoid, relu, softmax,
                       log_softmax, leaky_relu, clip
``functions_tensor``   reshape, expand_dims, flatten, transpose, get_item, sum, average
                       (mean), matmul, linear, linear_simple, max, min
``functions_loss``     mean_squared_error(_simple), softmax_cross_entropy,
                       sigmoid_cross_entropy, binary_cross_entropy, accuracy
``functions_train``    dropout, batch_norm (alias ``batch_nrom``, DeZero's spelling),
                       embed_id
``functions_conv``     conv2d, conv2d_simple, deconv2d, pooling, pooling_simple,
                       average_pooling, im2col, col2im
=====================  ==============================================================

Where DeZero keeps a plain version beside a fused one, both are here and the
tests prove them equal: ``linear_simple``, ``sigmoid_simple``, ``softmax_simple``,
``softmax_cross_entropy_simple``, ``mean_squared_error_simple``, ``conv2d_simple``,
``pooling_simple``.  More activations assembled from primitive nodes only (swish,
GELU ...), with functions that draw their graphs, are in
:mod:`framework.autograd.composed`.
"""

from __future__ import annotations

from .arithmetic import (
    Add,
    BroadcastTo,
    Div,
    Mul,
    Neg,
    Pow,
    Sub,
    SumTo,
    add,
    broadcast_to,
    div,
    mul,
    neg,
    pow,
    rdiv,
    rsub,
    sub,
    sum_to,
)
from .composed import sigmoid as sigmoid_simple
from .composed import softmax as softmax_simple
from .composed import softmax_cross_entropy as softmax_cross_entropy_simple
from .core import Function, Variable, as_array, as_variable
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
from .functions_loss import (
    MeanSquaredError,
    SoftmaxCrossEntropy,
    accuracy,
    binary_cross_entropy,
    mean_squared_error,
    mean_squared_error_simple,
    sigmoid_cross_entropy,
    softmax_cross_entropy,
)
from .functions_math import (
    Clip,
    Cos,
    Exp,
    LeakyReLU,
    Log,
    LogSoftmax,
    Reciprocal,
    ReLU,
    Sigmoid,
    Sin,
    Softmax,
    Tanh,
    clip,
    cos,
    exp,
    leaky_relu,
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
    GetItem,
    GetItemGrad,
    Linear,
    MatMul,
    Max,
    Min,
    Reshape,
    Sum,
    Transpose,
    average,
    expand_dims,
    flatten,
    get_item,
    linear,
    linear_simple,
    matmul,
    max,
    mean,
    min,
    reshape,
    sum,
    transpose,
)
from .functions_train import BatchNorm, batch_norm, batch_nrom, dropout, embed_id

__all__ = [
    # arithmetic (the operators)
    "add",
    "sub",
    "rsub",
    "mul",
    "div",
    "rdiv",
    "neg",
    "pow",
    # elementwise math and activations
    "exp",
    "log",
    "reciprocal",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "sigmoid_simple",
    "relu",
    "leaky_relu",
    "softmax",
    "softmax_simple",
    "log_softmax",
    "clip",
    # tensors
    "reshape",
    "expand_dims",
    "flatten",
    "transpose",
    "get_item",
    "sum",
    "sum_to",
    "broadcast_to",
    "average",
    "mean",
    "matmul",
    "linear",
    "linear_simple",
    "max",
    "min",
    # losses and metrics
    "mean_squared_error",
    "mean_squared_error_simple",
    "softmax_cross_entropy",
    "softmax_cross_entropy_simple",
    "sigmoid_cross_entropy",
    "binary_cross_entropy",
    "accuracy",
    # training-time functions
    "dropout",
    "batch_norm",
    "batch_nrom",
    "embed_id",
    # convolution
    "conv2d",
    "conv2d_simple",
    "deconv2d",
    "pooling",
    "pooling_simple",
    "average_pooling",
    "im2col",
    "col2im",
    # the Function classes, under DeZero's names
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Pow",
    "SumTo",
    "BroadcastTo",
    "Exp",
    "Log",
    "Reciprocal",
    "Sin",
    "Cos",
    "Tanh",
    "Sigmoid",
    "ReLU",
    "LeakyReLU",
    "Softmax",
    "LogSoftmax",
    "Clip",
    "Reshape",
    "Transpose",
    "GetItem",
    "GetItemGrad",
    "Sum",
    "MatMul",
    "Linear",
    "Max",
    "Min",
    "MeanSquaredError",
    "SoftmaxCrossEntropy",
    "BatchNorm",
    "Conv2d",
    "Deconv2d",
    "Pooling",
    "AveragePooling",
    "Im2col",
    "Col2im",
    # DeZero's functions module also hands these on
    "Function",
    "Variable",
    "as_array",
    "as_variable",
]
