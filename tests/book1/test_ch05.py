"""Book 1, chapter 5 (backpropagation): the usage its scripts make of ``common/*``.

In our own words: the shopping demos with ``MulLayer``/``AddLayer`` and the
numbers the book prints, a two-layer net written the book's way (its own weight
dict, our layers in an ``OrderedDict``), float64 weights from ``np.random.randn``
with float32 images, the gradient check, training by ``params[key] -= ...``,
and how the later chapters use these layers (a batch of one in batch
normalisation, a diverging net whose NaN loss is carried on with a warning).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy as np
import pytest

from framework.gradient import numerical_gradient
from framework.layers import (
    AddLayer,
    Affine,
    BatchNormalization,
    MulLayer,
    Relu,
    SoftmaxWithLoss,
)

# -- buy_apple.py / buy_apple_orange.py ----------------------------------------------------


def test_buying_apples_forward_and_backward():
    apple, apple_num, tax = 100, 2, 1.1
    mul_apple, mul_tax = MulLayer(), MulLayer()
    price = mul_tax.forward(mul_apple.forward(apple, apple_num), tax)
    dapple_price, dtax = mul_tax.backward(1)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    # The book prints: price: 220, dApple: 2.2, dApple_num: 110, dTax: 200
    assert int(price) == 220 and price == pytest.approx(220, abs=1e-6)
    assert dapple == pytest.approx(2.2, abs=1e-12)
    assert int(dapple_num) == 110 and dtax == 200


def test_buying_apples_and_oranges_forward_and_backward():
    apple, apple_num, orange, orange_num, tax = 100, 2, 150, 3, 1.1
    mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    all_price = add.forward(
        mul_apple.forward(apple, apple_num), mul_orange.forward(orange, orange_num)
    )
    price = mul_tax.forward(all_price, tax)
    dall_price, dtax = mul_tax.backward(1)
    dapple_price, dorange_price = add.backward(dall_price)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    # The book prints: price: 715, dApple: 2.2, dApple_num: 110,
    # dOrange: 3.3000000000000003, dOrange_num: 165, dTax: 650
    assert int(price) == 715
    assert dapple == pytest.approx(2.2, abs=1e-12) and int(dapple_num) == 110
    assert dorange == 3.3000000000000003 and int(dorange_num) == 165
    assert dtax == 650


# -- two_layer_net.py, written the book's way -------------------------------------------------


class BookStyleTwoLayerNet:
    """A two-layer net as chapter 5 writes it, over our layers."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),  # noqa: NPY002
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),  # noqa: NPY002
            "b2": np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        def loss_w(_):
            return self.loss(x, t)

        return {key: numerical_gradient(loss_w, self.params[key]) for key in self.params}

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        return {
            "W1": self.layers["Affine1"].dW,
            "b1": self.layers["Affine1"].db,
            "W2": self.layers["Affine2"].dW,
            "b2": self.layers["Affine2"].db,
        }


def images_and_one_hot(rng, n=3, one_hot=True):
    """float32 images in [0, 1] as ``load_mnist(normalize=True)`` gives them."""
    x = rng.random((n, 784), dtype=np.float32)
    t = rng.integers(0, 10, n)
    return x, (np.eye(10)[t] if one_hot else t)


def test_float64_weights_with_float32_images_run_without_a_warning(rng):
    np.random.seed(0)  # noqa: NPY002 (the book's global state)
    net = BookStyleTwoLayerNet(784, 50, 10)
    x, t = images_and_one_hot(rng, n=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = net.loss(x, t)
        grads = net.gradient(x, t)
    assert isinstance(loss, float) and np.isfinite(loss)
    assert net.predict(x).dtype == np.float64  # the weights' dtype
    assert all(g.dtype == np.float64 for g in grads.values())
    # the same number NumPy's own promotion gives: x cast to float64 first
    ref = x.astype(np.float64) @ net.params["W1"]
    h = np.maximum(ref + net.params["b1"], 0) @ net.params["W2"] + net.params["b2"]
    np.testing.assert_allclose(net.predict(x), h, rtol=1e-12)


def test_gradient_check_as_in_the_book(rng):
    # gradient_check.py: three images, one-hot labels; the book prints mean absolute
    # differences of about 1e-10 to 1e-13.
    np.random.seed(1)  # noqa: NPY002 (the book's global state)
    net = BookStyleTwoLayerNet(784, 10, 10)  # the book's 50 hidden units, 5x slower
    x, t = images_and_one_hot(rng, n=3)
    grad_numerical = net.numerical_gradient(x, t)
    grad_backprop = net.gradient(x, t)
    for key in grad_numerical:
        diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
        assert diff < 1e-8, (key, diff)


def test_training_by_the_books_update_moves_the_layers_weights(rng):
    # train_neuralnet.py: network.params[key] -= learning_rate * grad[key]; the
    # layers hold the very arrays of params, so the net learns.
    np.random.seed(2)  # noqa: NPY002 (the book's global state)
    net = BookStyleTwoLayerNet(784, 50, 10)
    x, t = images_and_one_hot(rng, n=100, one_hot=False)
    for i, c in enumerate(t):  # make it learnable: class c lights up pixels 78c..78c+77
        x[i, 78 * c : 78 * (c + 1)] += 1.0
    first = net.loss(x, t)
    for _ in range(60):
        grad = net.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.1 * grad[key]  # the book's learning rate
    assert net.layers["Affine1"].W is net.params["W1"]
    assert net.loss(x, t) < 0.2 * first
    assert net.accuracy(x, t) > 0.9


def test_gradient_dict_is_not_overwritten_by_the_next_call(rng):
    np.random.seed(3)  # noqa: NPY002 (the book's global state)
    net = BookStyleTwoLayerNet(784, 20, 10)
    (xa, ta), (xb, tb) = images_and_one_hot(rng), images_and_one_hot(rng)
    g1 = net.gradient(xa, ta)
    kept = {k: v.copy() for k, v in g1.items()}
    net.gradient(xb, tb)
    for k in g1:
        np.testing.assert_array_equal(g1[k], kept[k])


def test_labels_as_a_column_are_class_indices(rng):
    # ch07 gradient_check.py passes T = np.array([1]).reshape((1, 1)).
    scores = rng.standard_normal((4, 10))
    t = np.array([3, 1, 4, 1])
    assert SoftmaxWithLoss().forward(scores, t.reshape(-1, 1)) == SoftmaxWithLoss().forward(
        scores, t
    )


# -- the later chapters' use of these layers ---------------------------------------------------


def test_batch_normalization_on_a_batch_of_one_as_in_the_books_gradient_check(rng):
    # batch_norm_gradient_check.py: x_train[:1] through Affine -> BatchNorm -> Relu.
    gamma, beta = np.ones(5), np.zeros(5)
    bn = BatchNormalization(gamma, beta)
    x = rng.standard_normal((1, 5))
    out = bn.forward(x, True)  # positional train flag, as the book's train_flg
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, np.zeros((1, 5)))  # (x - mean) = 0, so out = beta
    dx = bn.backward(rng.standard_normal((1, 5)))
    assert np.all(np.isfinite(dx)) and np.all(np.isfinite(bn.dgamma))


def test_a_diverging_net_carries_on_with_a_warning():
    # batch_norm_test.py lets nets with too large initial weights diverge: the loss
    # becomes NaN, the book's loop continues, and so do we (with a warning).
    scores = np.array([[np.inf, 0.0, 1.0], [0.0, 1.0, 2.0]])
    layer = SoftmaxWithLoss()
    with np.errstate(invalid="ignore"):
        with pytest.warns(RuntimeWarning, match=r"SoftmaxWithLoss\.forward: loss is nan"):
            loss = layer.forward(scores, np.array([0, 2]))
        dx = layer.backward(1)
    assert np.isnan(loss) and dx.shape == scores.shape
