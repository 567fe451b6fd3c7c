"""Book 1, chapter 4 (learning from data): the use its scripts make of ``common/*``.

Written in our own words with ``framework.functions`` and
``framework.gradient.numerical_gradient`` (the book's ``numerical_gradient(f, x)``:
``f`` is called with ``x``, which is nudged in place and restored).  The numbers
are those the book prints.
"""

from __future__ import annotations

import numpy as np
import pytest

from framework.functions import (
    cross_entropy_error,
    mean_squared_error,
    sigmoid,
    sigmoid_grad,
    softmax,
    sum_squared_error,
)
from framework.gradient import numerical_gradient

pytestmark = pytest.mark.filterwarnings("error")

T_HOT = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])  # the correct class is "2"
Y_RIGHT = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y_WRONG = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])


def test_loss_functions_of_section_4_2():
    # The book's mean_squared_error of one sample is common's sum_squared_error.
    assert sum_squared_error(Y_RIGHT, T_HOT) == pytest.approx(0.09750000000000003, abs=1e-15)
    assert sum_squared_error(Y_WRONG, T_HOT) == pytest.approx(0.5975, abs=1e-15)
    assert mean_squared_error(Y_RIGHT, T_HOT) == sum_squared_error(Y_RIGHT, T_HOT)
    assert cross_entropy_error(Y_RIGHT, T_HOT) == pytest.approx(0.510825457099338, abs=1e-12)
    assert cross_entropy_error(Y_WRONG, T_HOT) == pytest.approx(2.302584092994546, abs=1e-12)


def test_mini_batch_cross_entropy_with_one_hot_and_with_labels():
    y = np.stack([Y_RIGHT, Y_WRONG])
    t_hot = np.stack([T_HOT, T_HOT])
    expected = (0.510825457099338 + 2.302584092994546) / 2
    assert cross_entropy_error(y, t_hot) == pytest.approx(expected, abs=1e-12)
    assert cross_entropy_error(y, np.array([2, 2])) == pytest.approx(expected, abs=1e-12)
    assert cross_entropy_error(y, np.array([[2], [2]])) == pytest.approx(expected, abs=1e-12)


def _function_1(x):
    return 0.01 * x**2 + 0.1 * x


def _function_2(x):
    return x[0] ** 2 + x[1] ** 2


def test_numerical_diff_of_function_1():
    # gradient_1d.py: the central difference with h = 1e-4, as the book prints it.
    def diff_at(x0):
        return numerical_gradient(lambda x: _function_1(x[0]), np.array([x0]))[0]

    assert diff_at(5.0) == pytest.approx(0.1999999999990898, abs=1e-12)
    assert diff_at(10.0) == pytest.approx(0.2999999999986347, abs=1e-12)


@pytest.mark.parametrize(
    "point, expected",
    [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))],
)
def test_numerical_gradient_of_function_2(point, expected):
    x = np.array(point)
    grad = numerical_gradient(_function_2, x)
    np.testing.assert_allclose(grad, expected, atol=1e-6)
    np.testing.assert_array_equal(x, point)  # x is restored


def test_gradient_field_on_a_grid():
    # gradient_2d.py: -grad of sum(x**2) at every grid point is -2 x.
    grid = np.stack(np.meshgrid(np.arange(-2, 2.5, 0.25), np.arange(-2, 2.5, 0.25))).reshape(2, -1)
    X = grid.T.copy()
    grad = numerical_gradient(lambda X: np.sum(X**2), X)
    np.testing.assert_allclose(grad, 2 * X, atol=1e-6)


def _gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)
    return x


@pytest.mark.parametrize(
    "lr, expected",
    [
        (0.1, [-6.11110793e-10, 8.14814391e-10]),
        (10.0, [-2.58983747e13, -1.29524862e12]),  # too large: it diverges
        (1e-10, [-2.99999994, 3.99999992]),  # too small: it hardly moves
    ],
)
def test_gradient_descent_of_function_2(lr, expected):
    x = _gradient_descent(_function_2, np.array([-3.0, 4.0]), lr=lr, step_num=100)
    np.testing.assert_allclose(x, expected, rtol=1e-6)


class _SimpleNet:
    """gradient_simplenet.py's net, with the weights the book prints."""

    def __init__(self):
        self.W = np.array(
            [[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]]
        )

    def predict(self, x):
        return x @ self.W

    def loss(self, x, t):
        return cross_entropy_error(softmax(self.predict(x)), t)


def test_simple_net_loss_and_gradient():
    net = _SimpleNet()
    x, t = np.array([0.6, 0.9]), np.array([0, 0, 1])
    p = net.predict(x)
    np.testing.assert_allclose(p, [1.05414809, 0.63071653, 1.1328074], atol=1e-8)
    assert np.argmax(p) == 2
    assert net.loss(x, t) == pytest.approx(0.92806853663411326, abs=1e-6)
    dW = numerical_gradient(lambda w: net.loss(x, t), net.W)
    expected = [[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]]
    np.testing.assert_allclose(dW, expected, atol=1e-6)


class _TwoLayerNet:
    """two_layer_net.py's net: sigmoid hidden layer, softmax output, backprop by hand."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),  # noqa: NPY002
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),  # noqa: NPY002
            "b2": np.zeros(output_size),
        }

    def predict(self, x):
        a1 = x @ self.params["W1"] + self.params["b1"]
        return softmax(sigmoid(a1) @ self.params["W2"] + self.params["b2"])

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        return np.sum(np.argmax(self.predict(x), axis=1) == np.argmax(t, axis=1)) / x.shape[0]

    def numerical_gradient(self, x, t):
        return {
            k: numerical_gradient(lambda _: self.loss(x, t), p) for k, p in self.params.items()
        }

    def gradient(self, x, t):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        a1 = x @ W1 + b1
        z1 = sigmoid(a1)
        y = softmax(z1 @ W2 + b2)
        dy = (y - t) / x.shape[0]
        da1 = sigmoid_grad(a1) * (dy @ W2.T)
        return {"W1": x.T @ da1, "b1": da1.sum(axis=0), "W2": z1.T @ dy, "b2": dy.sum(axis=0)}


def test_two_layer_net_backprop_equals_numerical_gradient_and_learns():
    np.random.seed(0)  # noqa: NPY002 (the book's global state)
    net = _TwoLayerNet(input_size=6, hidden_size=5, output_size=3, weight_init_std=1.0)
    x = np.random.rand(4, 6)  # noqa: NPY002
    t = np.eye(3)[[0, 2, 1, 2]]
    numeric, analytic = net.numerical_gradient(x, t), net.gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        assert analytic[key].shape == net.params[key].shape
        # Looser than 1e-7: the loss has log(y + 1e-7), while (y - t) / N differentiates
        # the exact cross-entropy (the difference is about 1e-7 / y).
        np.testing.assert_allclose(analytic[key], numeric[key], rtol=2e-5, atol=1e-8)
    # train_neuralnet.py's update: params[key] -= learning_rate * grad[key].
    before = net.loss(x, t)
    for _ in range(200):
        grad = net.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.5 * grad[key]
    assert net.loss(x, t) < before / 4
    assert net.accuracy(x, t) == 1.0
