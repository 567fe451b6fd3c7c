"""Book 1, chapter 7 (convolutional nets): the usage its scripts make of ``common/*``.

In our own words: a single filter applied with ``Convolution(w, 0)`` to a float32
image (``apply_filter.py``), the simple convolutional net written the book's way
(its own weight dict, our layers in an ``OrderedDict``) with its shapes and its
gradient check on one 10x10 image with a label given as a (1, 1) column
(``gradient_check.py``), pooling with the book's default stride, and stride and
padding that the book's formula floors.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy as np

from framework.gradient import numerical_gradient
from framework.layers import Affine, Convolution, Pooling, Relu, SoftmaxWithLoss


def correlate(img, w, stride=1):
    """One filter over one channel, by its definition."""
    FH, FW = w.shape
    H, W = img.shape
    out = np.empty(((H - FH) // stride + 1, (W - FW) // stride + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(img[i * stride : i * stride + FH, j * stride : j * stride + FW] * w)
    return out


def test_apply_filter_with_a_scalar_bias_of_zero(rng):
    # apply_filter.py: w = W1[i] reshaped to (1, 1, 5, 5), b = 0, the image from imread
    # (float32) reshaped to (1, 1, H, W).
    img = rng.random((1, 1, 12, 10), dtype=np.float32)
    w = 0.01 * rng.standard_normal((1, 1, 5, 5))  # float64, as the book's weights
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Convolution(w, 0).forward(img)
    assert out.shape == (1, 1, 8, 6) and out.dtype == np.float64
    want = correlate(img[0, 0].astype(np.float64), w[0, 0])
    np.testing.assert_allclose(out.reshape(8, 6), want, rtol=1e-12, atol=1e-15)


class BookStyleSimpleConvNet:
    """The chapter's net, conv - relu - pool - affine - relu - affine - softmax."""

    def __init__(self, input_dim=(1, 28, 28), filter_num=30, filter_size=5, pad=0, stride=1,
                 hidden_size=100, output_size=10, weight_init_std=0.01):  # fmt: skip
        C, H, _ = input_dim
        conv_out = (H - filter_size + 2 * pad) // stride + 1
        pool_out = filter_num * (conv_out // 2) * (conv_out // 2)
        std = weight_init_std
        randn = np.random.randn  # noqa: NPY002 (the book's global state)
        self.params = {
            "W1": std * randn(filter_num, C, filter_size, filter_size),
            "b1": np.zeros(filter_num),
            "W2": std * randn(pool_out, hidden_size),
            "b2": np.zeros(hidden_size),
            "W3": std * randn(hidden_size, output_size),
            "b3": np.zeros(output_size),
        }
        p = self.params
        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(p["W1"], p["b1"], stride, pad)
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(p["W2"], p["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(p["W3"], p["b3"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def numerical_gradient(self, x, t):
        return {
            k: numerical_gradient(lambda _: self.loss(x, t), v) for k, v in self.params.items()
        }

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        names = {"1": "Conv1", "2": "Affine1", "3": "Affine2"}
        grads = {}
        for i, name in names.items():
            grads["W" + i], grads["b" + i] = self.layers[name].dW, self.layers[name].db
        return grads


def test_simple_convnet_shapes_on_28x28_images(rng):
    np.random.seed(0)  # noqa: NPY002 (the book's global state)
    net = BookStyleSimpleConvNet()
    x = rng.random((3, 1, 28, 28), dtype=np.float32)
    shapes = []
    for layer in net.layers.values():
        x = layer.forward(x)
        shapes.append(x.shape)
    assert shapes == [
        (3, 30, 24, 24),
        (3, 30, 24, 24),
        (3, 30, 12, 12),
        (3, 100),
        (3, 100),
        (3, 10),
    ]
    assert net.params["W2"].shape == (4320, 100)


def test_simple_convnet_gradient_check_as_in_the_book(rng):
    # gradient_check.py: input (1, 10, 10), 10 filters 3x3, hidden 10, T = [[1]].
    np.random.seed(0)  # noqa: NPY002 (the book's global state)
    net = BookStyleSimpleConvNet(input_dim=(1, 10, 10), filter_num=10, filter_size=3,
                                 hidden_size=10, output_size=10)  # fmt: skip
    X = rng.random(100).reshape((1, 1, 10, 10))
    T = np.array([1]).reshape((1, 1))
    grad_num = net.numerical_gradient(X, T)
    grad = net.gradient(X, T)
    diff = {key: np.abs(grad_num[key] - grad[key]).mean() for key in grad_num}
    # The book prints about 1e-10 to 1e-13 for the Affine layers ...
    assert max(diff[k] for k in ("W2", "b2", "W3", "b3")) < 1e-9, diff
    # ... and about 1e-6 to 1e-5 for the convolution: with weights of 0.01 a step of
    # h = 1e-4 moves some ReLU inputs across 0.  A smaller step removes that.
    assert diff["W1"] < 1e-4 and diff["b1"] < 1e-4, diff
    for key in ("W1", "b1"):
        fine = numerical_gradient(lambda _: net.loss(X, T), net.params[key], eps=1e-7)
        np.testing.assert_allclose(grad[key], fine, atol=1e-8)


def test_pooling_takes_the_books_default_stride_of_two(rng):
    x = rng.standard_normal((2, 3, 6, 6))
    out = Pooling(2, 2).forward(x)
    np.testing.assert_array_equal(out, x.reshape(2, 3, 3, 2, 3, 2).max(axis=(3, 5)))


def test_stride_that_does_not_divide_floors_the_output_like_the_books_formula(rng):
    # The book: out_h = 1 + int((H + 2*pad - FH) / stride)
    x = rng.standard_normal((1, 2, 9, 8))
    W = rng.standard_normal((3, 2, 3, 3))
    for stride, pad in [(2, 0), (3, 1), (4, 0)]:
        out = Convolution(W, np.zeros(3), stride, pad).forward(x)
        book_h = 1 + int((9 + 2 * pad - 3) / stride)
        book_w = 1 + int((8 + 2 * pad - 3) / stride)
        assert out.shape == (1, 3, book_h, book_w)
    assert Pooling(2, 2, stride=2).forward(x).shape == (1, 2, 4, 4)


def test_a_stride_and_pad_per_axis(rng):
    img = rng.standard_normal((1, 1, 9, 5))
    w = rng.standard_normal((1, 1, 3, 2))
    out = Convolution(w, 0, stride=(3, 1)).forward(img)
    np.testing.assert_allclose(out[0, 0], correlate_rows(img[0, 0], w[0, 0], 3), rtol=1e-12)
    padded = Convolution(w, 0, stride=(3, 1), pad=(1, 0)).forward(img)
    want = correlate_rows(np.pad(img[0, 0], ((1, 1), (0, 0))), w[0, 0], 3)
    np.testing.assert_allclose(padded[0, 0], want, rtol=1e-12)


def correlate_rows(img, w, row_stride):
    """``correlate`` with a step of ``row_stride`` along H and 1 along W."""
    FH, FW = w.shape
    H, W = img.shape
    out = np.empty(((H - FH) // row_stride + 1, W - FW + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(img[i * row_stride : i * row_stride + FH, j : j + FW] * w)
    return out
