"""FunctionLayer: autograd functions and models as layers of a Sequential."""

from __future__ import annotations

import numpy as np
import pytest

import framework.autograd.functions as F
from framework import SGD, Affine, Sequential
from framework.autograd import Parameter, composed
from framework.autograd.models import MLP
from framework.gradient import gradient_check
from framework.layers import FunctionLayer, Relu

from ._helpers import backprop


def test_activation_layer_forward_backward_match_the_graph(rng):
    x = rng.standard_normal((4, 5))
    g = rng.standard_normal((4, 5))
    layer = FunctionLayer(composed.swish)
    x_copy, g_copy = x.copy(), g.copy()
    y = layer.forward(x)
    dx = layer.backward(g)
    y_ref, (dx_ref,) = backprop(composed.swish, x, g=g)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(dx, dx_ref)
    np.testing.assert_array_equal(x, x_copy)  # neither x nor dout was modified
    np.testing.assert_array_equal(g, g_copy)
    assert layer.params == {} and layer.grads == {}
    assert gradient_check(layer, x)["x"] < 1e-8


def test_a_composed_activation_is_a_drop_in_for_a_hand_written_layer(rng):
    W1, b1 = rng.standard_normal((6, 8)), rng.standard_normal(8)
    W2, b2 = rng.standard_normal((8, 3)), rng.standard_normal(3)
    x, t = rng.standard_normal((5, 6)), rng.integers(0, 3, 5)
    hand = Sequential([Affine(W1.copy(), b1.copy()), Relu(), Affine(W2.copy(), b2.copy())])
    bridged = Sequential(
        [Affine(W1.copy(), b1.copy()), FunctionLayer(composed.relu), Affine(W2.copy(), b2.copy())]
    )
    g_hand, g_bridged = hand.gradient(x, t), bridged.gradient(x, t)
    assert g_hand.keys() == g_bridged.keys()
    for k in g_hand:
        np.testing.assert_allclose(g_bridged[k], g_hand[k], rtol=1e-12, atol=1e-15)


def test_model_parameters_are_trained_through_the_sequential(rng):
    model = MLP((7, 3), activation=F.tanh, rng=rng)
    layer = FunctionLayer(model)
    net = Sequential([layer])
    x, t = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    assert list(net.params) == ["0.l0/b", "0.l1/b"]  # W is sized by the first forward
    net.loss(x, t)
    assert list(net.params) == ["0.l0/W", "0.l0/b", "0.l1/W", "0.l1/b"]
    assert net.params["0.l0/W"] is model.l0.W.data  # the very arrays
    for p in model.params():  # float64 for the gradient check
        p.data = p.data.astype(np.float64)
    errors = gradient_check(net, x, t)
    assert max(errors.values()) < 1e-7, errors
    W_array = model.l0.W.data
    losses = []
    opt = SGD(lr=0.5)
    for _ in range(20):
        grads = net.gradient(x, t)
        losses.append(net.loss_layer.loss)
        opt.update(net.params, grads)
    assert model.l0.W.data is W_array  # updated in place
    assert losses[-1] < 0.5 * losses[0]


def test_bridged_training_equals_pure_autograd_training(rng):
    x, t = rng.standard_normal((8, 4)).astype(np.float32), rng.integers(0, 3, 8)
    bridged_model = MLP((5, 3), rng=np.random.default_rng(3))
    pure_model = MLP((5, 3), rng=np.random.default_rng(3))
    net = Sequential([FunctionLayer(bridged_model)])
    net.loss(x, t)  # size the weights
    opt_net, opt_pure = SGD(lr=0.3), SGD(lr=0.3).setup(pure_model)
    for _ in range(10):
        opt_net.update(net.params, net.gradient(x, t))
        loss = F.softmax_cross_entropy(pure_model(x), t)
        pure_model.cleargrads()
        loss.backward()
        opt_pure.update()
        np.testing.assert_allclose(net.loss_layer.loss, float(loss.data), rtol=1e-6)
    for a, b in zip(bridged_model.params(), pure_model.params(), strict=True):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6, atol=1e-7)


def test_explicit_parameters_and_unused_ones(rng):
    W = Parameter(rng.standard_normal((3, 2)))
    unused = Parameter(np.ones(4))
    layer = FunctionLayer(lambda x: F.matmul(x, W), params={"W": W, "unused": unused})
    x = rng.standard_normal((5, 3))
    g = rng.standard_normal((5, 2))
    layer.forward(x)
    dx = layer.backward(g)
    np.testing.assert_allclose(layer.grads["W"], x.T @ g)
    np.testing.assert_allclose(dx, g @ W.data.T)
    np.testing.assert_array_equal(layer.grads["unused"], np.zeros(4))
    layer.forward(x)
    layer.backward(g)  # a second backward starts from fresh gradients
    np.testing.assert_allclose(layer.grads["W"], x.T @ g)


def test_train_flag_reaches_the_graph(rng):
    layer = FunctionLayer(lambda v: F.dropout(v, 0.5, rng=rng))
    x = np.ones((10, 10))
    np.testing.assert_array_equal(layer.forward(x), x)  # Sequential's default: test mode
    assert (layer.forward(x, train=True) == 0).any()


def test_bad_use_is_reported():
    with pytest.raises(TypeError, match="FunctionLayer: expected a callable fn, got int"):
        FunctionLayer(3)
    with pytest.raises(TypeError, match=r"params\['W'\] to be a Parameter, got ndarray"):
        FunctionLayer(F.relu, params={"W": np.zeros(2)})
    layer = FunctionLayer(F.relu)
    with pytest.raises(RuntimeError, match="FunctionLayer.backward: called before forward"):
        layer.backward(np.ones(2))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expected dout of shape \(2, 3\).*got \(3, 2\)"):
        layer.backward(np.ones((3, 2)))
    assert repr(layer) == "FunctionLayer(relu)"
