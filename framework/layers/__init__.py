"""Hand-written layers: each has ``forward`` and ``backward`` written out by hand.

Each reads as the book's formula below one guard call at the top of ``forward`` and
``backward``.  Two fast twins compute the same numbers faster where a benchmark
showed it pays (benchmarks/README.md): ``ConvolutionChannelsLast`` (multi-channel
convolutions) and ``PoolingWindowLoop`` (every max pooling of a trained net).

``FunctionLayer``, the bridge that runs an autograd function inside a
``Sequential``, is imported on first use: a student who never touches the
computation graph does not load ``framework.autograd`` with ``import framework``.
"""

from .basic import AddLayer, Affine, LeakyRelu, MulLayer, Relu, Sigmoid, Tanh
from .conv import Convolution, ConvolutionChannelsLast, Flatten, Pooling, PoolingWindowLoop
from .losses import MeanSquaredError, SoftmaxWithLoss
from .recurrent import LSTM, RNN, Embedding
from .regularization import BatchNormalization, Dropout

__all__ = [
    "AddLayer",
    "MulLayer",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Affine",
    "Convolution",
    "Pooling",
    "Flatten",
    "Dropout",
    "BatchNormalization",
    "SoftmaxWithLoss",
    "MeanSquaredError",
    "FunctionLayer",
    "LeakyRelu",
    "Embedding",
    "RNN",
    "LSTM",
    "ConvolutionChannelsLast",
    "PoolingWindowLoop",
]


def __getattr__(name: str):
    """Import the bridge (and with it ``framework.autograd``) only when it is asked for."""
    if name == "FunctionLayer":
        from .bridge import FunctionLayer

        return FunctionLayer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
