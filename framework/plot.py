"""Pictures of training: learning curves, decision boundaries and image grids.

Every function builds a ``matplotlib.figure.Figure`` directly (no pyplot), so it
works on a headless machine, saves to ``path`` when one is given, and returns the
figure, which a notebook shows inline.  matplotlib is imported only when a
function here is called.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .backend import get_array_module, to_cpu

__all__ = ["smooth", "plot_history", "plot_decision_boundary", "plot_images", "show_dot"]

DOT_INSTALL_HINT = (
    "to draw graphs install graphviz: pip install graphviz; apt-get install graphviz"
)


def _figure(width: float, height: float):
    """Return a new, empty Figure of ``width`` x ``height`` inches (no pyplot, no GUI)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    _show_inline_in_ipython(Figure)
    return fig


def _show_inline_in_ipython(figure_class) -> None:
    """In a notebook, let a returned Figure display as a PNG even if pyplot was never imported.

    ``%matplotlib inline`` registers this display hook; a figure built without
    pyplot would otherwise show only as ``<Figure size 1000x400>``.
    """
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    from IPython.core.pylabtools import print_figure

    png = shell.display_formatter.formatters["image/png"]
    png.for_type(figure_class, lambda fig: print_figure(fig, "png", bbox_inches="tight"))


def _finish(fig, path):
    """Save ``fig`` to ``path`` when one is given (the format follows the suffix)."""
    if path is not None:
        fig.savefig(os.fspath(path), dpi=100)
    return fig


def smooth(values, window: int | None = None):
    """Return the moving average of ``values`` over ``window`` points (``len // 50`` if None).

    Returns an array of ``len(values) - window + 1`` means: each is the mean of
    one full window, so the curve starts at index ``window - 1``.
    """
    values = np.asarray(values, dtype=np.float64)
    if window is None:
        window = max(1, len(values) // 50)
    window = max(1, min(int(window), len(values)))
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_history(history: dict, path=None):
    """Plot the loss per iteration (raw and smoothed) and the accuracy per epoch.

    Parameters
    ----------
    history : dict of lists
        As returned by ``Trainer.train``: ``"loss"`` per iteration and
        ``"train_acc"`` / ``"test_acc"`` per epoch (either may be empty).
    path : str or path-like, optional
        Where to save the figure, e.g. ``"curves.png"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.ticker import MaxNLocator

    fig = _figure(10, 4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    loss = np.asarray(history.get("loss", []), dtype=np.float64)
    if loss.size:
        mean = smooth(loss)
        ax_loss.plot(
            np.arange(1, loss.size + 1), loss, color="C0", alpha=0.3, lw=0.8, label="per iteration"
        )
        ax_loss.plot(
            np.arange(loss.size - mean.size + 1, loss.size + 1),
            mean,
            color="C0",
            label="moving average",
        )
        ax_loss.legend()
    ax_loss.set(xlabel="iteration", ylabel="loss", title="training loss")
    for key, label in (("train_acc", "train"), ("test_acc", "test")):
        acc = history.get(key, [])
        if len(acc):
            ax_acc.plot(np.arange(1, len(acc) + 1), acc, marker="o", label=label)
    if ax_acc.lines:
        ax_acc.legend()
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax_acc.grid(alpha=0.3)
    return _finish(fig, path)


def plot_decision_boundary(predict, x, t, path=None, resolution: int = 200, margin=0.5):
    """Color the plane by the class ``predict`` gives, and draw the samples on top.

    Parameters
    ----------
    predict : callable
        Maps points of shape (M, 2) to scores (M, C) or labels (M,), e.g. ``net.predict``.
    x : array, shape (N, 2)
        Two-dimensional samples (e.g. the spiral).
    t : array, shape (N,) labels or (N, C) one-hot rows
    path : str or path-like, optional
    resolution : int
        Grid points along each axis.
    margin : float
        Space left around the samples.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if getattr(x, "ndim", 0) != 2 or x.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary: expected x of shape (N, 2), got "
            f"{getattr(x, 'shape', type(x).__name__)}; it draws two-dimensional data only"
        )
    xp = get_array_module(x)
    x_cpu, t_cpu = to_cpu(x), to_cpu(t)
    labels = t_cpu.argmax(axis=1) if t_cpu.ndim == 2 else t_cpu
    lo, hi = x_cpu.min(axis=0) - margin, x_cpu.max(axis=0) + margin
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.c_[gx.ravel(), gy.ravel()].astype(x.dtype)
    scores = to_cpu(predict(xp.asarray(grid)))
    regions = (scores.argmax(axis=1) if scores.ndim == 2 else scores).reshape(gx.shape)
    n_classes = int(max(labels.max(), regions.max())) + 1
    fig = _figure(5, 5)
    ax = fig.subplots()
    ax.contourf(
        gx,
        gy,
        regions,
        levels=np.arange(n_classes + 1) - 0.5,
        cmap="tab10",
        vmin=0,
        vmax=9,
        alpha=0.3,
    )
    ax.scatter(
        x_cpu[:, 0],
        x_cpu[:, 1],
        c=labels,
        cmap="tab10",
        vmin=0,
        vmax=9,
        s=12,
        edgecolors="k",
        linewidths=0.3,
    )
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), aspect="equal", title="decision regions")
    return _finish(fig, path)


def plot_images(
    x, labels=None, predicted=None, class_names=None, ncols: int = 10, path=None, max_images=100
):
    """Show images in a grid, titled with their labels (and predictions, if given).

    A wrong prediction is titled in red: the predicted class, then ``(true: ...)``.

    Parameters
    ----------
    x : array, shape (N, 784), (N, 28, 28) or (N, 1, 28, 28)
        Square grayscale images (any side, e.g. 784 = 28 x 28).
    labels, predicted : arrays of shape (N,), optional
        True and predicted class indices.
    class_names : sequence of str, optional
        Names of the classes, e.g. ``framework.datasets.fashion_mnist_labels``.
    ncols : int
        Images per row.
    path : str or path-like, optional
    max_images : int
        Show at most this many (the first ones).

    Returns
    -------
    matplotlib.figure.Figure
    """
    images = to_cpu(x)[:max_images]
    n = len(images)
    side = math.isqrt(images[0].size) if n else 0
    if n == 0 or side * side != images[0].size:
        raise ValueError(
            f"plot_images: expected square grayscale images of shape (N, 784), (N, 28, 28) "
            f"or (N, 1, 28, 28), got {getattr(x, 'shape', type(x).__name__)}"
        )
    images = images.reshape(n, side, side)

    def name(k):
        return str(class_names[k]) if class_names is not None else str(k)

    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = _figure(1.3 * ncols, 1.5 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r")
        if predicted is not None:
            p = int(predicted[i])
            true = int(labels[i]) if labels is not None else p
            if p == true:
                ax.set_title(name(p), fontsize=8)
            else:
                ax.set_title(f"{name(p)}\n(true: {name(true)})", fontsize=8, color="red")
        elif labels is not None:
            ax.set_title(name(int(labels[i])), fontsize=8)
    return _finish(fig, path)


def show_dot(dot_text: str):
    """Draw a graph written in the DOT language, or print the DOT text if graphviz is missing.

    Parameters
    ----------
    dot_text : str
        A whole graph, e.g. ``'digraph { apple -> "x" }'``.

    Returns
    -------
    graphviz.Source or None
        The graph, which a notebook shows inline, when the ``graphviz`` package and
        its ``dot`` program both work.  Otherwise the DOT text and a one-line
        install hint are printed and None is returned.

    Raises
    ------
    TypeError
        When ``dot_text`` is not a str.
    ValueError
        When ``dot`` runs but cannot parse ``dot_text`` (its message is included).
    """
    if not isinstance(dot_text, str):
        raise TypeError(f"show_dot: expected DOT text as a str, got {type(dot_text).__name__}")
    try:
        import graphviz

        source = graphviz.Source(dot_text)
        source.pipe(format="svg", quiet=True)  # proves `dot` runs and the text parses
    except (ImportError, RuntimeError) as err:  # ExecutableNotFound is a RuntimeError
        print(f"{dot_text}\n// ({type(err).__name__}) {DOT_INSTALL_HINT}")
        return None
    except graphviz.CalledProcessError as err:  # `dot` ran and rejected the text
        message = (err.stderr or b"").decode(errors="replace").strip()
        raise ValueError(f"show_dot: dot could not read the graph: {message}") from err
    return source
