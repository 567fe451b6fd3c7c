"""Tests for framework.layers: the book's examples, gradient checks, laws, dtypes, bad input."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from framework.backend import to_cpu
from framework.gradient import gradient_check
from framework.layers import (
    AddLayer,
    Affine,
    MeanSquaredError,
    MulLayer,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
)
from tests.helpers import check_backward
from tests.strategies import broadcast_pair, float_arrays, logits_and_labels

# -- a catalogue of every layer with inputs, used by the generic tests below ---------

ELEMENTWISE = {"Relu": Relu, "Sigmoid": Sigmoid, "Tanh": Tanh}
TWO_INPUT = {"MulLayer": MulLayer, "AddLayer": AddLayer}
LOSSES = ("SoftmaxWithLoss-labels", "SoftmaxWithLoss-onehot", "MeanSquaredError")
ALL = (*ELEMENTWISE, "Affine", "Affine4d", *TWO_INPUT, *LOSSES)


def away_from_zero(rng, shape, dtype=np.float64):
    """Normal samples pushed at least 0.1 away from 0, so ReLU's kink stays out of reach."""
    x = rng.standard_normal(shape)
    return (x + np.where(x >= 0, 0.1, -0.1)).astype(dtype)


def build(name, rng, dtype=np.float64):
    """Return ``(layer, args)``: a fresh layer and the arrays its ``forward`` takes."""
    x = away_from_zero(rng, (3, 4), dtype)
    labels = np.array([0, 3, 1])
    if name in ELEMENTWISE:
        return ELEMENTWISE[name](), (x,)
    if name in TWO_INPUT:  # y of shape (4,) is broadcast over the 3 rows of x
        return TWO_INPUT[name](), (x, rng.standard_normal(4).astype(dtype))
    if name == "Affine":
        W, b = rng.standard_normal((4, 5)), rng.standard_normal(5)
        return Affine(W.astype(dtype), b.astype(dtype)), (x,)
    if name == "Affine4d":
        W, b = rng.standard_normal((12, 5)), rng.standard_normal(5)
        x4 = rng.standard_normal((2, 3, 2, 2)).astype(dtype)
        return Affine(W.astype(dtype), b.astype(dtype)), (x4,)
    if name == "SoftmaxWithLoss-labels":
        return SoftmaxWithLoss(), (x, labels)
    if name == "SoftmaxWithLoss-onehot":
        return SoftmaxWithLoss(), (x, np.eye(4, dtype=dtype)[labels])
    if name == "MeanSquaredError":
        return MeanSquaredError(), (x, rng.standard_normal((3, 4)).astype(dtype))
    raise KeyError(name)


def run_backward(layer, dout):
    """``layer.backward(dout)`` as a tuple of input gradients."""
    dx = layer.backward(dout)
    return dx if isinstance(dx, tuple) else (dx,)


def upstream(out, rng, dtype):
    """A random upstream gradient shaped like ``out`` (a scalar for a loss)."""
    if np.ndim(out) == 0:
        return float(rng.standard_normal())
    return rng.standard_normal(np.shape(out)).astype(dtype)


# -- the book's shopping example (chapter 5) -----------------------------------------


def test_shopping_apples():
    apple, apple_num, tax = 100, 2, 1.1
    mul_apple_layer, mul_tax_layer = MulLayer(), MulLayer()
    apple_price = mul_apple_layer.forward(apple, apple_num)
    price = mul_tax_layer.forward(apple_price, tax)
    dapple_price, dtax = mul_tax_layer.backward(1)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)
    assert price == pytest.approx(220)
    assert dapple == pytest.approx(2.2)
    assert dapple_num == pytest.approx(110)
    assert dtax == pytest.approx(200)
    assert all(isinstance(v, (int, float)) for v in (price, dapple, dapple_num, dtax))


def test_shopping_apples_and_oranges():
    apple, apple_num, orange, orange_num, tax = 100, 2, 150, 3, 1.1
    mul_apple, mul_orange, mul_tax, add = MulLayer(), MulLayer(), MulLayer(), AddLayer()
    apple_price = mul_apple.forward(apple, apple_num)
    orange_price = mul_orange.forward(orange, orange_num)
    all_price = add.forward(apple_price, orange_price)
    price = mul_tax.forward(all_price, tax)
    dall_price, dtax = mul_tax.backward(1)
    dapple_price, dorange_price = add.backward(dall_price)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    assert price == pytest.approx(715)
    assert (dapple, dapple_num) == (pytest.approx(2.2), pytest.approx(110))
    assert (dorange, dorange_num) == (pytest.approx(3.3), pytest.approx(165))
    assert dtax == pytest.approx(650)


@pytest.mark.parametrize(
    ("x_shape", "y_shape"), [((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((3,), ()), ((2, 3), (2, 3))]
)
@pytest.mark.parametrize("cls", [MulLayer, AddLayer])
def test_two_input_layers_broadcast_and_sum_back(cls, x_shape, y_shape, rng):
    x, y = rng.standard_normal(x_shape), rng.standard_normal(y_shape)
    layer = cls()
    check_backward(lambda: layer.forward(x, y), layer.backward, (x, y), rng)


def test_mul_layer_python_scalar_times_array(rng):
    y = rng.standard_normal((2, 3))
    layer = MulLayer()
    np.testing.assert_array_equal(layer.forward(2.0, y), 2.0 * y)
    dout = rng.standard_normal((2, 3))
    dx, dy = layer.backward(dout)
    assert isinstance(dx, float) and dx == pytest.approx(float((dout * y).sum()))
    np.testing.assert_array_equal(dy, 2.0 * dout)


# -- the book's attributes --------------------------------------------------------------


def test_relu_keeps_mask_and_zeroes_gradient():
    layer = Relu()
    x = np.array([[1.0, -0.5], [-2.0, 3.0]])
    np.testing.assert_array_equal(layer.forward(x), [[1.0, 0.0], [0.0, 3.0]])
    np.testing.assert_array_equal(layer.mask, [[False, True], [True, False]])
    np.testing.assert_array_equal(layer.backward(np.full((2, 2), 5.0)), [[5, 0], [0, 5]])


def test_sigmoid_keeps_out():
    layer = Sigmoid()
    out = layer.forward(np.array([0.0, 2.0]))
    assert layer.out is out
    np.testing.assert_allclose(layer.backward(np.ones(2)), out * (1 - out))
    assert out[0] == 0.5


def test_affine_params_and_grads_are_its_arrays(rng):
    layer = Affine(rng.standard_normal((4, 3)), np.zeros(3))
    assert layer.params["W"] is layer.W and layer.params["b"] is layer.b
    layer.forward(rng.standard_normal((2, 4)))
    layer.backward(rng.standard_normal((2, 3)))
    assert layer.grads["W"] is layer.dW and layer.grads["b"] is layer.db


def test_affine_backward_binds_new_gradients_as_the_book_does(rng):
    layer = Affine(rng.standard_normal((4, 3)), np.zeros(3))
    layer.forward(rng.standard_normal((2, 4)))
    first = layer.backward(rng.standard_normal((2, 3))), layer.dW, layer.db
    kept = [a.copy() for a in first]
    layer.forward(rng.standard_normal((2, 4)))
    layer.backward(rng.standard_normal((2, 3)))
    assert layer.dW is not first[1] and layer.db is not first[2]
    for a, b in zip(first, kept, strict=True):
        np.testing.assert_array_equal(a, b)  # the earlier gradients are intact


def test_affine_backward_params_only_equals_backward_without_dx(rng):
    x = rng.standard_normal((2, 4))
    layer = Affine(rng.standard_normal((4, 3)), rng.standard_normal(3))
    layer.forward(x)
    dout = rng.standard_normal((2, 3))
    layer.backward(dout)
    dW, db = layer.dW, layer.db
    assert layer.backward_params_only(dout) is None
    np.testing.assert_allclose(layer.dW, dW, rtol=1e-10)
    np.testing.assert_allclose(layer.db, db, rtol=1e-10)
    np.testing.assert_allclose(layer.dW, x.T @ dout)
    np.testing.assert_allclose(layer.db, dout.sum(axis=0))


@pytest.mark.parametrize(
    ("init", "scale"), [("he", np.sqrt(2 / 400)), ("xavier", 0.05), (0.01, 0.01)]
)
def test_affine_from_sizes(init, scale, rng):
    layer = Affine(400, 300, init=init, rng=rng)
    assert layer.W.shape == (400, 300) and layer.W.dtype == np.float32
    assert layer.b.dtype == np.float32 and not layer.b.any()
    assert layer.W.std() == pytest.approx(scale, rel=0.02)
    assert abs(layer.W.mean()) < 0.05 * scale


def test_affine_restores_4d_input_shape(rng):
    layer, (x,) = build("Affine4d", rng)
    out = layer.forward(x)
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out, x.reshape(2, -1) @ layer.W + layer.b)
    assert layer.backward(np.ones((2, 5))).shape == x.shape


def test_softmax_with_loss_values(rng):
    x = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 0.0]])
    t = np.array([0, 2])
    layer = SoftmaxWithLoss()
    e = np.exp(x)
    p = e / e.sum(axis=1, keepdims=True)
    expected = -(np.log(p[0, 0]) + np.log(p[1, 2])) / 2
    assert layer.forward(x, t) == pytest.approx(expected, rel=1e-12)
    assert layer.loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(layer.backward(), (p - np.eye(3)[t]) / 2, rtol=1e-12)
    assert SoftmaxWithLoss().forward(x, np.eye(3)[t]) == pytest.approx(expected, rel=1e-12)


def test_mean_squared_error_values():
    y, t = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[0.0, 2.0], [3.0, 3.0]])
    layer = MeanSquaredError()
    assert layer.forward(y, t) == pytest.approx((1 + 4) / (2 * 2))
    np.testing.assert_allclose(layer.backward(), (y - t) / 2)


# -- gradients: numerical, gradient_check, PyTorch -----------------------------------


@pytest.mark.parametrize("name", ALL)
def test_backward_matches_numerical_gradient(name, rng):
    layer, args = build(name, rng)
    wrt = args if name in TWO_INPUT else args[:1]  # losses: w.r.t. the scores only
    params = list(getattr(layer, "params", {}).values())

    def backward(g):
        dxs = run_backward(layer, g)
        # copies: the numerical gradient below reruns forward, never backward, but be safe
        return (*dxs, *[v.copy() for v in getattr(layer, "grads", {}).values()])

    check_backward(lambda: layer.forward(*args), backward, (*wrt, *params), rng)


@pytest.mark.parametrize("name", [n for n in ALL if n not in TWO_INPUT])
def test_gradient_check_relative_errors(name, rng):
    layer, args = build(name, rng)
    errors = gradient_check(layer, *args, rng=rng)
    expected_keys = {"x", *getattr(layer, "params", {})}
    assert set(errors) == expected_keys
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_catches_a_wrong_backward(rng):
    class BrokenTanh(Tanh):
        def backward(self, dout):
            return dout * (1.0 - self.out)  # forgot the square

    errors = gradient_check(BrokenTanh(), rng.standard_normal((3, 4)), rng=rng)
    assert errors["x"] > 1e-2


TORCH_FUNCS = {
    "Relu": lambda torch, x, t, W, b: torch.relu(x),
    "Sigmoid": lambda torch, x, t, W, b: torch.sigmoid(x),
    "Tanh": lambda torch, x, t, W, b: torch.tanh(x),
    "Affine": lambda torch, x, t, W, b: x @ W + b,
    "Affine4d": lambda torch, x, t, W, b: x.reshape(x.shape[0], -1) @ W + b,
    "SoftmaxWithLoss-labels": lambda torch, x, t, W, b: torch.nn.functional.cross_entropy(x, t),
    "SoftmaxWithLoss-onehot": lambda torch, x, t, W, b: torch.nn.functional.cross_entropy(x, t),
    "MeanSquaredError": lambda torch, x, t, W, b: 0.5 * ((x - t) ** 2).sum() / x.shape[0],
}


@pytest.mark.reference
@pytest.mark.parametrize("name", list(TORCH_FUNCS))
def test_matches_pytorch_autograd(name, rng):
    torch = pytest.importorskip("torch")
    layer, args = build(name, rng)
    x = torch.tensor(args[0], requires_grad=True)
    t = torch.tensor(args[1]) if len(args) > 1 else None
    W = torch.tensor(layer.W, requires_grad=True) if hasattr(layer, "W") else None
    b = torch.tensor(layer.b, requires_grad=True) if hasattr(layer, "b") else None
    out_ref = TORCH_FUNCS[name](torch, x, t, W, b)
    out = layer.forward(*args)
    np.testing.assert_allclose(out, out_ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = upstream(out, rng, np.float64)
    (out_ref * torch.tensor(g, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(run_backward(layer, g)[0], x.grad.numpy(), rtol=1e-10, atol=1e-14)
    if W is not None:
        np.testing.assert_allclose(layer.dW, W.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layer.db, b.grad.numpy(), rtol=1e-10, atol=1e-14)


# -- contracts every layer keeps: inputs untouched, float32 kept, shapes --------------


@pytest.mark.parametrize("name", ALL)
def test_layers_never_modify_their_inputs(name, rng):
    layer, args = build(name, rng)
    kept = [a.copy() for a in args]
    out = layer.forward(*args)
    for a, k in zip(args, kept, strict=True):
        np.testing.assert_array_equal(a, k)
    dout = upstream(out, rng, np.float64)
    dout_kept = np.copy(dout)
    first = [np.copy(d) for d in run_backward(layer, dout)]
    np.testing.assert_array_equal(dout, dout_kept)
    for a, k in zip(args, kept, strict=True):
        np.testing.assert_array_equal(a, k)
    # backward leaves the layer's cache intact: a second call gives the same gradients
    for d1, d2 in zip(first, run_backward(layer, dout), strict=True):
        np.testing.assert_array_equal(d1, d2)


@pytest.mark.parametrize("name", ALL)
def test_float32_stays_float32(name, rng):
    layer, args = build(name, rng, dtype=np.float32)
    out = layer.forward(*args)
    if np.ndim(out):
        assert out.dtype == np.float32
    else:
        assert np.isfinite(out)
    for d in run_backward(layer, upstream(out, rng, np.float32)):
        assert d.dtype == np.float32
    for g in getattr(layer, "grads", {}).values():
        assert g.dtype == np.float32


@pytest.mark.parametrize("loss_cls", [SoftmaxWithLoss, MeanSquaredError])
def test_float32_scores_with_float64_targets_give_float32_gradient(loss_cls, rng):
    # The book's one-hot labels are float64; a float32 net must still get float32 dx.
    x = rng.standard_normal((3, 4)).astype(np.float32)
    t = np.eye(4)[[0, 3, 1]]
    layer = loss_cls()
    layer.forward(x, t)
    assert layer.backward().dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=logits_and_labels(np.float64, bound=1e4))
def test_softmax_with_loss_finite_for_large_logits(dtype, data):
    x, t = data
    x = x.astype(dtype)
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    dx = layer.backward()
    assert np.isfinite(loss) and loss >= 0
    assert dx.shape == x.shape and dx.dtype == dtype and np.all(np.isfinite(dx))
    # each row of dx is (softmax - one_hot) / N, which sums to 0
    np.testing.assert_allclose(dx.sum(axis=1), 0.0, atol=1e-6)


@given(x=float_arrays(np.float64, bound=10.0), name=st.sampled_from(list(ELEMENTWISE)))
def test_elementwise_backward_returns_input_shape(x, name):
    layer = ELEMENTWISE[name]()
    out = layer.forward(x)
    assert out.shape == x.shape
    assert layer.backward(np.ones_like(out)).shape == x.shape


@given(pair=broadcast_pair(), name=st.sampled_from(list(TWO_INPUT)))
def test_two_input_backward_returns_each_input_shape(pair, name):
    x, y = pair
    layer = TWO_INPUT[name]()
    out = layer.forward(x, y)
    dx, dy = layer.backward(np.ones_like(out))
    assert np.shape(dx) == x.shape and np.shape(dy) == y.shape


@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, max_side=4), m=st.integers(1, 4))
def test_affine_backward_returns_input_shape(shape, m):
    rng = np.random.default_rng(0)
    d = int(np.prod(shape[1:]))
    layer = Affine(rng.standard_normal((d, m)), rng.standard_normal(m))
    out = layer.forward(rng.standard_normal(shape))
    assert out.shape == (shape[0], m)
    assert layer.backward(np.ones_like(out)).shape == shape
    assert layer.dW.shape == (d, m) and layer.db.shape == (m,)


@given(data=logits_and_labels(np.float64, bound=100.0))
def test_loss_backward_returns_input_shape(data):
    x, t = data
    for layer, target in ((SoftmaxWithLoss(), t), (MeanSquaredError(), np.zeros_like(x))):
        layer.forward(x, target)
        assert layer.backward().shape == x.shape


def test_layers_on_the_xp_backend(xp, rng):
    x_host = away_from_zero(rng, (3, 4))
    W, b = rng.standard_normal((4, 2)), rng.standard_normal(2)
    x = xp.asarray(x_host)
    layer = Affine(xp.asarray(W), xp.asarray(b))
    np.testing.assert_allclose(to_cpu(layer.forward(x)), x_host @ W + b, rtol=1e-12)
    relu = Relu()
    np.testing.assert_array_equal(to_cpu(relu.forward(x)), np.maximum(x_host, 0))
    loss = SoftmaxWithLoss()
    value = loss.forward(x, xp.asarray([0, 3, 1]))
    assert isinstance(value, float) and np.isfinite(value)
    assert to_cpu(loss.backward()).shape == (3, 4)


# -- bad input: the message names the layer, what it expected and what it got ------


def test_affine_rejects_wrong_width(rng):
    layer = Affine(4, 3, rng=rng)
    x = np.zeros((100, 5), np.float32)
    with pytest.raises(
        ValueError, match=r"Affine\.forward: expected x of shape \(N, 4\), got \(100, 5\)"
    ):
        layer.forward(x)


def test_affine_one_sample_hint(rng):
    layer = Affine(4, 3, rng=rng)
    with pytest.raises(ValueError, match=r"got \(4,\); for one sample use x\.reshape\(1, -1\)"):
        layer.forward(np.zeros(4, np.float32))


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, bool])
def test_affine_rejects_integer_input(dtype, rng):
    layer = Affine(4, 3, rng=rng)
    with pytest.raises(
        TypeError, match=rf"Affine\.forward: expected x of dtype float32 .*got {np.dtype(dtype)}"
    ):
        layer.forward(np.zeros((2, 4), dtype))


@pytest.mark.parametrize("w_dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("x_dtype", [np.float16, np.float32, np.float64])
def test_affine_computes_in_its_weights_dtype(w_dtype, x_dtype, rng):
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    x, dout = rng.standard_normal((2, 4)), rng.standard_normal((2, 3))
    layer = Affine(W.astype(w_dtype), b.astype(w_dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either
        out = layer.forward(x.astype(x_dtype))
        dx = layer.backward(dout.astype(x_dtype))
    assert out.dtype == dx.dtype == layer.dW.dtype == layer.db.dtype == w_dtype
    # the same numbers as casting x at the door by hand
    xw = x.astype(x_dtype).astype(w_dtype)
    np.testing.assert_array_equal(out, xw @ W.astype(w_dtype) + b.astype(w_dtype))


def test_affine_float32_input_into_float64_weights_gives_float64_numbers(rng):
    # The book's habit: np.random.randn weights (float64), float32 images.
    W, b = rng.standard_normal((4, 3)), np.zeros(3)
    x = rng.random((2, 4), dtype=np.float32)
    out = Affine(W, b).forward(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, x.astype(np.float64) @ W, rtol=1e-15)


def test_affine_does_not_copy_input_of_its_own_dtype(rng):
    layer = Affine(4, 3, rng=rng)
    x = rng.random((2, 4), dtype=np.float32)
    layer.forward(x)
    assert np.shares_memory(layer.x, x)


def test_affine_constructor_checks_its_arrays():
    with pytest.raises(
        TypeError, match=r"Affine\.forward: expected W to be a float array, got int64"
    ):
        Affine(np.zeros((4, 3), np.int64), np.zeros(3, np.int64))
    with pytest.raises(
        ValueError, match=r"Affine: expected W of shape \(D, M\) and b of shape \(M,\)"
    ):
        Affine(np.zeros((4, 3)), np.zeros(4))


def test_affine_rejects_integer_dout(rng):
    layer = Affine(4, 3, rng=rng)
    layer.forward(np.zeros((2, 4), np.float32))
    with pytest.raises(TypeError, match=r"Affine\.backward: expected dout of dtype float32"):
        layer.backward(np.zeros((2, 3), np.int64))


def test_softmax_with_loss_label_out_of_range():
    x = np.zeros((2, 3))
    with pytest.raises(
        ValueError,
        match=r"SoftmaxWithLoss\.forward: expected labels in \[0, 2\] for 3 classes, "
        r"got values from 0 to 3",
    ):
        SoftmaxWithLoss().forward(x, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"got values from -1 to 1"):
        SoftmaxWithLoss().forward(x, np.array([-1, 1]))


def test_softmax_with_loss_float_labels():
    with pytest.raises(
        TypeError,
        match=r"SoftmaxWithLoss\.forward: expected t as integer labels of shape \(2,\)"
        r".*got float64",
    ):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_softmax_with_loss_reads_a_column_of_labels_as_class_indices(rng):
    x = rng.standard_normal((5, 3))
    t = np.array([0, 2, 1, 1, 0])
    flat, column = SoftmaxWithLoss(), SoftmaxWithLoss()
    assert column.forward(x, t.reshape(-1, 1)) == flat.forward(x, t)
    np.testing.assert_array_equal(column.backward(), flat.backward())
    with pytest.raises(ValueError, match=r"expected labels in \[0, 2\]"):
        SoftmaxWithLoss().forward(x, np.array([[0], [3], [1], [1], [0]]))


def test_softmax_with_loss_takes_integer_one_hot_rows_as_the_book_does(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    t = np.array([2, 0, 1, 2])
    onehot = np.eye(3, dtype=np.int64)[t]
    loss = SoftmaxWithLoss()
    assert loss.forward(x, onehot) == pytest.approx(SoftmaxWithLoss().forward(x, t), rel=1e-6)
    assert loss.backward().dtype == np.float32


def test_softmax_with_loss_float16_scores_of_a_big_batch_stay_finite(rng):
    x = (5 * rng.standard_normal((20000, 10))).astype(np.float16)
    t = rng.integers(0, 10, 20000)
    want = SoftmaxWithLoss().forward(x.astype(np.float64), t)
    layer = SoftmaxWithLoss()
    assert layer.forward(x, t) == pytest.approx(want, rel=1e-2)
    assert layer.backward().dtype == np.float16


def test_softmax_with_loss_mismatched_batch_sizes():
    x = np.zeros((4, 3))
    with pytest.raises(
        ValueError, match=r"SoftmaxWithLoss\.forward: x has 4 rows but t has 3 labels"
    ):
        SoftmaxWithLoss().forward(x, np.array([0, 1, 2]))
    with pytest.raises(
        ValueError, match=r"SoftmaxWithLoss\.forward: expected .*\(4, 3\).*got .*\(3, 3\)"
    ):
        SoftmaxWithLoss().forward(x, np.eye(3))


def test_softmax_with_loss_needs_2d_scores():
    with pytest.raises(
        ValueError,
        match=r"SoftmaxWithLoss\.forward: expected scores x of shape \(N, C\), got \(3,\)",
    ):
        SoftmaxWithLoss().forward(np.zeros(3), np.array([0]))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_softmax_with_loss_not_finite_scores(bad):
    # -inf on a wrong class is a probability of 0 and a finite loss, so it sits on the
    # true class here (loss = inf); nan and +inf poison the whole row.
    x = np.array([[0.0, 1.0], [bad, 0.0]])
    layer = SoftmaxWithLoss()
    with (
        np.errstate(invalid="ignore"),
        pytest.warns(
            RuntimeWarning,
            match=r"SoftmaxWithLoss\.forward: loss is .* input x holds 1 nan/inf.*diverged",
        ),
    ):
        loss = layer.forward(x, np.array([0, 0]))
    assert not np.isfinite(loss)  # returned, as the book does
    with np.errstate(invalid="ignore"):
        assert layer.backward().shape == x.shape  # and the step can carry on


def test_mean_squared_error_bad_input():
    with pytest.raises(
        ValueError,
        match=r"MeanSquaredError\.forward: expected t of the shape of y \(2, 3\), got \(3, 2\)",
    ):
        MeanSquaredError().forward(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.warns(
        RuntimeWarning, match=r"MeanSquaredError\.forward: loss is nan because input y"
    ):
        loss = MeanSquaredError().forward(np.array([[np.nan, 0.0]]), np.zeros((1, 2)))
    assert np.isnan(loss)


@pytest.mark.parametrize("name", ALL)
def test_backward_before_forward(name, rng):
    layer, _ = build(name, rng)
    cls = type(layer).__name__
    with pytest.raises(RuntimeError, match=rf"{cls}\.backward: called before forward"):
        layer.backward(np.ones((3, 4)))


@pytest.mark.parametrize("name", [*ELEMENTWISE, "Affine", *TWO_INPUT])
def test_backward_rejects_dout_of_wrong_shape(name, rng):
    layer, args = build(name, rng)
    out = layer.forward(*args)
    cls = type(layer).__name__
    expected = rf"{cls}\.backward: expected dout of shape {re.escape(str(out.shape))}"
    with pytest.raises(ValueError, match=expected + rf".*got {re.escape(str((2, *out.shape)))}"):
        layer.backward(np.ones((2, *out.shape)))


# -- randomness: an explicit rng wins, else NumPy's global state -----------------------


def test_two_layers_built_without_rng_get_different_weights():
    a, b = Affine(100, 100), Affine(100, 100)
    assert not np.array_equal(a.W, b.W)


def test_np_random_seed_repeats_the_weights_of_layers_built_without_rng():
    from framework.layers import Convolution

    np.random.seed(0)  # noqa: NPY002 (the global state, on purpose)
    a, conv_a = Affine(20, 5), Convolution((3, 2, 3, 3))
    np.random.seed(0)  # noqa: NPY002 (the global state, on purpose)
    b, conv_b = Affine(20, 5), Convolution((3, 2, 3, 3))
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(conv_a.W, conv_b.W)


def test_an_explicit_generator_wins_over_the_global_state():
    np.random.seed(0)  # noqa: NPY002 (the global state, on purpose)
    a = Affine(20, 5, rng=np.random.default_rng(4))
    np.random.seed(1)  # noqa: NPY002 (the global state, on purpose)
    b = Affine(20, 5, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a.W, b.W)


def test_softmax_with_loss_is_exact_where_a_probability_underflows():
    # The target's score is 200 below the maximum: softmax gives it 0 in float32,
    # the loss is still the exact 200 + log(1 + e^-1), not inf (nor the book's 16.1).
    x = np.array([[0.0, 200.0, 199.0]], dtype=np.float32)
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, np.array([0]))
    assert layer.y[0, 0] == 0.0
    np.testing.assert_allclose(loss, 200.0 + np.log1p(np.exp(-1.0)), rtol=1e-6)
