"""Hand-written layers: each has ``forward`` and ``backward`` written out by hand."""

from .basic import AddLayer, Affine, LeakyRelu, MulLayer, Relu, Sigmoid, Tanh
from .bridge import FunctionLayer
from .conv import Convolution, Flatten, Pooling
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
]
