"""Tests for framework.gradient: numerical_gradient, relative_error, gradient_check."""

from __future__ import annotations

import numpy as np
import pytest

from framework.gradient import gradient_check, numerical_gradient, relative_error
from framework.layers import Affine, SoftmaxWithLoss, Tanh
from framework.net import Sequential


def function_2(x):
    """The book's f(x0, x1) = x0**2 + x1**2 (chapter 4)."""
    return np.sum(x**2)


@pytest.mark.parametrize(
    ("point", "expected"),
    [([3.0, 4.0], [6.0, 8.0]), ([0.0, 2.0], [0.0, 4.0]), ([3.0, 0.0], [6.0, 0.0])],
)
def test_book_examples(point, expected):
    grad = numerical_gradient(function_2, np.array(point))
    np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2, 2)])
def test_central_difference_of_a_cubic_and_x_restored(shape, rng):
    # (x+h)^3 - (x-h)^3 = 6 x^2 h + 2 h^3, so the central difference is exactly 3 x^2 + h^2.
    x = rng.standard_normal(shape)
    kept = x.copy()
    grad = numerical_gradient(lambda z: np.sum(z**3), x, eps=1e-4)
    assert grad.shape == shape and grad.dtype == x.dtype
    np.testing.assert_allclose(grad, 3 * kept**2 + 1e-8, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(x, kept)  # every element put back bit for bit


def test_closure_form_as_in_the_book(rng):
    # f ignores its argument and reads W by closure: x is changed in place and restored.
    W = rng.standard_normal((2, 3))
    kept = W.copy()
    v = rng.standard_normal(3)
    grad = numerical_gradient(lambda _: float(np.sum((W @ v) ** 2)), W)
    np.testing.assert_allclose(grad, 2 * np.outer(kept @ v, v), rtol=1e-7)
    np.testing.assert_array_equal(W, kept)


@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_f_sees_the_very_array_with_one_element_nudged(shape, rng):
    # As in the book: f is called with x itself, changed in place at one index.
    x = rng.standard_normal(shape)
    kept = x.copy()
    seen = []

    def f(arg):
        assert arg is x
        seen.append(np.flatnonzero(arg != kept).tolist())
        return float(np.sum(arg))

    grad = numerical_gradient(f, x)
    np.testing.assert_allclose(grad, np.ones(shape), rtol=1e-9)
    assert seen == [[i] for i in range(x.size) for _ in (0, 1)]  # +eps, then -eps


def test_float32_input_is_restored_exactly(rng):
    x = rng.standard_normal((3, 3)).astype(np.float32)
    kept = x.copy()
    grad = numerical_gradient(lambda z: float(np.sum(z.astype(np.float64) ** 2)), x)
    assert grad.dtype == np.float32
    np.testing.assert_array_equal(x, kept)
    np.testing.assert_allclose(grad, 2 * kept, rtol=1e-2)  # float32 steps: only ~3 digits


def test_relative_error_basics():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, 2 * a) == pytest.approx(0.5)
    assert relative_error(a, np.array([1.0, 2.1])) == pytest.approx(0.1 / 2.1)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, -a) == pytest.approx(2.0)
    assert relative_error(np.float32(3.0), 3.0) == 0.0
    assert relative_error(np.array([1e-12]), np.array([2e-12])) == pytest.approx(0.5)


def test_gradient_check_on_a_layer(rng):
    layer = Affine(rng.standard_normal((4, 3)), rng.standard_normal(3))
    errors = gradient_check(layer, rng.standard_normal((5, 4)), rng=rng)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_on_a_loss_layer(rng):
    errors = gradient_check(SoftmaxWithLoss(), rng.standard_normal((4, 3)), np.array([0, 2, 1, 1]))
    assert list(errors) == ["x"] and errors["x"] < 1e-7


def test_gradient_check_on_a_net(rng):
    net = Sequential(
        [Affine(4, 6, rng=rng, dtype="float64"), Tanh(), Affine(6, 3, rng=rng, dtype="float64")]
    )
    errors = gradient_check(net, rng.standard_normal((5, 4)), rng.integers(0, 3, 5))
    assert list(errors) == ["0.W", "0.b", "2.W", "2.b"]
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_finds_a_wrong_net_gradient(rng):
    class WrongBias(Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.db *= 2.0  # a classic slip
            return dx

    last = WrongBias(rng.standard_normal((3, 2)), rng.standard_normal(2))
    net = Sequential([Affine(4, 3, rng=rng, dtype="float64"), Tanh(), last])
    errors = gradient_check(net, rng.standard_normal((5, 4)), rng.integers(0, 2, 5))
    assert errors["2.b"] > 0.1
    assert errors["2.W"] < 1e-7


def test_gradient_check_warns_about_float32(rng):
    layer = Tanh()
    with pytest.warns(UserWarning, match=r"gradient_check: x is not float64"):
        gradient_check(layer, rng.standard_normal((2, 2)).astype(np.float32))


def test_numerical_gradient_rejects_integer_arrays():
    # np.array([3, 4]) holds ints: 3 + 1e-4 is stored as 3 and the "gradient" is garbage.
    with pytest.raises(
        TypeError, match=r"numerical_gradient: expected x to be a float array, got int64"
    ):
        numerical_gradient(function_2, np.array([3, 4]))
