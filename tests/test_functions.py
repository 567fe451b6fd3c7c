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
    identity_function,
    log_softmax,
    mean_squared_error,
    one_hot,
    relu,
    relu_grad,
    shuffle_dataset,
    sigmoid,
    sigmoid_grad,
    smooth_curve,
    softmax,
    softmax_loss,
    step_function,
    sum_squared_error,
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


# -- the book's names (common/functions.py, common/util.py) ---------------------------------


def test_identity_function_returns_its_input():
    x = np.array([0.3, -0.7])
    assert identity_function(x) is x


def test_step_function_as_the_book():
    y = step_function(np.array([-1.0, 0.0, 1.0, 2.0]))
    np.testing.assert_array_equal(y, [0, 0, 1, 1])
    assert y.dtype == np.array(1).dtype  # the book's dtype=int
    assert step_function(3.0).shape == () and int(step_function(3.0)) == 1


def test_sigmoid_book_example_and_exact_tail():
    # Chapter 3: sigmoid(np.array([-1.0, 1.0, 2.0])) prints these.
    np.testing.assert_allclose(
        sigmoid(np.array([-1.0, 1.0, 2.0])), [0.26894142, 0.73105858, 0.88079708], atol=1e-8
    )
    x = np.array([-700.0, -40.0, -20.0, 20.0])
    np.testing.assert_allclose(sigmoid(x), 1.0 / (1.0 + np.exp(-x)), rtol=1e-15)
    assert sigmoid(np.array([-40.0]))[0] == pytest.approx(4.248354255291589e-18, rel=1e-14)
    assert sigmoid(np.float32(-30.0)) > 0  # the tail is not rounded to 0 early
    assert isinstance(sigmoid(0.0), float) and sigmoid(0.0) == 0.5


@given(float_arrays(np.float64, bound=700.0))
def test_sigmoid_equals_the_book_formula(x):
    np.testing.assert_array_equal(sigmoid(x), 1.0 / (1.0 + np.exp(-x)))  # bit for bit


@pytest.mark.parametrize("f", [sigmoid, softmax, log_softmax, sigmoid_grad])
def test_harmless_underflow_does_not_raise(f):
    with np.errstate(all="raise"):
        y = f(np.array([[0.0, -1000.0, 1e-310, 1000.0]]))
    assert np.all(np.isfinite(y))


def test_sigmoid_grad_is_the_derivative(rng):
    x = rng.standard_normal(7)
    h = 1e-5
    numeric = (sigmoid(x + h) - sigmoid(x - h)) / (2 * h)
    np.testing.assert_allclose(sigmoid_grad(x), numeric, rtol=1e-8)
    assert sigmoid_grad(np.array([0.0]))[0] == 0.25


def test_relu_grad_as_the_book():
    x = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    g = relu_grad(x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0])  # the book counts x == 0 as 1
    assert g.dtype == np.float32


def test_sum_squared_error_book_examples():
    t = np.zeros(10)
    t[2] = 1
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    assert sum_squared_error(y, t) == pytest.approx(0.0975, rel=1e-12)
    y_wrong = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    assert sum_squared_error(y_wrong, t) == pytest.approx(0.5975, rel=1e-12)
    # The sum over a batch; mean_squared_error divides by N.
    batch, t2 = np.stack([y, y_wrong]), np.stack([t, t])
    assert sum_squared_error(batch, t2) == pytest.approx(0.695, rel=1e-12)
    assert mean_squared_error(batch, t2) == pytest.approx(0.3475, rel=1e-12)
    assert mean_squared_error(y, t) == sum_squared_error(y, t)


def test_cross_entropy_error_book_second_example():
    t = np.zeros(10)
    t[2] = 1
    y = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    assert cross_entropy_error(y, t) == pytest.approx(2.302584092994546, rel=1e-12)


def test_cross_entropy_error_labels_of_shape_n_1_are_indices(rng):
    y = softmax(rng.standard_normal((5, 3)))
    t = np.array([0, 2, 1, 1, 0])
    expected = cross_entropy_error(y, t)
    assert cross_entropy_error(y, t.reshape(-1, 1)) == expected
    assert cross_entropy_error(y, np.eye(3)[t]) == pytest.approx(expected, rel=1e-15)


def test_cross_entropy_error_clear_errors():
    y = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"cross_entropy_error: y has 2 rows but t has 3 labels"):
        cross_entropy_error(y, np.array([0, 1, 2]))
    for bad in ([0, 3], [-1, 0]):
        with pytest.raises(ValueError, match=r"cross_entropy_error: expected labels in \[0, 2\]"):
            cross_entropy_error(y, np.array(bad))


def test_softmax_loss_is_cross_entropy_of_softmax(rng):
    x = rng.standard_normal((4, 5))
    t = np.array([1, 0, 4, 4])
    expected = -np.mean(np.log(softmax(x)[np.arange(4), t] + 1e-7))
    assert softmax_loss(x, t) == pytest.approx(expected, rel=1e-12)


def _kaiser_weights():
    w = np.kaiser(11, 2)
    return w / w.sum()


def test_smooth_curve_centred_window_and_book_ends(rng):
    x = rng.standard_normal(30)
    y = smooth_curve(list(x))  # a loss history is a Python list
    w = _kaiser_weights()
    assert y.shape == (30,)
    for i in (5, 12, 24):
        assert y[i] == pytest.approx(w @ x[i - 5 : i + 6], rel=1e-12)
    # The book mirrors the start without repeating x[0] and the end repeating x[-1].
    assert y[0] == pytest.approx(w @ np.r_[x[5:0:-1], x[:6]], rel=1e-12)
    assert y[-1] == pytest.approx(w @ np.r_[x[-6:], x[-1:-6:-1]], rel=1e-12)


def test_smooth_curve_keeps_a_constant_and_any_length():
    np.testing.assert_allclose(smooth_curve(np.full(20, 2.5)), 2.5, rtol=1e-12)
    for n in (1, 3, 10):
        np.testing.assert_allclose(smooth_curve(np.full(n, 0.7)), 0.7, rtol=1e-12)
    with pytest.raises(ValueError, match="smooth_curve: expected a non-empty 1-D curve"):
        smooth_curve([])


@pytest.mark.parametrize("shape", [(10, 3), (10, 1, 2, 2), (10, 4, 2)])
def test_shuffle_dataset_moves_pairs_together_and_repeats_under_seed(shape):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    t = np.arange(10)
    np.random.seed(3)  # noqa: NPY002 (the book's global state)
    xs, ts = shuffle_dataset(x, t)
    np.random.seed(3)  # noqa: NPY002
    np.testing.assert_array_equal(ts, np.random.permutation(10))  # noqa: NPY002
    np.testing.assert_array_equal(xs, x[ts])
    assert sorted(ts) == list(range(10))
    np.testing.assert_array_equal(x, np.arange(x.size).reshape(shape))  # input untouched


def test_shuffle_dataset_with_rng_and_clear_error():
    x, t = np.arange(8.0).reshape(4, 2), np.arange(4)
    a = shuffle_dataset(x, t, rng=np.random.default_rng(1))
    b = shuffle_dataset(x, t, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="shuffle_dataset: expected as many labels"):
        shuffle_dataset(x, t[:3])


def test_book_names_are_exported():
    import framework.functions as functions

    for name in ["identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu",
                 "relu_grad", "softmax", "sum_squared_error", "cross_entropy_error",
                 "softmax_loss", "smooth_curve", "shuffle_dataset", "conv_output_size",
                 "im2col", "col2im"]:  # fmt: skip
        assert name in functions.__all__ and callable(getattr(functions, name))
