"""Book 1, chapter 8 (deep learning): the usage its scripts make of ``common/*``.

In our own words: the deep convolutional net written the book's way (a list of our
layers over its own weight dict, He scales from ``np.random.randn``) with its
shapes, float64 weights with float32 images, and ``half_float_network.py``: the
weights rounded to float16 in place (``param[...] = param.astype(np.float16)``)
and the images cast to float16 give the accuracy of float64; a net whose weights
are float16 arrays computes in float16 and agrees too.
"""

from __future__ import annotations

import warnings

import numpy as np

from framework.layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss

# (filters, pad) of the six 3x3 convolutions of the book's DeepConvNet
CONV_PARAMS = [(16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)]


class BookStyleDeepConvNet:
    """conv-relu-conv-relu-pool x 3, affine-relu-dropout-affine-dropout, softmax."""

    def __init__(self, input_dim=(1, 28, 28), hidden_size=50, output_size=10):
        fan_in = [input_dim[0] * 9] + [f * 9 for f, _ in CONV_PARAMS[:-1]]
        fan_in += [64 * 4 * 4, hidden_size]
        scales = np.sqrt(2.0 / np.array(fan_in))  # He, for ReLU
        randn = np.random.randn  # noqa: NPY002 (the book's global state)
        self.params = {}
        channels = input_dim[0]
        for i, (filters, _) in enumerate(CONV_PARAMS, start=1):
            self.params[f"W{i}"] = scales[i - 1] * randn(filters, channels, 3, 3)
            self.params[f"b{i}"] = np.zeros(filters)
            channels = filters
        self.params["W7"] = scales[6] * randn(64 * 4 * 4, hidden_size)
        self.params["b7"] = np.zeros(hidden_size)
        self.params["W8"] = scales[7] * randn(hidden_size, output_size)
        self.params["b8"] = np.zeros(output_size)
        p = self.params
        self.layers = []
        for i, (_, pad) in enumerate(CONV_PARAMS, start=1):
            self.layers += [Convolution(p[f"W{i}"], p[f"b{i}"], 1, pad), Relu()]
            if i % 2 == 0:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers += [Affine(p["W7"], p["b7"]), Relu(), Dropout(0.5)]
        self.layers += [Affine(p["W8"], p["b8"]), Dropout(0.5)]
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            x = layer.forward(x, train_flg) if isinstance(layer, Dropout) else layer.forward(x)
        return x

    def accuracy(self, x, t, batch_size=100):
        acc = 0.0
        for i in range(int(x.shape[0] / batch_size)):
            tx, tt = (
                x[i * batch_size : (i + 1) * batch_size],
                t[i * batch_size : (i + 1) * batch_size],
            )
            acc += np.sum(np.argmax(self.predict(tx), axis=1) == tt)
        return acc / x.shape[0]


def test_deep_convnet_shapes_and_dtypes(rng):
    np.random.seed(0)  # noqa: NPY002 (the book's global state)
    net = BookStyleDeepConvNet()
    x = rng.random((2, 1, 28, 28), dtype=np.float32)
    shapes = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for layer in net.layers:
            x = layer.forward(x, False) if isinstance(layer, Dropout) else layer.forward(x)
            shapes.append(x.shape[1:])
    convs = [
        s for layer, s in zip(net.layers, shapes, strict=True) if isinstance(layer, Convolution)
    ]
    pools = [s for layer, s in zip(net.layers, shapes, strict=True) if isinstance(layer, Pooling)]
    assert convs == [
        (16, 28, 28),
        (16, 28, 28),
        (32, 14, 14),
        (32, 16, 16),
        (64, 8, 8),
        (64, 8, 8),
    ]
    assert pools == [(16, 14, 14), (32, 8, 8), (64, 4, 4)]
    assert shapes[-1] == (10,) and x.dtype == np.float64  # the weights' dtype


def deep_net_and_images(rng, n=100):
    """The deep net and n images labelled by its own float64 predictions."""
    np.random.seed(1)  # noqa: NPY002 (the book's global state)
    net = BookStyleDeepConvNet()
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    t = np.argmax(net.predict(x), axis=1)
    return net, x, t


def test_half_float_network_keeps_the_accuracy(rng):
    net, x, t = deep_net_and_images(rng)
    assert net.accuracy(x, t) == 1.0  # the labels are its own predictions
    x16 = x.astype(np.float16)
    for param in net.params.values():
        param[...] = param.astype(np.float16)  # as the book: values rounded, dtype kept
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        acc16 = net.accuracy(x16, t)
    assert acc16 >= 0.95  # the book's point: float16 loses (almost) no accuracy


def test_float16_weights_compute_in_float16_and_agree(rng):
    # NumPy has no float16 matrix product in BLAS (slow), so a few images only.
    net, x, t = deep_net_and_images(rng, n=20)
    for layer in net.layers:
        if isinstance(layer, (Convolution, Affine)):
            layer.W, layer.b = layer.W.astype(np.float16), layer.b.astype(np.float16)
    scores = net.predict(x)  # float32 images cast to float16 at each layer's door
    assert scores.dtype == np.float16
    assert np.mean(np.argmax(scores, axis=1) == t) >= 0.9
