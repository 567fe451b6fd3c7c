"""Ready-made models: the layers they build, their initial scales, the registry contract."""

from __future__ import annotations

import math

import numpy as np
import pytest

from framework.gradient import gradient_check
from framework.layers import Affine, Relu, Sigmoid, Tanh
from framework.models import MODELS, mlp
from framework.net import Sequential


def test_mlp_default_is_the_books_two_layer_net():
    net = mlp()
    assert [type(layer) for layer in net.layers] == [Affine, Relu, Affine]
    assert net.layers[0].W.shape == (784, 100) and net.layers[2].W.shape == (100, 10)
    for p in net.params.values():
        assert p.dtype == np.float32
    np.testing.assert_array_equal(net.layers[0].b, 0)


@pytest.mark.parametrize(
    ("activation", "layer", "std"),
    [
        ("relu", Relu, math.sqrt(2 / 400)),
        ("sigmoid", Sigmoid, math.sqrt(1 / 400)),
        ("tanh", Tanh, math.sqrt(1 / 400)),
    ],
)
def test_auto_init_follows_the_activation(activation, layer, std):
    net = mlp(400, (300, 200), 10, activation=activation, rng=np.random.default_rng(0))
    assert [type(x) for x in net.layers] == [Affine, layer, Affine, layer, Affine]
    assert net.layers[0].W.std() == pytest.approx(std, rel=0.02)  # 120,000 draws


def test_explicit_init_and_dtype():
    net = mlp(50, (40,), 3, init=0.01, dtype="float64", rng=np.random.default_rng(0))
    assert net.layers[0].W.dtype == np.float64
    assert net.layers[0].W.std() == pytest.approx(0.01, rel=0.05)


def test_hidden_sizes_int_and_empty():
    assert [layer.W.shape for layer in mlp(20, 7, 3).layers[::2]] == [(20, 7), (7, 3)]
    (only,) = mlp(20, (), 3).layers
    assert only.W.shape == (20, 3)


def test_same_generator_seed_same_weights_and_layers_draw_differently():
    a = mlp(10, (10,), 10, rng=np.random.default_rng(5))
    b = mlp(10, (10,), 10, rng=np.random.default_rng(5))
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.allclose(a.params["0.W"], a.params["2.W"])


def test_without_rng_weights_come_from_numpys_global_state():
    np.random.seed(0)  # noqa: NPY002 (the global state, on purpose)
    a = mlp(10, (10,), 10)
    b = mlp(10, (10,), 10)
    np.random.seed(0)  # noqa: NPY002 (the global state, on purpose)
    c = mlp(10, (10,), 10)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], c.params[k])  # the seed repeats a run
    assert not np.array_equal(a.params["0.W"], b.params["0.W"])  # two nets differ
    np.random.seed(3)  # noqa: NPY002 (the global state, on purpose)
    want = (np.random.randn(10, 10) * np.sqrt(2.0 / 10)).astype(np.float32)  # the book's draw  # noqa: NPY002
    np.random.seed(3)  # noqa: NPY002 (the global state, on purpose)
    np.testing.assert_array_equal(mlp(10, (10,), 10).params["0.W"], want)


def test_mlp_backprop_matches_numerical_gradient(rng):
    net = mlp(6, (5, 4), 3, activation="tanh", dtype="float64", rng=rng)
    x = rng.standard_normal((4, 6))
    t = rng.integers(0, 3, size=4)
    errors = gradient_check(net, x, t)
    assert set(errors) == {"0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activation": "gelu"}, r"expected activation in \['relu', 'sigmoid', 'tanh'\]"),
        ({"hidden_sizes": (100, 0)}, r"positive integer layer sizes, got \[784, 100, 0, 10\]"),
        ({"input_size": 78.4}, "positive integer layer sizes"),
        ({"init": "lecun"}, "expected init 'he', 'xavier' or a number"),
    ],
)
def test_bad_arguments_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mlp(**kwargs)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model_takes_images_and_gives_ten_scores(name, rng):
    net = MODELS[name](rng=np.random.default_rng(0), dtype="float32")
    assert isinstance(net, Sequential)
    x = rng.random((2, 1, 28, 28)).astype(np.float32)
    assert net.predict(x).shape == (2, 10)
    assert MODELS["mlp"] is mlp
