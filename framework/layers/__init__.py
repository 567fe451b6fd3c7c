"""Hand-written layers: each has ``forward`` and ``backward`` written out by hand."""

from .basic import AddLayer, Affine, MulLayer, Relu, Sigmoid, Tanh
from .losses import MeanSquaredError, SoftmaxWithLoss

__all__ = [
    "AddLayer",
    "MulLayer",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Affine",
    "SoftmaxWithLoss",
    "MeanSquaredError",
]
