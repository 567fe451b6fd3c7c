"""Pictures of training: learning curves, decision boundaries, images, CNN filters.

Also the pictures of the book's chapter-6 experiments: activation histograms per
layer for different weight scales, and training-loss curves of several optimizers.
The experiments themselves (``compare_optimizers``, ``activation_experiment``,
``layer_outputs``) live in ``framework.experiments`` and are re-exported here.

Every function builds a ``matplotlib.figure.Figure`` directly (no pyplot), so it
works on a headless machine, saves to ``path`` when one is given (atomically, see
``write_atomically``), and returns the figure, which a notebook shows inline.
matplotlib is imported only when a function here is called.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .backend import get_array_module, to_cpu
from .experiments import activation_experiment, compare_optimizers, layer_outputs  # re-exported

__all__ = [
    "smooth",
    "plot_history",
    "plot_decision_boundary",
    "plot_images",
    "show_dot",
    "plot_filters",
    "layer_outputs",
    "activation_experiment",
    "plot_activation_histograms",
    "compare_optimizers",
    "plot_optimizer_comparison",
    "write_atomically",
]

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
    """Save ``fig`` to ``path`` when one is given (the format follows the suffix), atomically."""
    if path is not None:
        path = os.fspath(path)
        fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
        write_atomically(path, lambda f: fig.savefig(f, format=fmt, dpi=100))
    return fig


def write_atomically(path, write) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then put it at ``path``.

    The temporary file lives in the same folder, so ``os.replace`` swaps it in
    as one step: an error or a Ctrl-C while writing (a full disk, say) leaves the
    previous ``path`` as it was and no half-written file behind.  The new file
    gets the usual permissions (0666 less the umask), like a file opened with
    ``open(path, "w")``.

    Parameters
    ----------
    path : str or path-like
    write : callable
        Gets a binary file object open for writing.
    """
    import tempfile

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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


def plot_history(history: dict, path=None, *, title: str | None = None):
    """Plot the loss per iteration (raw and smoothed) and the accuracy per epoch.

    Parameters
    ----------
    history : dict of lists
        As returned by ``Trainer.train``: ``"loss"`` per iteration and
        ``"train_acc"`` / ``"test_acc"`` per epoch (either may be empty).
    path : str or path-like, optional
        Where to save the figure, e.g. ``"curves.png"``.
    title : str, optional
        A title over both panels (which are titled "training loss" and "accuracy").

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
    epochs = max(len(history.get("train_acc", [])), len(history.get("test_acc", [])), 1)
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", xlim=(0.5, epochs + 0.5))
    ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole epochs
    ax_acc.grid(alpha=0.3)
    if title is not None:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_decision_boundary(
    predict,
    x,
    t,
    path=None,
    resolution: int = 200,
    margin=0.5,
    *,
    title: str = "decision regions",
    class_names=None,
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
):
    """Color the plane by the class ``predict`` gives, and draw the samples on top.

    Each class has one color, in its region and in its samples; a legend names
    the classes (``class_names``, or "class 0", "class 1", ...).

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
    title : str
        What the figure shows, e.g. ``"MLP on the spiral, after 300 epochs"``.
    class_names : sequence of str, optional
        Names for the legend, one per class.
    xlabel, ylabel : str
        Names of the two features.

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
    if class_names is not None and len(class_names) < n_classes:
        raise ValueError(
            f"plot_decision_boundary: got {len(class_names)} class_names for "
            f"{n_classes} classes; give one name per class"
        )
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
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), aspect="equal", title=title)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend(handles=_class_handles(n_classes, class_names), fontsize=8, loc="best")
    return _finish(fig, path)


def _class_handles(n_classes: int, class_names=None) -> list:
    """Legend entries: a marker of each class's ``tab10`` color with the class's name."""
    from matplotlib import colormaps
    from matplotlib.lines import Line2D

    cmap = colormaps["tab10"]
    names = [f"class {k}" for k in range(n_classes)] if class_names is None else class_names
    style = {"marker": "o", "linestyle": "", "markeredgecolor": "k"}
    return [
        Line2D([], [], markerfacecolor=cmap(k % 10), label=str(names[k]), **style)
        for k in range(n_classes)
    ]


def plot_images(
    x,
    labels=None,
    predicted=None,
    class_names=None,
    ncols: int = 10,
    path=None,
    max_images=100,
    *,
    title: str | None = None,
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
    title : str, optional
        A title over the grid, e.g. ``"misclassified test images"``.

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
    if title is not None:
        fig.suptitle(title)
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


def plot_filters(W, ncols: int = 8, channel: int = 0, path=None, *, title: str | None = None):
    """Show convolution filters as a grid of small images (the book's Figure 7-24).

    Each filter is scaled on its own, black for its largest weight and white for
    its smallest, so learned edge and blob detectors stand out.

    Parameters
    ----------
    W : array of shape (FN, C, FH, FW), or a layer with such a ``W`` (a Convolution)
    ncols : int
        Filters per row.
    channel : int
        Which input channel of each filter to show.
    path : str or path-like, optional
    title : str, optional
        Defaults to "N filters of FHxFW" (and the channel, when there are several).

    Returns
    -------
    matplotlib.figure.Figure
    """
    W = to_cpu(getattr(W, "W", W))
    if W.ndim != 4 or not 0 <= channel < W.shape[1]:
        raise ValueError(
            f"plot_filters: expected W of shape (FN, C, FH, FW) and 0 <= channel < C, got "
            f"W of shape {W.shape} and channel={channel}"
        )
    n = W.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = _figure(1.0 * ncols, 1.0 * nrows)
    for i, ax in enumerate(fig.subplots(nrows, ncols, squeeze=False).ravel()):
        ax.set_axis_off()
        if i < n:
            ax.imshow(W[i, channel], cmap="gray_r", interpolation="nearest")
    if title is None:
        title = f"{n} filters of {W.shape[2]}x{W.shape[3]}"
        title += f", input channel {channel}" if W.shape[1] > 1 else ""
    fig.suptitle(title, fontsize=10)
    return _finish(fig, path)


def plot_activation_histograms(
    activations: dict,
    bins: int = 30,
    value_range=None,
    path=None,
    *,
    title: str | None = None,
    xlabel: str = "activation value",
):
    """Draw one histogram of activation values per layer, side by side.

    Each panel is titled with its key, e.g. "layer 1 (sigmoid)".

    Parameters
    ----------
    activations : dict
        Layer name -> array (any shape), e.g. from :func:`activation_experiment`
        or :func:`layer_outputs`.
    bins : int
    value_range : (float, float), optional
        Range of the histograms' bins; ``(0, 1)`` suits sigmoid outputs.
    path : str or path-like, optional
    title : str, optional
        A title over the panels, e.g. ``"sigmoid layers, weights of std 1"``.
    xlabel : str
        What the values are.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not activations:
        raise ValueError("plot_activation_histograms: got no activations to draw")
    fig = _figure(2.4 * len(activations), 2.6)
    axes = fig.subplots(1, len(activations), squeeze=False, sharey=True).ravel()
    for ax, (name, a) in zip(axes, activations.items(), strict=True):
        ax.hist(to_cpu(a).ravel(), bins=bins, range=value_range)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
    axes[0].set_ylabel("count")
    if title is not None:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_optimizer_comparison(
    losses: dict, window: int | None = None, path=None, *, title: str = "optimizers compared"
):
    """Plot smoothed training-loss curves, one per optimizer (the book's Figure 6-9).

    Parameters
    ----------
    losses : dict
        Name -> losses per iteration, e.g. from :func:`compare_optimizers`.
    window : int, optional
        Moving-average window (see :func:`smooth`).
    path : str or path-like, optional
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = _figure(6, 4)
    ax = fig.subplots()
    for name, values in losses.items():
        mean = smooth(values, window)
        ax.plot(np.arange(len(values) - len(mean) + 1, len(values) + 1), mean, label=name)
    ax.set(xlabel="iteration", ylabel="loss (moving average)", title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    return _finish(fig, path)
