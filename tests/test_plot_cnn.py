"""CNN and chapter-6 plots: filter grids, activation histograms, optimizer comparison."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from framework.experiments import activation_experiment
from framework.layers import Convolution
from framework.plot import (
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
