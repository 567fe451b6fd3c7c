"""Tests for framework.functions: values, laws (hypothesis) and dtypes of the stateless math."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from framework.backend import to_cpu
from framework.functions import (
    cross_entropy_error,
    log_softmax,
    mean_squared_error,
    one_hot,
    relu,
    sigmoid,
    softmax,
    sum_to,
)
from tests.strategies import float_arrays, labels, matrices

# -- hand-computed values ------------------------------------------------------


def test_sigmoid_values():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(sigmoid(x), 1.0 / (1.0 + np.exp(-x)), rtol=1e-15)
    assert sigmoid(np.array([0.0]))[0] == 0.5


def test_sigmoid_large_inputs_saturate_without_warning():
    with np.errstate(all="raise"):
        y = sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(y, [0.0, 1.0])


def test_relu_values():
    np.testing.assert_array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])


def test_softmax_book_example():
    a = np.array([0.3, 2.9, 4.0])
    expected = np.exp(a) / np.exp(a).sum()
    np.testing.assert_allclose(softmax(a), expected, rtol=1e-15)
    # The book prints these 8 decimals.
    np.testing.assert_allclose(softmax(a), [0.01821127, 0.24519181, 0.73659691], atol=1e-8)


def test_softmax_overflow_countermeasure():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = softmax(np.array([[1010.0, 1000.0, 990.0]]))
    np.testing.assert_allclose(y, softmax(np.array([[20.0, 10.0, 0.0]])), rtol=1e-15)


def test_log_softmax_equals_log_of_softmax():
    x = np.array([[0.5, -1.0, 2.0], [3.0, 3.0, 3.0]])
    np.testing.assert_allclose(log_softmax(x), np.log(softmax(x)), rtol=1e-13)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        out = log_softmax(np.array([[1e4, 0.0]]))
    np.testing.assert_allclose(out, [[0.0, -1e4]])


def test_cross_entropy_error_book_example():
    # The book's chapter 4 example: t = 2, y[2] = 0.6 -> 0.510825457099338.
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t_hot = np.zeros(10)
    t_hot[2] = 1
    assert cross_entropy_error(y, t_hot) == pytest.approx(0.510825457099338, rel=1e-6)
    assert cross_entropy_error(y, np.array(2)) == pytest.approx(0.510825457099338, rel=1e-6)


def test_cross_entropy_error_batch_mean_labels_and_one_hot():
    y = np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]])
    t = np.array([0, 2])
    expected = -(np.log(0.7 + 1e-7) + np.log(0.5 + 1e-7)) / 2
    assert cross_entropy_error(y, t) == pytest.approx(expected, rel=1e-12)
    assert cross_entropy_error(y, np.eye(3)[t]) == pytest.approx(expected, rel=1e-12)


def test_mean_squared_error_book_example():
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t = np.zeros(10)
    t[2] = 1
    assert mean_squared_error(y, t) == pytest.approx(0.0975, rel=1e-12)
    batch = np.stack([y, y])
    assert mean_squared_error(batch, np.stack([t, t])) == pytest.approx(0.0975, rel=1e-12)


def test_one_hot_values_and_dtype():
    out = one_hot(np.array([2, 0, 1]), 3)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1]])
    assert one_hot(np.array([1]), 2, dtype=np.float64).dtype == np.float64
    assert one_hot(np.array([[0, 1]]), 2).shape == (1, 2, 2)


@pytest.mark.parametrize("bad", [[0, 3], [-1, 0]])
def test_one_hot_rejects_labels_out_of_range(bad):
    with pytest.raises(ValueError, match=r"one_hot: expected labels in \[0, 2\], got values"):
        one_hot(np.array(bad), 3)


def test_sum_to_examples():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(sum_to(x, (3, 4)), x.sum(axis=0))
    np.testing.assert_array_equal(sum_to(x, (1, 3, 1)), x.sum(axis=(0, 2), keepdims=True))
    np.testing.assert_array_equal(sum_to(x, (4,)), x.sum(axis=(0, 1)))
    assert sum_to(x, ()) == x.sum()
    assert sum_to(x, x.shape) is x


def test_functions_do_not_modify_inputs(rng):
    x = rng.standard_normal((3, 4))
    keep = x.copy()
    for f in (sigmoid, relu, softmax, log_softmax):
        f(x)
    sum_to(x, (4,))
    t = np.array([0, 1, 3])
    cross_entropy_error(softmax(x), t)
    np.testing.assert_array_equal(x, keep)
    np.testing.assert_array_equal(t, [0, 1, 3])


@pytest.mark.parametrize("f", [sigmoid, relu, softmax, log_softmax])
def test_float32_stays_float32(f, rng):
    x = rng.standard_normal((3, 5)).astype(np.float32)
    assert f(x).dtype == np.float32


def test_functions_on_the_xp_backend(xp):
    x = xp.asarray([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(to_cpu(softmax(x)).sum(axis=1), [1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(to_cpu(sigmoid(x))[1], [0.5, 0.5, 0.5])
    t = xp.asarray([2, 0])
    np.testing.assert_array_equal(to_cpu(one_hot(t, 3)), np.eye(3)[[2, 0]])


# -- laws (hypothesis) ----------------------------------------------------------


@given(matrices(np.float64, bound=1e3))
def test_softmax_rows_sum_to_one_and_lie_in_unit_interval(x):
    y = softmax(x)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all((y >= 0) & (y <= 1))


@given(matrices(np.float32, bound=1e3))
def test_softmax_float32_rows_sum_to_one(x):
    y = softmax(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all((y >= 0) & (y <= 1))


@given(float_arrays(np.float64, bound=50.0))
def test_sigmoid_is_symmetric(x):
    np.testing.assert_allclose(sigmoid(-x), 1.0 - sigmoid(x), rtol=1e-12, atol=1e-15)


@given(float_arrays(np.float64, bound=1e3))
def test_softmax_is_shift_invariant(x):
    np.testing.assert_allclose(softmax(x + 7.5), softmax(x), rtol=1e-9, atol=1e-300)


@given(
    hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
    st.integers(0, 2**32 - 1),
)
def test_sum_to_undoes_broadcast_to(shapes, seed):
    (small, _), big = shapes
    x = np.random.default_rng(seed).standard_normal(small)
    stretched = np.broadcast_to(x, big)
    summed = sum_to(stretched, small)
    assert summed.shape == x.shape
    # Every element of x was copied big.size / x.size times.
    np.testing.assert_allclose(summed, x * (stretched.size // max(x.size, 1)), rtol=1e-12)


@given(labels())
def test_one_hot_round_trips_with_argmax(tc):
    t, c = tc
    hot = one_hot(t, c)
    assert hot.shape == (t.size, c)
    np.testing.assert_array_equal(hot.sum(axis=1), 1.0)
    np.testing.assert_array_equal(hot.argmax(axis=1), t)


def _im2col_by_loops(x, fh, fw, sh, sw, ph, pw):
    """Windows read one by one from the padded image, in the book's (c, y, x) order."""
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, _, H, W = xpad.shape
    out_h, out_w = (H - fh) // sh + 1, (W - fw) // sw + 1
    rows = [
        xpad[n, :, i * sh : i * sh + fh, j * sw : j * sw + fw].ravel()
        for n in range(N)
        for i in range(out_h)
        for j in range(out_w)
    ]
    return np.array(rows)


@pytest.mark.parametrize(
    "stride, pad", [(1, 0), (2, 1), ((2, 1), (1, 0)), ((3, 1), (0, 2)), (3, 0)]
)
def test_im2col_pairs_and_floor_match_loops_and_col2im_is_adjoint(stride, pad, rng):
    from framework.functions import col2im, im2col, pair

    x = rng.standard_normal((2, 3, 7, 6))
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    col = im2col(x, 3, 2, stride, pad)
    np.testing.assert_array_equal(col, _im2col_by_loops(x, 3, 2, sh, sw, ph, pw))
    g = rng.standard_normal(col.shape)
    back = col2im(g, x.shape, 3, 2, stride, pad)
    np.testing.assert_allclose((col * g).sum(), (x * back).sum(), rtol=1e-12)


def test_pair_rejects_other_shapes():
    from framework.functions import pair

    with pytest.raises(ValueError, match="pair"):
        pair((1, 2, 3))
