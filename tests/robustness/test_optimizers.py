"""Robustness of the optimizers and hooks: hyperparameters, gradient shapes, reuse."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework.layers import Affine, Relu
from framework.net import Sequential
from framework.optimizers import (
    SGD,
    AdaDelta,
    AdaGrad,
    Adam,
    ClipGrad,
    Momentum,
    Nesterov,
    RMSprop,
    WeightDecay,
)

NAN, INF = math.nan, math.inf


def _step_with(grad_shape):
    opt = SGD(0.1)
    W = np.zeros((3, 4))
    return lambda: opt.update({"W": W}, {"W": np.ones(grad_shape)})


def _reused_on_another_net():
    opt = Momentum()
    a = {"W": np.zeros((3, 4))}
    opt.update(a, {"W": np.ones((3, 4))})
    b = {"W": np.zeros((3, 4))}  # same name and shape, another array: another net
    return lambda: opt.update(b, {"W": np.ones((3, 4))})


def _reused_on_a_wider_net():
    rng = np.random.default_rng(0)
    opt = Adam()
    net = Sequential([Affine(4, 3, rng=rng), Relu(), Affine(3, 2, rng=rng)])
    x, t = np.ones((2, 4), np.float32), np.array([0, 1])
    opt.update(net.params, net.gradient(x, t))
    other = Sequential([Affine(4, 5, rng=rng), Relu(), Affine(5, 2, rng=rng)])
    return lambda: opt.update(other.params, other.gradient(x, t))


CASES = [
    pytest.param(
        lambda: SGD(lr=-0.1),
        ValueError,
        r"SGD: expected lr > 0 and finite, got -0\.1",
        id="sgd-negative-lr",
    ),
    pytest.param(lambda: SGD(lr=0), ValueError, r"SGD: expected lr > 0", id="sgd-zero-lr"),
    pytest.param(
        lambda: SGD(lr=NAN),
        ValueError,
        r"SGD: expected lr > 0 and finite, got nan",
        id="sgd-nan-lr",
    ),
    pytest.param(
        lambda: Adam(lr=INF),
        ValueError,
        r"Adam: expected lr > 0 and finite, got inf",
        id="adam-inf-lr",
    ),
    pytest.param(
        lambda: SGD(lr="0.1"),
        TypeError,
        r"SGD: expected lr to be a number, got str",
        id="sgd-string-lr",
    ),
    pytest.param(
        lambda: SGD(lr=True),
        TypeError,
        r"SGD: expected lr to be a number, got bool",
        id="sgd-bool-lr",
    ),
    pytest.param(
        lambda: Momentum(momentum=5),
        ValueError,
        r"Momentum: expected momentum in \[0, 1\) and finite, got 5",
        id="momentum-5",
    ),
    pytest.param(
        lambda: Momentum(momentum=1),
        ValueError,
        r"Momentum: expected momentum in \[0",
        id="momentum-1",
    ),
    pytest.param(
        lambda: Nesterov(momentum=-0.5),
        ValueError,
        r"Nesterov: expected momentum in \[0, 1\)",
        id="nesterov-negative",
    ),
    pytest.param(
        lambda: RMSprop(decay_rate=2),
        ValueError,
        r"RMSprop: expected decay_rate in \[0, 1\) and finite, got 2",
        id="decay-2",
    ),
    pytest.param(
        lambda: Adam(beta1=1),
        ValueError,
        r"Adam: expected beta1 in \[0, 1\) and finite, got 1",
        id="beta1-1",
    ),
    pytest.param(
        lambda: Adam(beta2=NAN), ValueError, r"Adam: expected beta2 in \[0, 1\)", id="beta2-nan"
    ),
    pytest.param(
        lambda: AdaGrad(lr=-1), ValueError, r"AdaGrad: expected lr > 0", id="adagrad-negative"
    ),
    pytest.param(
        lambda: AdaDelta(eps=0),
        ValueError,
        r"AdaDelta: expected eps > 0 and finite",
        id="adadelta-eps-0",
    ),
    pytest.param(
        lambda: AdaDelta(rho=1.5),
        ValueError,
        r"AdaDelta: expected rho in \[0, 1\)",
        id="adadelta-rho",
    ),
    pytest.param(
        lambda: WeightDecay(-5),
        ValueError,
        r"WeightDecay: expected rate >= 0 and finite, got -5",
        id="weight-decay-neg",
    ),
    pytest.param(
        lambda: ClipGrad(-1),
        ValueError,
        r"ClipGrad: expected max_norm > 0 and finite, got -1",
        id="clip-negative",
    ),
    pytest.param(
        lambda: ClipGrad(INF), ValueError, r"ClipGrad: expected max_norm > 0", id="clip-inf"
    ),
    pytest.param(
        _step_with((4,)),
        ValueError,
        r"SGD\.update: the gradient of 'W' has shape \(4,\) but the parameter has "
        r"shape \(3, 4\); expected the same shape",
        id="grad-broadcastable",
    ),
    pytest.param(
        _step_with((4, 3)),
        ValueError,
        r"SGD\.update: the gradient of 'W' has shape "
        r"\(4, 3\)",
        id="grad-transposed",
    ),
    pytest.param(
        _step_with((1, 3, 4)), ValueError, r"has shape \(1, 3, 4\)", id="grad-extra-axis"
    ),
    pytest.param(
        _reused_on_another_net(),
        ValueError,
        r"Momentum\.update: the state kept for 'W' belongs to another array.*reset\(\)",
        id="reused-same-shapes",
    ),
    pytest.param(
        _reused_on_a_wider_net(),
        ValueError,
        r"Adam\.update: the state kept for '0\.W' belongs to another array",
        id="reused-other-shapes",
    ),
    pytest.param(
        lambda: SGD().update({"W": np.zeros(2)}, {}),
        ValueError,
        r"SGD\.update: expected a gradient for every parameter, missing \['W'\]",
        id="missing-gradient",
    ),
]

CASES += [
    pytest.param(
        lambda: SGD().update(_net_for_update(), {}),
        TypeError,
        r"SGD\.update: expected params as a dict of name -> array, got Sequential; call "
        r"update\(net\.params, grads\)",
        id="update-net-itself",
    ),
    pytest.param(
        lambda: SGD().update([np.zeros(2)], [np.ones(2)]),
        TypeError,
        r"SGD\.update: expected params as a dict of name -> array, got list",
        id="update-lists",
    ),
    pytest.param(
        lambda: SGD().update({"W": np.zeros(2)}, {"W": np.ones(2), "b": np.ones(2)}),
        ValueError,
        r"SGD\.update: expected a gradient for every parameter, missing \[\]; and no others, "
        r"got gradients for \['b'\]",
        id="extra-gradient",
    ),
    pytest.param(
        lambda: SGD().update({"W": np.zeros(2, int)}, {"W": np.ones(2)}),
        TypeError,
        r"SGD\.update: parameter 'W' is int64; expected a float array",
        id="integer-parameter",
    ),
    pytest.param(
        lambda: Adam().update({"W": [0.0, 1.0]}, {"W": [0.1, 0.1]}),
        TypeError,
        r"Adam\.update: parameter 'W' is list; expected a float array",
        id="list-parameter",
    ),
    pytest.param(
        lambda: SGD().update({"W": np.zeros(2)}, {"W": [0.1, 0.1]}),
        ValueError,
        r"SGD\.update: the gradient of 'W' has shape list but the parameter has shape \(2,\)",
        id="list-gradient",
    ),
]


def _net_for_update():
    return Sequential([Affine(2, 2)])  # update(net, ...) instead of update(net.params, ...)


@pytest.mark.parametrize(("fn", "exc", "regex"), CASES)
def test_case(fn, exc, regex):
    with pytest.raises(exc, match=regex):
        fn()


RATES = {  # class, keyword, lowest accepted, upper bound (excluded) or None
    "SGD.lr": (SGD, "lr", "open", None),
    "Momentum.momentum": (Momentum, "momentum", 0.0, 1.0),
    "RMSprop.decay_rate": (RMSprop, "decay_rate", 0.0, 1.0),
    "Adam.beta1": (Adam, "beta1", 0.0, 1.0),
    "Adam.beta2": (Adam, "beta2", 0.0, 1.0),
    "WeightDecay.rate": (WeightDecay, "rate", 0.0, None),
    "ClipGrad.max_norm": (ClipGrad, "max_norm", "open", None),
}


@pytest.mark.parametrize("which", list(RATES))
@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_every_value_is_accepted_or_refused_by_name(raises_clearly, which, value):
    cls, name, low, high = RATES[which]
    ok = math.isfinite(value) and (value > 0 if low == "open" else value >= low)
    ok = ok and (high is None or value < high)
    if ok:
        assert getattr(cls(**{name: value}), name) == value
    else:
        raises_clearly(
            lambda: cls(**{name: value}), ValueError, rf"{cls.__name__}: expected {name}"
        )


@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple))
def test_a_gradient_of_another_shape_is_never_broadcast(raises_clearly, shape):
    W = np.zeros((3, 4))
    if shape == (3, 4):
        SGD(0.1).update({"W": W}, {"W": np.ones(shape)})
        assert (W == -0.1).all()
    else:
        raises_clearly(_step_with(shape), ValueError, r"SGD\.update: the gradient of 'W'")
        assert (W == 0).all()  # nothing changed


def test_reset_lets_an_optimizer_move_to_another_net():
    opt = Momentum()
    opt.update({"W": np.zeros(3)}, {"W": np.ones(3)})
    opt.reset()
    W = np.zeros(3)
    opt.update({"W": W}, {"W": np.ones(3)})
    np.testing.assert_allclose(W, -0.01)  # a fresh velocity


def test_loading_weights_in_place_keeps_the_state():
    rng = np.random.default_rng(0)
    net = Sequential([Affine(4, 3, rng=rng)])
    opt = Adam()
    x, t = np.ones((2, 4), np.float32), np.array([0, 1])
    opt.update(net.params, net.gradient(x, t))
    net.layers[0].W[...] = 0  # what Sequential.load does: same arrays
    opt.update(net.params, net.gradient(x, t))
    assert opt.iter == 2
