"""Plots: each returns a Figure, draws what it says, and saves a real PNG headless."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.figure import Figure

from framework.plot import (
    plot_decision_boundary,
    plot_history,
    plot_images,
    smooth,
    write_atomically,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 1000


def test_smooth_is_a_moving_average():
    np.testing.assert_allclose(smooth([1, 2, 3, 4], 2), [1.5, 2.5, 3.5])
    np.testing.assert_allclose(smooth([1, 2, 3, 4], 1), [1, 2, 3, 4])
    np.testing.assert_allclose(smooth([1, 2, 3], 10), [2.0])  # window capped at the length
    assert smooth(np.ones(500)).shape == (500 - 10 + 1,)  # default window: len // 50


def test_plot_history_draws_loss_and_accuracy(tmp_path, rng):
    history = {
        "loss": list(2.0 * np.exp(-np.arange(120) / 40) + 0.1 * rng.random(120)),
        "train_acc": [0.7, 0.8, 0.85],
        "test_acc": [0.68, 0.77, 0.8],
    }
    path = tmp_path / "curves.png"
    fig = plot_history(history, path)
    assert isinstance(fig, Figure)
    assert_png(path)
    ax_loss, ax_acc = fig.axes
    raw, mean = ax_loss.lines
    np.testing.assert_allclose(raw.get_ydata(), history["loss"])
    np.testing.assert_allclose(mean.get_ydata(), smooth(history["loss"]))
    assert mean.get_xdata()[-1] == 120  # the smoothed line ends at the last iteration
    assert [line.get_label() for line in ax_acc.lines] == ["train", "test"]
    np.testing.assert_allclose(ax_acc.lines[1].get_ydata(), history["test_acc"])
    np.testing.assert_array_equal(ax_acc.lines[0].get_xdata(), [1, 2, 3])
    assert [ax.get_title() for ax in fig.axes] == ["training loss", "accuracy"]
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes] == [
        ("iteration", "loss"),
        ("epoch", "accuracy"),
    ]
    assert fig.get_suptitle() == ""
    assert plot_history(history, title="two-layer net").get_suptitle() == "two-layer net"


def test_plot_history_without_test_accuracy_or_path():
    fig = plot_history({"loss": [1.0, 0.5], "train_acc": [0.5], "test_acc": []})
    assert [line.get_label() for line in fig.axes[1].lines] == ["train"]


def test_plot_decision_boundary_colors_the_predicted_regions(tmp_path, rng):
    x = rng.uniform(-1, 1, size=(60, 2)).astype(np.float32)
    t = (x[:, 0] > 0).astype(int)
    seen = []

    def predict(points):
        seen.append(points)
        return np.stack([-points[:, 0], points[:, 0]], axis=1)  # class 1 where x0 > 0

    path = tmp_path / "boundary.png"
    fig = plot_decision_boundary(predict, x, t, path, resolution=50)
    assert isinstance(fig, Figure)
    assert_png(path)
    (grid,) = seen
    assert grid.shape == (2500, 2) and grid.dtype == np.float32  # the net's dtype
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.collections[-1].get_offsets(), x)  # samples on top
    assert ax.get_title() == "decision regions"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["class 0", "class 1"]


def test_plot_decision_boundary_names_the_classes_in_its_legend(rng):
    x = rng.standard_normal((30, 2))
    t = rng.integers(0, 3, 30)
    names = ["left arm", "middle arm", "right arm"]
    labels = {"title": "MLP on the spiral", "xlabel": "a", "ylabel": "b"}
    fig = plot_decision_boundary(
        lambda p: (p[:, 0] > 0).astype(int), x, t, resolution=10, class_names=names, **labels
    )
    ax = fig.axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("MLP on the spiral", "a", "b")
    handles = ax.get_legend().legend_handles
    assert [h.get_label() for h in handles] == names
    # each legend marker has its class's color in the samples' colormap (tab10)
    colors = [colormaps["tab10"](k) for k in range(3)]
    np.testing.assert_allclose([h.get_markerfacecolor() for h in handles], colors)
    with pytest.raises(ValueError, match="got 2 class_names for 3 classes"):
        plot_decision_boundary(lambda p: p[:, 0] > 0, x, t, resolution=10, class_names=names[:2])


def test_plot_decision_boundary_accepts_labels_and_one_hot(rng):
    x = rng.standard_normal((30, 2))
    t = np.eye(3)[rng.integers(0, 3, 30)]
    fig = plot_decision_boundary(lambda p: (p[:, 1] > 0).astype(int), x, t, resolution=20)
    assert isinstance(fig, Figure)


def test_plot_decision_boundary_rejects_non_2d_data():
    with pytest.raises(ValueError, match=r"expected x of shape \(N, 2\), got \(5, 3\)"):
        plot_decision_boundary(lambda p: p, np.zeros((5, 3)), np.zeros(5, dtype=int))


def test_plot_images_titles_mistakes_in_red(tmp_path, rng):
    x = rng.random((12, 784)).astype(np.float32)
    labels = np.arange(12) % 10
    predicted = labels.copy()
    predicted[3] = 7
    names = [f"class{k}" for k in range(10)]
    path = tmp_path / "images.png"
    fig = plot_images(x, labels, predicted, class_names=names, ncols=5, path=path)
    assert_png(path)
    assert len(fig.axes) == 15  # 3 rows of 5, the last 3 left empty
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "class0"
    assert titles[3] == "class7\n(true: class3)"
    assert fig.axes[3].title.get_color() == "red"
    assert titles[12:] == ["", "", ""]
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), x[1].reshape(28, 28))
    assert fig.get_suptitle() == ""  # no title unless asked
    fig = plot_images(x, labels, title="twelve random images")
    assert fig.get_suptitle() == "twelve random images"


def test_plot_images_accepts_image_shapes_and_labels_only(rng):
    for shape in [(4, 1, 28, 28), (4, 28, 28), (4, 64)]:
        fig = plot_images(rng.random(shape), labels=[0, 1, 2, 3])
        assert [ax.get_title() for ax in fig.axes] == ["0", "1", "2", "3"]


def test_plot_images_rejects_non_square_images():
    with pytest.raises(ValueError, match=r"square grayscale images.*got \(3, 10\)"):
        plot_images(np.zeros((3, 10)))


def test_import_framework_loads_no_plotting_or_progress_libraries():
    code = (
        "import sys, framework, framework.plot, framework.trainer, framework.models\n"
        "import framework.experiments\n"
        "bad = [m for m in ('matplotlib', 'tqdm', 'cupy', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- saving: atomic, so nothing is ever half-written ---------------------------


def test_write_atomically_replaces_the_file_with_the_usual_permissions(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("old")
    write_atomically(path, lambda f: f.write(b"new"))
    assert path.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("fault", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, fault):
    path = tmp_path / "curves.png"
    path.write_bytes(b"the good picture")

    def half_then_fail(f):
        f.write(b"half a pic")
        raise fault

    with pytest.raises(type(fault)):
        write_atomically(path, half_then_fail)
    assert path.read_bytes() == b"the good picture"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def test_a_figure_that_fails_to_save_keeps_the_previous_png(tmp_path, monkeypatch):
    path = tmp_path / "curves.png"
    plot_history({"loss": [2.0, 1.0], "train_acc": [0.5]}, path)
    good = path.read_bytes()

    def full_disk(self, f, **kwargs):
        f.write(PNG_MAGIC)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    with pytest.raises(OSError, match="No space"):
        plot_history({"loss": [3.0, 0.5], "train_acc": [0.9]}, path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def test_the_format_follows_the_suffix(tmp_path):
    plot_history({"loss": [2.0, 1.0]}, tmp_path / "curves.svg")
    assert b"<svg" in (tmp_path / "curves.svg").read_bytes()[:500]
