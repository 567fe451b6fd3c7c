"""framework: a small deep-learning framework to learn deep learning with.

Modules, in dependency order (each imports only those before it):

1. ``backend``      which array module (NumPy or CuPy) holds an array
2. ``functions``    stateless math: sigmoid, softmax, cross-entropy, one_hot
3. ``layers``       hand-written layers with forward and backward
4. ``net``          ``Sequential``: chains layers, owns params, save and load
5. ``trainer``      ``Trainer``: mini-batches, progress bar, history

Beside them: ``optimizers``, ``gradient`` (numerical gradients) and ``batches``
(``minibatches``, the one mini-batch iterator) depend only on ``backend``;
``npzfile`` (atomic saves, checked loads) and ``downloads`` (checked,
deadline-bound fetches) on nothing of ours; ``idx`` (MNIST's IDX files) on
``npzfile``; ``datasets`` on ``idx``, ``npzfile`` and ``downloads``;
``experiments`` (chapter 6's experiments) sits on ``trainer`` and ``batches``,
and ``plot`` draws what they return.  ``autograd`` (the computation graph, DeZero's
package) depends on ``backend``, ``functions``, ``gradient`` (its gradient check
uses the one numerical gradient) and ``npzfile``, and its DeZero-named
``datasets`` and ``optimizers`` wrap ours; the bridge that runs it inside a
``Sequential`` (``layers.FunctionLayer``) is imported on first use.  ``book``
(opt-in, ``python -m framework.book``) writes packages that run the books' own
scripts on all of this.  ``import framework`` needs only NumPy; matplotlib, tqdm,
pooch, graphviz and CuPy are imported by the functions that use them.
"""

from .backend import get_array_module, gpu_available, to_cpu, to_gpu
from .gradient import gradient_check, numerical_gradient
from .layers import (
    LSTM,
    RNN,
    AddLayer,
    Affine,
    BatchNormalization,
    Convolution,
    ConvolutionChannelsLast,
    Dropout,
    Embedding,
    Flatten,
    LeakyRelu,
    MeanSquaredError,
    MulLayer,
    Pooling,
    PoolingWindowLoop,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
)
from .net import Sequential
from .optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop

__version__ = "0.1.0"

__all__ = [
    "get_array_module",
    "gpu_available",
    "to_cpu",
    "to_gpu",
    "gradient_check",
    "numerical_gradient",
    "AddLayer",
    "MulLayer",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Affine",
    "Convolution",
    "Pooling",
    "PoolingWindowLoop",
    "ConvolutionChannelsLast",
    "Flatten",
    "Dropout",
    "BatchNormalization",
    "SoftmaxWithLoss",
    "MeanSquaredError",
    "LeakyRelu",
    "Embedding",
    "RNN",
    "LSTM",
    "Sequential",
    "SGD",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "RMSprop",
    "Adam",
]
