"""Every F function: backward against the numerical gradient, PyTorch as oracle, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import framework.autograd.functions as F
from framework import autograd
from framework.autograd import Variable
from tests.strategies import matrices

from ._helpers import backprop, check_function, torch_compare


def _away_from_zero(rng, shape, low=0.2):
    """Random values with |x| >= low: no kink of relu/clip/max within eps."""
    return rng.uniform(low, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _distinct(rng, shape):
    """Values at least 0.01 apart: no ties for max/min/pooling within eps."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 + rng.uniform(0, 1e-3)


LABELS = np.array([0, 2, 1, 2])


# name -> (function of Variables, input arrays from rng, indices to differentiate)
CASES = {
    "add": (F.add, lambda r: [r.standard_normal((3, 4)), r.standard_normal(4)], None),
    "sub": (F.sub, lambda r: [r.standard_normal((3, 1)), r.standard_normal((1, 4))], None),
    "rsub": (lambda x: F.rsub(x, 2.0), lambda r: [r.standard_normal((3, 4))], None),
    "mul": (F.mul, lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 1))], None),
    "div": (F.div, lambda r: [r.standard_normal((3, 4)), r.uniform(0.5, 2.0, 4)], None),
    "rdiv": (lambda x: F.rdiv(x, 2.0), lambda r: [r.uniform(0.5, 2.0, (3, 4))], None),
    "neg": (F.neg, lambda r: [r.standard_normal((3, 4))], None),
    "pow": (lambda x: F.pow(x, 3), lambda r: [r.standard_normal((3, 4))], None),
    "pow_half": (lambda x: F.pow(x, 0.5), lambda r: [r.uniform(0.5, 2.0, (3, 4))], None),
    "exp": (F.exp, lambda r: [r.standard_normal((3, 4))], None),
    "log": (F.log, lambda r: [r.uniform(0.5, 2.0, (3, 4))], None),
    "reciprocal": (F.reciprocal, lambda r: [r.uniform(0.5, 2.0, (3, 4))], None),
    "sin": (F.sin, lambda r: [r.standard_normal((3, 4))], None),
    "cos": (F.cos, lambda r: [r.standard_normal((3, 4))], None),
    "tanh": (F.tanh, lambda r: [r.standard_normal((3, 4))], None),
    "sigmoid": (F.sigmoid, lambda r: [r.standard_normal((3, 4))], None),
    "sigmoid_simple": (F.sigmoid_simple, lambda r: [r.standard_normal((3, 4))], None),
    "relu": (F.relu, lambda r: [_away_from_zero(r, (3, 4))], None),
    "leaky_relu": (F.leaky_relu, lambda r: [_away_from_zero(r, (3, 4))], None),
    "leaky_relu_slope": (
        lambda x: F.leaky_relu(x, slope=0.05),
        lambda r: [_away_from_zero(r, (3, 4))],
        None,
    ),
    "softmax": (F.softmax, lambda r: [r.standard_normal((4, 5))], None),
    "softmax_axis0": (lambda x: F.softmax(x, axis=0), lambda r: [r.standard_normal((4, 5))], None),
    "softmax_simple": (F.softmax_simple, lambda r: [r.standard_normal((4, 5))], None),
    "log_softmax": (F.log_softmax, lambda r: [r.standard_normal((4, 5))], None),
    "clip": (lambda x: F.clip(x, -0.5, 0.5), lambda r: [_away_from_zero(r, (3, 4), 0.6)], None),
    "clip_inside": (lambda x: F.clip(x, -5.0, 5.0), lambda r: [r.standard_normal((3, 4))], None),
    "reshape": (lambda x: F.reshape(x, (6, 2)), lambda r: [r.standard_normal((3, 4))], None),
    "flatten": (F.flatten, lambda r: [r.standard_normal((2, 3, 2))], None),
    "expand_dims": (lambda x: F.expand_dims(x, 1), lambda r: [r.standard_normal((3, 4))], None),
    "average": (F.average, lambda r: [r.standard_normal((3, 4))], None),
    "average_axis": (
        lambda x: F.average(x, axis=(0, 2), keepdims=True),
        lambda r: [r.standard_normal((2, 3, 4))],
        None,
    ),
    "mean": (lambda x: F.mean(x, axis=1), lambda r: [r.standard_normal((3, 4))], None),
    "transpose": (F.transpose, lambda r: [r.standard_normal((3, 4))], None),
    "transpose_axes": (
        lambda x: F.transpose(x, (1, 2, 0)),
        lambda r: [r.standard_normal((2, 3, 4))],
        None,
    ),
    "get_item": (
        lambda x: F.get_item(x, (slice(1, 3), [0, 0, 2])),
        lambda r: [r.standard_normal((3, 4))],
        None,
    ),
    "sum": (F.sum, lambda r: [r.standard_normal((3, 4))], None),
    "sum_axis": (lambda x: F.sum(x, axis=(0, 2)), lambda r: [r.standard_normal((2, 3, 4))], None),
    "sum_keepdims": (
        lambda x: F.sum(x, axis=1, keepdims=True),
        lambda r: [r.standard_normal((3, 4))],
        None,
    ),
    "sum_to": (lambda x: F.sum_to(x, (1, 4)), lambda r: [r.standard_normal((3, 4))], None),
    "sum_to_lead": (lambda x: F.sum_to(x, (3, 1)), lambda r: [r.standard_normal((2, 3, 4))], None),
    "broadcast_to": (
        lambda x: F.broadcast_to(x, (3, 4)),
        lambda r: [r.standard_normal((1, 4))],
        None,
    ),
    "matmul": (F.matmul, lambda r: [r.standard_normal((3, 4)), r.standard_normal((4, 2))], None),
    "linear": (
        F.linear,
        lambda r: [r.standard_normal((3, 4)), r.standard_normal((4, 2)), r.standard_normal(2)],
        None,
    ),
    "linear_nobias": (
        F.linear,
        lambda r: [r.standard_normal((3, 4)), r.standard_normal((4, 2))],
        None,
    ),
    "linear_simple": (
        F.linear_simple,
        lambda r: [r.standard_normal((3, 4)), r.standard_normal((4, 2)), r.standard_normal(2)],
        None,
    ),
    "embed_id": (
        lambda W: F.embed_id(np.array([[0, 2, 2], [4, 0, 1]]), W),  # id 2 twice: grads add
        lambda r: [r.standard_normal((5, 3))],
        None,
    ),
    "max": (F.max, lambda r: [_distinct(r, (3, 4))], None),
    "max_axis": (lambda x: F.max(x, axis=1), lambda r: [_distinct(r, (3, 4))], None),
    "min_axis_keepdims": (
        lambda x: F.min(x, axis=0, keepdims=True),
        lambda r: [_distinct(r, (3, 4))],
        None,
    ),
    "mean_squared_error": (
        F.mean_squared_error,
        lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))],
        None,
    ),
    "mean_squared_error_simple": (
        F.mean_squared_error_simple,
        lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))],
        None,
    ),
    "softmax_cross_entropy": (
        F.softmax_cross_entropy,
        lambda r: [r.standard_normal((4, 3)), LABELS],
        [0],
    ),
    "softmax_cross_entropy_column_labels": (
        F.softmax_cross_entropy,
        lambda r: [r.standard_normal((4, 3)), LABELS.reshape(-1, 1)],
        [0],
    ),
    "sigmoid_cross_entropy": (
        F.sigmoid_cross_entropy,
        lambda r: [r.standard_normal((4, 1)), np.array([0, 1, 1, 0])],
        [0],
    ),
    "binary_cross_entropy": (
        F.binary_cross_entropy,
        lambda r: [r.uniform(0.05, 0.95, (4, 1)), np.array([[0.0], [1.0], [1.0], [0.0]])],
        [0],
    ),
    "softmax_cross_entropy_simple": (
        F.softmax_cross_entropy_simple,
        lambda r: [r.standard_normal((4, 3)), LABELS],
        [0],
    ),
    "softmax_cross_entropy_onehot": (
        F.softmax_cross_entropy,
        lambda r: [r.standard_normal((4, 3)), np.eye(3)[LABELS]],
        [0],
    ),
    "dropout": (
        lambda x: F.dropout(x, 0.4, rng=np.random.default_rng(5)),  # the same mask every call
        lambda r: [r.standard_normal((3, 4))],
        None,
    ),
    "batch_norm": (
        lambda x, g, b: F.batch_norm(x, g, b, np.zeros(3), np.ones(3)),
        lambda r: [r.standard_normal((5, 3)), r.uniform(0.5, 2, 3), r.standard_normal(3)],
        None,
    ),
    "batch_norm_4d": (
        lambda x, g, b: F.batch_norm(x, g, b, np.zeros(2), np.ones(2)),
        lambda r: [r.standard_normal((2, 2, 3, 3)), r.uniform(0.5, 2, 2), r.standard_normal(2)],
        None,
    ),
    "conv2d": (
        lambda x, W, b: F.conv2d(x, W, b, stride=1, pad=1),
        lambda r: [
            r.standard_normal((2, 3, 5, 5)),
            r.standard_normal((4, 3, 3, 3)),
            r.standard_normal(4),
        ],
        None,
    ),
    "conv2d_stride2_nobias": (
        lambda x, W: F.conv2d(x, W, stride=2),
        lambda r: [r.standard_normal((1, 2, 6, 5)), r.standard_normal((3, 2, 2, 3))],
        None,
    ),
    "pooling": (lambda x: F.pooling(x, 2, stride=2), lambda r: [_distinct(r, (2, 3, 4, 4))], None),
    "pooling_overlap_pad": (
        lambda x: F.pooling(x, 3, stride=1, pad=1),
        lambda r: [_distinct(r, (1, 2, 4, 4))],
        None,
    ),
    "average_pooling": (
        lambda x: F.average_pooling(x, 2, stride=2),
        lambda r: [r.standard_normal((2, 3, 4, 4))],
        None,
    ),
    "average_pooling_overlap": (
        lambda x: F.average_pooling(x, (2, 3), stride=1, pad=1),
        lambda r: [r.standard_normal((1, 2, 4, 5))],
        None,
    ),
    "im2col": (
        lambda x: F.im2col(x, 3, stride=2, pad=1),
        lambda r: [r.standard_normal((2, 2, 5, 5))],
        None,
    ),
    "im2col_tensor": (
        lambda x: F.im2col(x, (2, 3), to_matrix=False),
        lambda r: [r.standard_normal((1, 2, 4, 4))],
        None,
    ),
    "col2im": (
        lambda c: F.col2im(c, (2, 2, 4, 4), 3, stride=1, pad=1),
        lambda r: [r.standard_normal((32, 18))],
        None,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_backward_matches_numerical_gradient(name, rng):
    fn, make, wrt = CASES[name]
    check_function(fn, *make(rng), rng=rng, wrt=wrt)


@pytest.mark.parametrize(
    "name",
    [
        "exp",
        "tanh",
        "sigmoid",
        "relu",
        "leaky_relu",
        "softmax",
        "log_softmax",
        "average",
        "linear",
        "linear_simple",
        "embed_id",
        "mean_squared_error_simple",
        "conv2d",
    ],
)
def test_float32_stays_float32(name, rng):
    fn, make, wrt = CASES[name]
    arrays = [a.astype(np.float32) for a in make(rng)]
    y, grads = backprop(fn, *arrays)
    assert y.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


# -- PyTorch as the oracle ---------------------------------------------------------
def _torch_cases(torch):
    tf = torch.nn.functional
    return {
        "add": torch.add,
        "sub": torch.sub,
        "mul": torch.mul,
        "div": torch.div,
        "neg": torch.neg,
        "pow": lambda x: x**3,
        "pow_half": torch.sqrt,
        "exp": torch.exp,
        "log": torch.log,
        "reciprocal": torch.reciprocal,
        "sin": torch.sin,
        "cos": torch.cos,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "leaky_relu": lambda x: tf.leaky_relu(x, 0.2),
        "leaky_relu_slope": lambda x: tf.leaky_relu(x, 0.05),
        "average": torch.mean,
        "average_axis": lambda x: x.mean(dim=(0, 2), keepdim=True),
        "linear_simple": lambda x, W, b: x @ W + b,
        "embed_id": lambda W: tf.embedding(torch.tensor([[0, 2, 2], [4, 0, 1]]), W),
        "mean_squared_error_simple": lambda a, b: tf.mse_loss(a, b, reduction="sum") / len(a),
        "softmax": lambda x: torch.softmax(x, dim=1),
        "log_softmax": lambda x: torch.log_softmax(x, dim=1),
        "clip": lambda x: torch.clamp(x, -0.5, 0.5),
        "transpose_axes": lambda x: x.permute(1, 2, 0),
        "sum_axis": lambda x: x.sum(dim=(0, 2)),
        "matmul": torch.matmul,
        "linear": lambda x, W, b: x @ W + b,
        "max_axis": lambda x: x.max(dim=1).values,
        "mean_squared_error": lambda a, b: tf.mse_loss(a, b, reduction="sum") / len(a),
        "batch_norm": lambda x, g, b: tf.batch_norm(x, None, None, g, b, training=True, eps=2e-5),
        "batch_norm_4d": lambda x, g, b: tf.batch_norm(
            x, None, None, g, b, training=True, eps=2e-5
        ),
        "conv2d": lambda x, W, b: tf.conv2d(x, W, b, stride=1, padding=1),
        "conv2d_stride2_nobias": lambda x, W: tf.conv2d(x, W, stride=2),
        "pooling": lambda x: tf.max_pool2d(x, 2, stride=2),
        "average_pooling": lambda x: tf.avg_pool2d(x, 2, stride=2),
        "im2col": lambda x: tf.unfold(x, 3, padding=1, stride=2).transpose(1, 2).reshape(-1, 18),
        "col2im": lambda c: tf.fold(
            c.reshape(2, 16, 18).transpose(1, 2), (4, 4), 3, padding=1, stride=1
        ),
    }


TORCH_NAMES = [
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "pow_half",
    "exp",
    "log",
    "reciprocal",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "leaky_relu_slope",
    "average",
    "average_axis",
    "linear_simple",
    "embed_id",
    "mean_squared_error_simple",
    "softmax",
    "log_softmax",
    "clip",
    "transpose_axes",
    "sum_axis",
    "matmul",
    "linear",
    "max_axis",
    "mean_squared_error",
    "batch_norm",
    "batch_norm_4d",
    "conv2d",
    "conv2d_stride2_nobias",
    "pooling",
    "average_pooling",
    "im2col",
    "col2im",
]


@pytest.mark.reference
@pytest.mark.parametrize("name", TORCH_NAMES)
def test_matches_pytorch(name, rng):
    torch = pytest.importorskip("torch")
    fn, make, _ = CASES[name]
    torch_compare(fn, _torch_cases(torch)[name], *make(rng), rng=rng, torch=torch, rtol=1e-9)


@pytest.mark.reference
def test_softmax_cross_entropy_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 3))
    y, (gx, gt) = backprop(F.softmax_cross_entropy, x, LABELS)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.cross_entropy(tx, torch.tensor(LABELS))
    ty.backward()
    np.testing.assert_allclose(y, ty.item(), rtol=1e-12)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert gt is None  # the labels get no gradient


@pytest.mark.reference
def test_binary_losses_match_pytorch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, p = rng.standard_normal((5, 1)), rng.uniform(0.05, 0.95, (5, 1))
    t = np.array([0, 1, 1, 0, 1])
    g = float(rng.standard_normal())
    for ours, theirs, a in [
        (F.sigmoid_cross_entropy, tf.binary_cross_entropy_with_logits, x),
        (F.binary_cross_entropy, tf.binary_cross_entropy, p),
    ]:
        y, (ga, _) = backprop(ours, a, t, g=np.array(g))
        ta = torch.tensor(a, requires_grad=True)
        ty = theirs(ta, torch.tensor(t, dtype=torch.float64).reshape(5, 1))
        (ty * g).backward()
        np.testing.assert_allclose(y, ty.item(), rtol=1e-12)
        np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-10)


# -- behaviour -------------------------------------------------------------------------
@given(matrices(bound=50.0))
def test_softmax_rows_sum_to_one(x):
    np.testing.assert_allclose(F.softmax(x).data.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(F.log_softmax(x).data).sum(axis=1), 1.0, rtol=1e-12)


def test_softmax_cross_entropy_value_and_finite_for_large_scores():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]])
    loss = F.softmax_cross_entropy(x, np.array([0, 2]))
    assert float(loss.data) == pytest.approx(np.log(3.0) / 2, rel=1e-12)


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_cross_entropy_second_derivative_matches_the_composed_twin(one_hot, rng):
    """backward reuses the forward's softmax unless the backward is recorded: both paths agree."""
    x0 = rng.standard_normal((4, 3))
    t = np.eye(3)[LABELS] if one_hot else LABELS
    v = rng.standard_normal((4, 3))
    hvps, grads = [], []
    if one_hot:  # the composed twin takes labels: build the one-hot form from nodes

        def composed(x, t):
            return -F.sum(t * F.log(F.softmax(x))) / len(x)

    else:
        composed = F.softmax_cross_entropy_simple
    for loss_fn in (F.softmax_cross_entropy, composed):
        x = Variable(x0.copy())
        loss_fn(x, t).backward(create_graph=True)
        gx = x.grad
        grads.append(gx.data.copy())
        x.cleargrad()
        F.sum(gx * v).backward()  # Hessian-vector product H v
        hvps.append(x.grad.data)
    x = Variable(x0.copy())
    F.softmax_cross_entropy(x, t).backward()  # not recorded: the forward's softmax
    np.testing.assert_allclose(x.grad.data, grads[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(hvps[0], hvps[1], rtol=1e-10, atol=1e-14)
    assert np.abs(hvps[0]).max() > 1e-3  # a real second derivative, not zeros


def test_accuracy():
    y = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert float(F.accuracy(y, np.array([1, 0, 0])).data) == pytest.approx(2 / 3)
    assert float(F.accuracy(y, np.array([[1], [0], [0]])).data) == pytest.approx(2 / 3)
    assert float(F.accuracy(Variable(y), np.eye(2)[[1, 0, 1]]).data) == 1.0
    with pytest.raises(ValueError, match="accuracy: y has 3 rows but t has 2"):
        F.accuracy(y, np.array([1, 0]))


def test_column_labels_are_class_indices(rng):
    x = rng.standard_normal((4, 3))
    loss = F.softmax_cross_entropy(x, LABELS)
    assert float(F.softmax_cross_entropy(x, LABELS.reshape(-1, 1)).data) == float(loss.data)


def test_dropout_without_rng_draws_numpys_global_mask():
    # The books' legacy global RNG, on purpose (noqa: NPY002).
    x = np.arange(1.0, 21.0).reshape(4, 5)
    np.random.seed(0)  # noqa: NPY002
    y1 = F.dropout(x, 0.3).data
    np.random.seed(0)  # noqa: NPY002
    keep = np.random.rand(4, 5) > 0.3  # noqa: NPY002 (DeZero's mask: rand > ratio)
    np.testing.assert_array_equal(y1, x * keep / 0.7)
    np.random.seed(0)  # noqa: NPY002
    np.testing.assert_array_equal(F.dropout(x, 0.3).data, y1)


def test_sum_to_follows_dezeros_rule_for_a_shape_that_does_not_broadcast(rng):
    x = rng.standard_normal((10, 20, 20))
    y = F.sum_to(x, (10,))  # DeZero sums the two leading axes and gets (20,)
    np.testing.assert_allclose(y.data, x.sum(axis=(0, 1)))
    check_function(lambda v: F.sum_to(v, (10,)), x[:2, :3, :3].copy(), rng=rng)
    assert F.sum_to(np.ones(10), (1,)).data.tolist() == [10.0]
    with pytest.raises(ValueError, match="sum_to: cannot sum x of shape"):
        F.sum_to(np.ones(3), (1, 3))


def test_mean_squared_error_reshapes_a_target_of_the_same_size(rng):
    """DeZero's step 59 gives a (1, 1) output and a (1,) target; (N, 1) vs (N,) never
    broadcasts to (N, N)."""
    y, t = rng.standard_normal((4, 1)), rng.standard_normal(4)
    loss = F.mean_squared_error(y, t)
    assert float(loss.data) == pytest.approx(np.sum((y[:, 0] - t) ** 2) / 4, rel=1e-12)
    check_function(F.mean_squared_error, y, t, rng=rng)


def test_batch_nrom_is_dezeros_spelling_of_batch_norm():
    assert F.batch_nrom is F.batch_norm


def test_dropout_scales_in_training_and_passes_through_in_test_mode(rng):
    x = np.ones((200, 50))
    y = F.dropout(x, 0.3, rng=rng).data
    assert set(np.unique(y)) <= {0.0, 1 / 0.7}
    assert abs((y == 0).mean() - 0.3) < 0.02
    with autograd.test_mode():
        assert F.dropout(x, 0.3).data is x


def test_batch_norm_updates_running_stats_and_uses_them_in_test_mode(rng):
    x = rng.normal(3.0, 2.0, (1000, 2))
    mean, var = np.zeros(2), np.ones(2)
    g, b = np.ones(2), np.zeros(2)
    y = F.batch_norm(x, g, b, mean, var, decay=0.0).data
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(mean, x.mean(axis=0))
    np.testing.assert_allclose(var, x.var(axis=0, ddof=1))  # unbiased running variance
    with autograd.test_mode():
        y_test = F.batch_norm(x[:5], g, b, mean, var).data
    np.testing.assert_allclose(y_test, (x[:5] - mean) / np.sqrt(var + 2e-5))
    with autograd.test_mode():
        check_function(
            lambda x_: F.batch_norm(x_, g, b, mean.copy(), var.copy()), x[:4].copy(), rng=rng
        )


def test_functions_do_not_modify_inputs(rng):
    for name, (fn, make, _) in CASES.items():
        arrays = make(rng)
        copies = [a.copy() for a in arrays]
        backprop(fn, *arrays)
        for a, c in zip(arrays, copies, strict=True):
            np.testing.assert_array_equal(a, c, err_msg=name)


# -- bad input -----------------------------------------------------------------------
def test_matmul_and_linear_name_the_shapes():
    x, W = np.ones((2, 3)), np.ones((4, 5))
    with pytest.raises(
        ValueError,
        match=r"matmul: cannot multiply x of shape \(2, 3\) by W of shape \(4, 5\); x must",
    ):
        F.matmul(x, W)
    with pytest.raises(ValueError, match=r"linear: cannot multiply x of shape \(2, 3\)"):
        F.linear(x, W)
    with pytest.raises(ValueError, match=r"flatten x first with F.flatten\(x\) to \(N, 48\)"):
        F.linear(np.ones((2, 3, 4, 4)), W)
    with pytest.raises(ValueError, match=r"linear: expected b of shape \(5,\)"):
        F.linear(np.ones((2, 4)), W, np.ones(3))


def test_softmax_cross_entropy_checks_labels():
    x = np.zeros((3, 4))
    with pytest.raises(
        ValueError, match=r"labels in \[0, 3\] for 4 classes, got values from 0 to 4"
    ):
        F.softmax_cross_entropy(x, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="x has 3 rows but t has 2 labels"):
        F.softmax_cross_entropy(x, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer labels of shape"):
        F.softmax_cross_entropy(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"scores x of shape \(N, C\), got \(4,\)"):
        F.softmax_cross_entropy(np.zeros(4), np.array([1]))
    with pytest.warns(RuntimeWarning, match="softmax_cross_entropy: loss is nan"):
        loss = F.softmax_cross_entropy(np.array([[np.nan, 0.0]]), np.array([0]))
    assert np.isnan(loss.data)  # returned, as the book lets a net diverge


def test_other_functions_reject_bad_shapes_and_values():
    with pytest.raises(ValueError, match=r"mean_squared_error: expected x0 and x1 of one shape"):
        F.mean_squared_error(np.zeros((4, 1)), np.zeros(3))
    with pytest.raises(ValueError, match=r"conv2d: expected x of shape \(N, C, H, W\)"):
        F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"pooling: expected stride as an int or a pair \(h, w\)"):
        F.pooling(np.zeros((1, 1, 4, 4)), 2, stride=(1, 2, 3))
    with pytest.raises(ValueError, match=r"conv2d: a 5x5 window with pad \(0, 0\) does not fit"):
        F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"embed_id: expected ids in \[0, 2\]"):
        F.embed_id(np.array([3]), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="embed_id: expected x as an integer array"):
        F.embed_id(np.array([0.0]), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="sigmoid_cross_entropy: expected t with one target"):
        F.sigmoid_cross_entropy(np.zeros((3, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="clip: expected x_min <= x_max"):
        F.clip(np.zeros(2), 1.0, 0.0)
    with pytest.raises(ValueError, match=r"dropout: expected dropout_ratio in \[0, 1\)"):
        F.dropout(np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="batch_norm: expected x of shape"):
        F.batch_norm(np.zeros((2, 3)), np.ones(2), np.zeros(2), np.zeros(2), np.ones(2))


def test_batch_norm_convention_is_dezeros_decay_09_eps_2e5_unbiased(rng):
    x = rng.standard_normal((6, 3, 2, 2))  # images: M = N*H*W = 24 rows per channel
    mean, var = np.zeros(3), np.ones(3)
    F.batch_norm(x, np.ones(3), np.zeros(3), mean, var)  # the defaults
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 3)
    np.testing.assert_allclose(mean, 0.1 * rows.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, 0.9 + 0.1 * rows.var(axis=0) * 24 / 23, rtol=1e-12)
    y = F.batch_norm(x, np.ones(3), np.zeros(3), mean, var).data
    expected = (rows - rows.mean(axis=0)) / np.sqrt(rows.var(axis=0) + 2e-5)
    np.testing.assert_allclose(y.transpose(0, 2, 3, 1).reshape(-1, 3), expected, rtol=1e-10)
