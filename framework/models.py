"""Ready-made nets: small factories that return a ``Sequential``, and a registry of them.

``mlp()`` builds the book's multi-layer net (Affine, activation, Affine, ...),
``simple_cnn()`` its chapter-7 convolutional net and ``deep_cnn()`` the deeper
chapter-8 net (three conv-conv-pool blocks with dropout).
``MODELS`` maps a name to its factory; the command line (``python -m framework
train --model NAME``) looks models up there, so adding a model is one entry.
Every factory takes ``rng`` and ``dtype`` keywords (without ``rng``, weights
come from NumPy's global state) and gives a net that maps
images of shape (N, 1, 28, 28) to 10 class scores (an ``Affine`` flattens its
input itself); the command line passes ``--hidden`` as ``hidden_sizes`` to a
factory that has that argument.
"""

from __future__ import annotations

import numpy as np

from .functions import conv_output_size
from .layers import (
    Affine,
    Convolution,
    ConvolutionChannelsLast,
    Dropout,
    PoolingWindowLoop,
    Relu,
    Sigmoid,
    Tanh,
)
from .net import Sequential

__all__ = ["ACTIVATIONS", "MODELS", "mlp", "simple_cnn", "deep_cnn"]


def _check_sizes(who: str, **sizes) -> None:
    """Raise unless every size is a positive integer (NumPy integers count)."""
    for name, size in sizes.items():
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(f"{who}: expected {name} to be an int, got {size!r}")
        if size < 1:
            raise ValueError(f"{who}: expected {name} to be a positive integer, got {size}")


def _check_input_dim(who: str, input_dim) -> tuple:
    """Return ``input_dim`` as ``(C, H, W)``, or raise naming ``who`` and the expected form."""
    if not (isinstance(input_dim, (tuple, list)) and len(input_dim) == 3):
        raise ValueError(
            f"{who}: expected input_dim as (channels, height, width), e.g. (1, 28, 28), "
            f"got {input_dim!r}"
        )
    C, H, W = input_dim
    _check_sizes(who, channels=C, height=H, width=W)
    return C, H, W


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
        Source of the initial weights; NumPy's global state when omitted, so
        ``np.random.seed`` repeats a run.
    dtype : dtype, default float32

    Returns
    -------
    Sequential
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"mlp: expected activation in {sorted(ACTIVATIONS)}, got {activation!r}")
    if isinstance(hidden_sizes, (int, np.integer)):
        hidden_sizes = (hidden_sizes,)
    if isinstance(hidden_sizes, str):
        raise ValueError(f"mlp: expected hidden_sizes as a tuple of ints, got {hidden_sizes!r}")
    sizes = [input_size, *hidden_sizes, output_size]
    if any(not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 1 for s in sizes):
        raise ValueError(f"mlp: expected positive integer layer sizes, got {sizes}")
    sizes = [int(s) for s in sizes]
    act_class, auto_init = ACTIVATIONS[activation]
    init = auto_init if init == "auto" else init
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Affine(n_in, n_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:  # no activation after the last Affine: it gives scores
            layers.append(act_class())
    return Sequential(layers)


def simple_cnn(
    input_dim=(1, 28, 28),
    filter_num: int = 30,
    filter_size: int = 5,
    hidden_size: int = 100,
    output_size: int = 10,
    init="he",
    rng=None,
    dtype="float32",
) -> Sequential:
    """Build the book's simple convolutional net (chapter 7).

    ``Convolution(30 filters 5x5) -> Relu -> Pooling(2x2, stride 2) -> Affine(100) -> Relu
    -> Affine(10)``: on 28x28 images the convolution gives 30 maps of 24x24 and the
    pooling 30 maps of 12x12, so the first Affine takes 4,320 inputs.

    Parameters
    ----------
    input_dim : tuple (C, H, W)
        Shape of one image.
    filter_num, filter_size : int
        Number and side length of the convolution's filters (stride 1, no padding).
    hidden_size, output_size : int
        Width of the hidden Affine layer; number of classes.
    init : {"he", "xavier"} or float
        Weight scale of every layer (the book uses 0.01; He trains faster).
    rng : numpy.random.Generator, optional
    dtype : dtype, default float32

    Returns
    -------
    Sequential
    """
    C, H, W = _check_input_dim("simple_cnn", input_dim)
    _check_sizes(
        "simple_cnn",
        filter_num=filter_num,
        filter_size=filter_size,
        hidden_size=hidden_size,
        output_size=output_size,
    )
    conv_h, conv_w = conv_output_size(H, filter_size), conv_output_size(W, filter_size)
    if conv_h < 2 or conv_w < 2 or conv_h % 2 or conv_w % 2:
        raise ValueError(
            f"simple_cnn: a {filter_size}x{filter_size} filter on {H}x{W} images gives "
            f"{conv_h}x{conv_w} maps, which 2x2 pooling cannot halve; pick a filter_size "
            "that leaves an even size"
        )
    pooled = filter_num * (conv_h // 2) * (conv_w // 2)
    return Sequential(
        [
            Convolution(
                (filter_num, C, filter_size, filter_size), init=init, rng=rng, dtype=dtype
            ),
            Relu(),
            PoolingWindowLoop(2, 2, stride=2),  # Pooling's measured fast twin
            Affine(pooled, hidden_size, init=init, rng=rng, dtype=dtype),
            Relu(),
            Affine(hidden_size, output_size, init=init, rng=rng, dtype=dtype),
        ]
    )


def deep_cnn(
    input_dim=(1, 28, 28),
    hidden_size: int = 50,
    output_size: int = 10,
    dropout: float = 0.5,
    score_dropout: bool = False,
    rng=None,
    dtype="float32",
) -> Sequential:
    """Build the book's deeper convolutional net (chapter 8), with He initialisation.

    Three blocks of ``conv 3x3 -> Relu -> conv 3x3 -> Relu -> Pooling(2x2)`` with 16,
    32 and 64 filters (28 -> 14 -> 8 -> 4 pixels: the fourth convolution pads by 2),
    then ``Affine(50) -> Relu -> Dropout -> Affine(10)``.  The book also drops out
    the class scores (``score_dropout=True``); on Fashion-MNIST that slowed
    training down (test accuracy 0.892 after 5 epochs), so it is off by default.

    Parameters
    ----------
    input_dim : tuple (C, H, W)
        Shape of one image; 28x28 as in the book.
    hidden_size, output_size : int
    dropout : float
        Dropout ratio after the hidden Affine layer (and of the scores).
    score_dropout : bool
        Add the book's last Dropout, on the class scores.
    rng : numpy.random.Generator, optional
        Source of the initial weights and of the dropout masks; NumPy's global
        state when omitted, so ``np.random.seed`` repeats a run.
    dtype : dtype, default float32

    Returns
    -------
    Sequential
    """
    C, H, W = _check_input_dim("deep_cnn", input_dim)
    _check_sizes("deep_cnn", hidden_size=hidden_size, output_size=output_size)
    if (H, W) != (28, 28):
        raise ValueError(f"deep_cnn: expected 28x28 images as in the book, got {H}x{W}")
    layers = []
    channels = C
    # (filters, pad) of the six convolutions; every second one is followed by pooling.
    # Convolution's channels-last twin pays from a few input channels on (benchmarks/README.md);
    # PoolingWindowLoop is Pooling's fast twin.  Both are tested equal to the plain layers.
    for i, (filters, pad) in enumerate([(16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)]):
        conv = Convolution if channels == 1 else ConvolutionChannelsLast
        layers += [conv((filters, channels, 3, 3), pad=pad, rng=rng, dtype=dtype), Relu()]
        if i % 2 == 1:
            layers.append(PoolingWindowLoop(2, 2, stride=2))
        channels = filters
    layers += [
        Affine(64 * 4 * 4, hidden_size, rng=rng, dtype=dtype),
        Relu(),
        Dropout(dropout, rng=rng),
        Affine(hidden_size, output_size, rng=rng, dtype=dtype),
    ]
    if score_dropout:
        layers.append(Dropout(dropout, rng=rng))
    return Sequential(layers)


#: Model factories by name, as ``python -m framework train --model NAME`` knows them.
MODELS = {"mlp": mlp, "cnn": simple_cnn, "deep_cnn": deep_cnn}
