"""Ready-made nets: small factories that return a ``Sequential``, and a registry of them.

``mlp()`` builds the book's multi-layer net (Affine, activation, Affine, ...).
``MODELS`` maps a name to its factory; the command line (``python -m framework
train --model NAME``) looks models up there, so adding a model is one entry.
Every factory takes ``rng`` and ``dtype`` keywords and gives a net that maps
images of shape (N, 1, 28, 28) to 10 class scores (an ``Affine`` flattens its
input itself); the command line passes ``--hidden`` as ``hidden_sizes`` to a
factory that has that argument.
"""

from __future__ import annotations

import numpy as np

from .layers import Affine, Relu, Sigmoid, Tanh
from .net import Sequential

__all__ = ["ACTIVATIONS", "MODELS", "mlp"]

#: Activation layers by name, with the weight scale that suits each (book ch. 6).
ACTIVATIONS = {"relu": (Relu, "he"), "sigmoid": (Sigmoid, "xavier"), "tanh": (Tanh, "xavier")}


def mlp(
    input_size: int = 784,
    hidden_sizes=(100,),
    output_size: int = 10,
    activation: str = "relu",
    init="auto",
    rng=None,
    dtype="float32",
) -> Sequential:
    """Multi-layer perceptron: ``Affine -> activation`` per hidden size, then ``Affine``.

    ``mlp(784, (100,), 10)`` is the book's two-layer net:
    ``Affine(784, 100) -> Relu -> Affine(100, 10)``, trained with ``SoftmaxWithLoss``.

    Parameters
    ----------
    input_size : int
        Features per sample (784 for a 28x28 image).
    hidden_sizes : sequence of int
        Width of each hidden layer; ``()`` gives plain softmax regression.
    output_size : int
        Number of classes.
    activation : {"relu", "sigmoid", "tanh"}
    init : {"auto", "he", "xavier"} or float
        Weight scale; ``"auto"`` picks He for ReLU and Xavier for sigmoid and tanh.
    rng : numpy.random.Generator, optional
        Source of the initial weights (``default_rng(0)`` when omitted).
    dtype : dtype, default float32

    Returns
    -------
    Sequential
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"mlp: expected activation in {sorted(ACTIVATIONS)}, got {activation!r}")
    if isinstance(hidden_sizes, int):
        hidden_sizes = (hidden_sizes,)
    sizes = [input_size, *hidden_sizes, output_size]
    if any(not isinstance(s, int) or isinstance(s, bool) or s < 1 for s in sizes):
        raise ValueError(f"mlp: expected positive integer layer sizes, got {sizes}")
    act_class, auto_init = ACTIVATIONS[activation]
    rng = np.random.default_rng(0) if rng is None else rng  # one stream for all layers
    init = auto_init if init == "auto" else init
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Affine(n_in, n_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:  # no activation after the last Affine: it gives scores
            layers.append(act_class())
    return Sequential(layers)


#: Model factories by name, as ``python -m framework train --model NAME`` knows them.
MODELS = {"mlp": mlp}
