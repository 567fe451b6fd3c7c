"""The chapter-6 experiments: optimizers compared, activations per layer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import framework.plot
import framework.trainer
from framework import experiments
from framework.experiments import activation_experiment, compare_optimizers, layer_outputs
from framework.layers import Pooling
from framework.models import mlp, simple_cnn
from framework.optimizers import SGD, AdaGrad, Adam, Momentum


def test_the_old_import_paths_give_the_same_functions():
    from framework.trainer import compare_optimizers as via_trainer

    assert via_trainer is experiments.compare_optimizers
    assert framework.trainer.compare_optimizers is experiments.compare_optimizers
    for name in ("compare_optimizers", "activation_experiment", "layer_outputs"):
        assert getattr(framework.plot, name) is getattr(experiments, name)
        assert name in framework.plot.__all__ and name in experiments.__all__


@pytest.mark.parametrize("first", ["framework.experiments", "framework.trainer", "framework.plot"])
def test_no_import_cycle_whichever_module_comes_first(first):
    # trainer gives its old name lazily, so importing it never loads experiments
    code = (
        f"import sys, {first}\n"
        "from framework.trainer import compare_optimizers\n"
        "from framework.plot import layer_outputs\n"
        "import framework.experiments as e\n"
        "assert compare_optimizers is e.compare_optimizers\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    code = "import sys, framework.trainer; assert 'framework.experiments' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_trainer_module_still_refuses_unknown_names():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        framework.trainer.nonexistent  # noqa: B018


def test_activation_experiment_shows_what_the_book_shows():
    # std 1 with sigmoid: outputs pile up near 0 and 1 (vanishing gradients);
    # std 0.01: all near 0.5 (no expressiveness); Xavier: spread out in between.
    def share_at_ends(acts):
        last = list(acts.values())[-1]
        return np.mean((last < 0.1) | (last > 0.9))

    def spread(acts):
        return list(acts.values())[-1].std()

    std1 = activation_experiment(1.0, "sigmoid")
    small = activation_experiment(0.01, "sigmoid")
    xavier = activation_experiment("xavier", "sigmoid")
    assert list(std1) == [f"layer {k} (sigmoid)" for k in range(1, 6)]  # not Sequential indices
    assert std1["layer 5 (sigmoid)"].shape == (1000, 100)
    assert share_at_ends(std1) > 0.5 > share_at_ends(xavier)
    assert spread(small) < 0.02 and spread(xavier) > 5 * spread(small)
    # ReLU: with He the last layer still varies; with std 0.01 it has nearly died out
    assert spread(activation_experiment("he", "relu")) > 100 * spread(
        activation_experiment(0.01, "relu")
    )


def test_layer_outputs_returns_the_activation_layers_outputs(rng):
    net = mlp(4, (3, 2), 2, rng=rng, dtype="float64")
    x = rng.standard_normal((5, 4))
    outs = layer_outputs(net, x)
    assert list(outs) == ["1 Relu", "3 Relu"]
    h = np.maximum(x @ net.layers[0].W + net.layers[0].b, 0)
    np.testing.assert_allclose(outs["1 Relu"], h)
    assert list(layer_outputs(net, x, kinds=("Affine",))) == ["0 Affine", "2 Affine", "4 Affine"]


def test_layer_outputs_names_a_fast_twin_as_the_layer_it_stands_in_for(rng):
    net = simple_cnn((1, 8, 8), filter_num=3, filter_size=3, hidden_size=5, output_size=2, rng=rng)
    assert type(net.layers[2]) is not Pooling and isinstance(net.layers[2], Pooling)
    x = rng.standard_normal((2, 1, 8, 8)).astype(np.float32)
    outs = layer_outputs(net, x, kinds=("Relu", "Pooling"))
    assert list(outs) == ["1 Relu", "2 Pooling", "4 Relu"]
    np.testing.assert_array_equal(outs["2 Pooling"], Pooling(2, 2, 2).forward(outs["1 Relu"]))
    twin = type(net.layers[2]).__name__
    assert list(layer_outputs(net, x, kinds=(twin,))) == [f"2 {twin}"]


def small_problem(rng):
    x = rng.standard_normal((300, 10)).astype(np.float32)
    t = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + 2 * (x[:, 2] > 0)
    return mlp(10, (16,), 4, rng=rng), x, t


def test_compare_optimizers_trains_copies_from_the_same_start(rng):
    net, x, t = small_problem(rng)
    W0 = net.layers[0].W.copy()
    opts = {
        "SGD": SGD(0.1),
        "Momentum": Momentum(0.05),
        "AdaGrad": AdaGrad(0.1),
        "Adam": Adam(0.01),
    }
    losses = compare_optimizers(net, opts, x, t, iters=60, batch_size=32, rng=rng)
    assert list(losses) == list(opts)
    assert all(len(v) == 60 for v in losses.values())
    firsts = [v[0] for v in losses.values()]
    np.testing.assert_allclose(firsts, firsts[0], rtol=1e-6)  # same weights, same first batch
    assert len({round(v[-1], 6) for v in losses.values()}) == 4  # the rules differ
    for v in losses.values():
        assert np.mean(v[-10:]) < 0.8 * np.mean(v[:10])  # each one learns
    np.testing.assert_array_equal(net.layers[0].W, W0)  # the given net is untouched
