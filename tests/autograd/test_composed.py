"""Composed activations: they agree with their fused twins and with the hand-written layers."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from hypothesis import given

import framework.autograd.functions as F
from framework.autograd import Variable, composed
from framework.autograd.layers import Linear
from framework.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss, Tanh
from tests.strategies import float_arrays, matrices

from ._helpers import backprop, check_function, torch_compare

TOL = dict(rtol=1e-10, atol=1e-12)


def _layer_pass(layer, x, g):
    return layer.forward(x), layer.backward(g)


@pytest.mark.parametrize(
    "layer, fused, composed_fn",
    [
        (Sigmoid, F.sigmoid, composed.sigmoid),
        (Tanh, F.tanh, composed.tanh),
        (Relu, F.relu, composed.relu),
    ],
)
def test_activations_agree_with_hand_written_layers(layer, fused, composed_fn, rng):
    x = rng.uniform(0.1, 3.0, (16, 10)) * rng.choice([-1.0, 1.0], (16, 10))  # no relu kink
    g = rng.standard_normal(x.shape)
    y_layer, dx_layer = _layer_pass(layer(), x, g)
    for fn in (fused, composed_fn):
        y, (dx,) = backprop(fn, x, g=g)
        np.testing.assert_allclose(y, y_layer, **TOL)
        np.testing.assert_allclose(dx, dx_layer, **TOL)


def test_linear_agrees_with_affine(rng):
    x, W, b = rng.standard_normal((16, 20)), rng.standard_normal((20, 30)), rng.standard_normal(30)
    g = rng.standard_normal((16, 30))
    affine = Affine(W.copy(), b.copy())
    y_layer, dx_layer = _layer_pass(affine, x, g)
    for fn in (F.linear, lambda x_, W_, b_: x_ @ W_ + b_):  # fused node, and matmul + add
        y, (dx, dW, db) = backprop(fn, x, W, b, g=g)
        np.testing.assert_allclose(y, y_layer, **TOL)
        np.testing.assert_allclose(dx, dx_layer, **TOL)
        np.testing.assert_allclose(dW, affine.dW, **TOL)
        np.testing.assert_allclose(db, affine.db, **TOL)
    lin = Linear(30, dtype=np.float64, in_size=20)
    lin.W.data[...], lin.b.data[...] = W, b
    xv = Variable(x)
    y = lin(xv)
    y.backward(grad=g)
    np.testing.assert_allclose(y.data, y_layer, **TOL)
    np.testing.assert_allclose(lin.W.grad.data, affine.dW, **TOL)
    np.testing.assert_allclose(xv.grad.data, dx_layer, **TOL)


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_cross_entropy_agrees_with_softmax_with_loss(one_hot, rng):
    x = rng.standard_normal((16, 10)) * 3
    t = rng.integers(0, 10, 16)
    target = np.eye(10)[t] if one_hot else t
    layer = SoftmaxWithLoss()
    loss_layer = layer.forward(x, target)
    dx_layer = layer.backward(1.0)
    fns = [F.softmax_cross_entropy] + ([] if one_hot else [composed.softmax_cross_entropy])
    for fn in fns:
        loss, grads = backprop(fn, x, target)
        np.testing.assert_allclose(loss, loss_layer, **TOL)
        np.testing.assert_allclose(grads[0], dx_layer, **TOL)


def test_composed_softmax_agrees_with_fused(rng):
    x = rng.standard_normal((8, 5)) * 10
    g = rng.standard_normal(x.shape)
    for axis in (0, 1):
        y0, (d0,) = backprop(lambda v, a=axis: F.softmax(v, a), x, g=g)
        y1, (d1,) = backprop(lambda v, a=axis: composed.softmax(v, a), x, g=g)
        np.testing.assert_allclose(y1, y0, **TOL)
        np.testing.assert_allclose(d1, d0, **TOL)


@given(float_arrays(bound=30.0))
def test_composed_sigmoid_and_tanh_equal_fused(x):
    y = x.astype(np.float64)
    np.testing.assert_allclose(composed.sigmoid(y).data, F.sigmoid(y).data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(composed.tanh(y).data, F.tanh(y).data, rtol=1e-12, atol=1e-15)
    s, s_neg = F.sigmoid(y).data, F.sigmoid(-y).data
    np.testing.assert_allclose(s_neg, 1.0 - s, atol=1e-15)  # sigmoid(-x) = 1 - sigmoid(x)


@given(matrices(bound=50.0))
def test_composed_softmax_rows_sum_to_one(x):
    np.testing.assert_allclose(composed.softmax(x).data.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize(
    "fn",
    [composed.sigmoid, composed.tanh, composed.softmax, composed.swish, composed.gelu,
     lambda x: composed.smooth_relu(x, 3.0)],
)  # fmt: skip
def test_composed_gradients_match_numerical(fn, rng):
    check_function(fn, rng.standard_normal((4, 5)), rng=rng)


@pytest.mark.parametrize("k", [1.0, 5.0, 10.0, 50.0])
def test_smooth_relu_max_error_is_about_0_2785_over_k(k):
    err, at = composed.smooth_relu_max_error(k, lo=-3.0, hi=3.0, num=600_001)
    assert err == pytest.approx(0.278465 / k, rel=1e-4)
    assert at == pytest.approx(-1.278465 / k, abs=2e-5)


@pytest.mark.reference
def test_swish_and_gelu_match_pytorch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = rng.standard_normal((6, 7)) * 3
    torch_compare(composed.swish, tf.silu, x, rng=rng, torch=torch)
    torch_compare(composed.gelu, lambda t: tf.gelu(t, approximate="tanh"), x, rng=rng, torch=torch)
    torch_compare(
        lambda v: composed.smooth_relu(v, 4.0),
        lambda t: t * torch.sigmoid(4.0 * t),
        x,
        rng=rng,
        torch=torch,
    )


def _node_names(dot: str) -> list:
    return sorted(re.findall(r'label="([A-Za-z]+)", color=lightblue', dot))


@pytest.mark.parametrize(
    "graph, nodes",
    [
        (composed.sigmoid_graph, ["Add", "Exp", "Neg", "Reciprocal"]),
        (composed.tanh_graph, ["Add", "Div", "Exp", "Exp", "Neg", "Sub"]),
        (composed.relu_graph, ["Mul"]),
        (composed.smooth_relu_graph, ["Add", "Exp", "Mul", "Mul", "Neg", "Reciprocal"]),
        (composed.softmax_graph, ["Div", "Exp", "Sub", "Sum"]),
        (composed.swish_graph, ["Add", "Exp", "Mul", "Mul", "Neg", "Reciprocal"]),
        (composed.gelu_graph, ["Add", "Add", "Mul", "Mul", "Mul", "Mul", "Pow", "Tanh"]),
        (composed.softmax_cross_entropy_graph,
         ["Div", "Div", "Exp", "GetItem", "Log", "Neg", "Sub", "Sum", "Sum"]),
    ],
)  # fmt: skip
def test_graphs_hold_only_primitive_nodes(graph, nodes):
    dot = graph()
    assert dot.startswith("digraph g {") and dot.endswith("}")
    assert _node_names(dot) == nodes
    assert 'label="x"' in dot and 'label="y"' in dot


def test_graph_verbose_labels_and_drawing(tmp_path):
    dot = composed.sigmoid_graph(np.zeros((2, 3)), verbose=True)
    assert 'label="x: (2, 3) float64"' in dot
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot program is not installed")
    out = tmp_path / "sigmoid.png"
    composed.sigmoid_graph(to_file=str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dezero_simple_names_point_to_the_composed_versions():
    assert F.sigmoid_simple is composed.sigmoid
    assert F.softmax_simple is composed.softmax
    assert F.softmax_cross_entropy_simple is composed.softmax_cross_entropy
