"""CNN and chapter-6 plots: filter grids, activation histograms, optimizer comparison."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from framework.layers import Convolution
from framework.models import mlp
from framework.optimizers import SGD, AdaGrad, Adam, Momentum
from framework.plot import (
    activation_experiment,
    compare_optimizers,
    layer_outputs,
    plot_activation_histograms,
    plot_filters,
    plot_optimizer_comparison,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def drawn_axes(fig):
    return [ax for ax in fig.axes if ax.images or ax.patches or ax.lines]


def test_plot_filters_draws_each_filter_of_a_layer(tmp_path, rng):
    conv = Convolution((30, 1, 5, 5), rng=rng)
    fig = plot_filters(conv, ncols=8, path=tmp_path / "filters.png")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 32  # 4 rows of 8, the last two empty
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == 30
    np.testing.assert_array_equal(shown[7], conv.W[7, 0])
    assert (tmp_path / "filters.png").read_bytes()[:8] == PNG_MAGIC
    assert fig.get_suptitle() == "30 filters of 5x5"
    assert plot_filters(conv, title="after training").get_suptitle() == "after training"


def test_plot_filters_picks_a_channel_and_rejects_bad_shapes(rng):
    W = rng.standard_normal((4, 3, 3, 3))
    fig = plot_filters(W, channel=2)
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), W[1, 2])
    assert fig.get_suptitle() == "4 filters of 3x3, input channel 2"
    with pytest.raises(ValueError, match=r"plot_filters: expected W of shape \(FN, C, FH, FW\)"):
        plot_filters(np.zeros((4, 9)))
    with pytest.raises(ValueError, match="channel=3"):
        plot_filters(W, channel=3)


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


def test_plot_activation_histograms_draws_one_histogram_per_layer(tmp_path):
    acts = activation_experiment("xavier", "sigmoid", layers=3, samples=200)
    fig = plot_activation_histograms(acts, bins=20, value_range=(0, 1), path=tmp_path / "h.png")
    assert len(fig.axes) == 3
    for ax, a in zip(fig.axes, acts.values(), strict=True):
        assert len(ax.patches) == 20
        assert sum(p.get_height() for p in ax.patches) == a.size
    assert [ax.get_title() for ax in fig.axes] == list(acts)
    assert [ax.get_title() for ax in fig.axes] == [
        "layer 1 (sigmoid)",
        "layer 2 (sigmoid)",
        "layer 3 (sigmoid)",
    ]
    assert {ax.get_xlabel() for ax in fig.axes} == {"activation value"}
    assert fig.axes[0].get_ylabel() == "count" and fig.get_suptitle() == ""
    fig = plot_activation_histograms(acts, title="Xavier", xlabel="sigmoid output")
    assert fig.get_suptitle() == "Xavier" and fig.axes[2].get_xlabel() == "sigmoid output"
    assert (tmp_path / "h.png").read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="plot_activation_histograms: got no activations"):
        plot_activation_histograms({})


def test_layer_outputs_returns_the_activation_layers_outputs(rng):
    net = mlp(4, (3, 2), 2, rng=rng, dtype="float64")
    x = rng.standard_normal((5, 4))
    outs = layer_outputs(net, x)
    assert list(outs) == ["1 Relu", "3 Relu"]
    h = np.maximum(x @ net.layers[0].W + net.layers[0].b, 0)
    np.testing.assert_allclose(outs["1 Relu"], h)
    assert list(layer_outputs(net, x, kinds=("Affine",))) == ["0 Affine", "2 Affine", "4 Affine"]


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


def test_plot_optimizer_comparison_draws_a_smoothed_curve_each(tmp_path, rng):
    losses = {"SGD": list(np.linspace(2, 1, 100)), "Adam": list(np.linspace(2, 0.2, 100))}
    fig = plot_optimizer_comparison(losses, window=10, path=tmp_path / "opt.png")
    (ax,) = drawn_axes(fig)
    assert [line.get_label() for line in ax.lines] == ["SGD", "Adam"]
    assert ax.get_title() == "optimizers compared" and ax.get_legend() is not None
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("iteration", "loss (moving average)")
    x, y = ax.lines[1].get_data()
    assert len(y) == 91 and x[0] == 10
    np.testing.assert_allclose(y[0], np.mean(np.linspace(2, 0.2, 100)[:10]))
    assert (tmp_path / "opt.png").read_bytes()[:8] == PNG_MAGIC
