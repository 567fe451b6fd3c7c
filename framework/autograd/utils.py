"""Gradient checks, array comparisons, drawing the graph, DeZero's NumPy helpers, downloads.

``gradient_check`` keeps DeZero's name but checks more strictly: it compares
backprop with the central difference of ``sum(g * f(x))`` for a *random* upstream
gradient ``g``, in float64.  (DeZero differentiates ``sum(f(x))``, that is
``g = 1``, and then a softmax whose backward returns zeros still passes.)  The
central difference itself is the one of the hand-written world,
:func:`framework.gradient.numerical_gradient`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings

import numpy as np

from .. import backend
from ..functions import conv_output_size, pair, sum_to
from ..gradient import numerical_gradient
from .core import Variable, as_variable

__all__ = [
    "GRAPHVIZ_HINT",
    "numerical_grad",
    "gradient_check",
    "array_equal",
    "array_allclose",
    "get_dot_graph",
    "plot_dot_graph",
    "sum_to",
    "reshape_sum_backward",
    "logsumexp",
    "max_backward_shape",
    "get_conv_outsize",
    "get_deconv_outsize",
    "pair",
    "cache_dir",
    "get_file",
    "show_progress",
]

#: The one install hint for drawing graphs (``plot_dot_graph`` here, ``framework.plot``).
GRAPHVIZ_HINT = "to draw graphs install graphviz: pip install graphviz; apt-get install graphviz"
INSTALL_HINT = GRAPHVIZ_HINT  # the name this module used before


def numerical_grad(f, x, *args, eps: float = 1e-4, **kwargs):
    """Central-difference gradient of ``sum(f(x, *args, **kwargs))`` with respect to ``x``.

    ``(sum f(x + eps e_i) - sum f(x - eps e_i)) / (2 eps)`` for every element ``i``,
    computed by :func:`framework.gradient.numerical_gradient`; ``x`` (a float array
    or the ``data`` of a Variable) is changed in place and restored.

    Returns
    -------
    array of the shape of ``x``
    """
    x = x.data if isinstance(x, Variable) else x
    return numerical_gradient(lambda a: as_variable(f(a, *args, **kwargs)).data.sum(), x, eps)


def _check_gradient_check_call(f, x):
    """TypeError naming ``gradient_check`` unless ``f`` is callable and ``x`` numeric."""
    if not callable(f):
        raise TypeError(
            f"gradient_check: expected f to be a function of x (e.g. F.sigmoid), got "
            f"{type(f).__name__}; call it as gradient_check(f, x, *args)"
        )
    data = x.data if isinstance(x, Variable) else x
    if getattr(getattr(data, "dtype", None), "kind", None) not in ("f", "i", "u"):
        raise TypeError(
            f"gradient_check: expected x as a numeric array or Variable, got "
            f"{getattr(data, 'dtype', type(data).__name__)}; e.g. np.random.rand(3, 4)"
        )


def gradient_check(f, x, *args, rtol=1e-5, atol=1e-7, eps=1e-4, rng=None, **kwargs) -> bool:
    """Return True when backprop through ``f`` matches the numerical gradient at ``x``.

    ``x`` is copied to float64; a random ``g`` of the output's shape is the
    upstream gradient, and ``x.grad`` from ``f(x).backward(grad=g)`` is compared
    with the central difference of ``sum(g * f(x))`` (``rtol``, ``atol`` as in
    ``numpy.allclose``).  Other arguments in ``args`` should be float64 too.

    Parameters
    ----------
    f : callable
        ``f(x, *args, **kwargs)`` returns a Variable.
    x : array or Variable
    rng : numpy.random.Generator, optional
        Draws ``g``; NumPy's global state when omitted (``np.random.seed`` repeats it).

    Raises
    ------
    TypeError
        When ``f`` is not callable or ``x`` is not a numeric array.
    """
    _check_gradient_check_call(f, x)
    x64 = as_variable(x).data.astype(np.float64)  # a copy: the caller's x is untouched
    xp = backend.get_array_module(x64)
    xv = Variable(x64)
    y = as_variable(f(xv, *args, **kwargs))
    draws = np.random.randn(*y.shape) if rng is None else rng.standard_normal(y.shape)  # noqa: NPY002
    g = xp.asarray(draws)
    y.backward(grad=g)
    backprop = xp.zeros_like(x64) if xv.grad is None else xv.grad.data

    def weighted(a):
        return g * as_variable(f(a, *args, **kwargs)).data

    numeric = numerical_grad(weighted, x64, eps=eps)
    ok = array_allclose(backprop, numeric, rtol=rtol, atol=atol)
    if not ok:
        diff = float(xp.abs(backprop - numeric).max())
        print(
            f"gradient_check failed: max |backprop - numerical| = {diff:.3e} "
            f"(rtol={rtol}, atol={atol}) for x of shape {x64.shape}"
        )
    return ok


def array_equal(a, b) -> bool:
    """Return True if two arrays (or Variables) have the same shape and elements (DeZero's)."""
    a = a.data if isinstance(a, Variable) else a
    b = b.data if isinstance(b, Variable) else b
    return bool(np.array_equal(backend.to_cpu(a), backend.to_cpu(b)))


def array_allclose(a, b, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Return True if two arrays (or Variables) agree within ``atol + rtol * |b|``.

    As DeZero's (``np.allclose``), the two are broadcast against each other, so a
    (1,) array equals a scalar; shapes that do not broadcast are simply not close.
    """
    a = a.data if isinstance(a, Variable) else a
    b = b.data if isinstance(b, Variable) else b
    a, b = backend.to_cpu(a), backend.to_cpu(b)
    try:
        return bool(np.allclose(a, b, rtol=rtol, atol=atol))
    except ValueError:  # shapes that do not broadcast
        return False


# -- drawing the graph --------------------------------------------------------
def _dot_var(v, verbose: bool) -> str:
    name = "" if v.name is None else v.name
    if verbose and v.data is not None:
        name += (": " if v.name is not None else "") + f"{v.shape} {v.dtype}"
    name = name.replace('"', r"\"")
    return f'{id(v)} [label="{name}", color=orange, style=filled]\n'


def _dot_func(f) -> str:
    txt = f'{id(f)} [label="{type(f).__name__}", color=lightblue, style=filled, shape=box]\n'
    for x in f.inputs:
        txt += f"{id(x)} -> {id(f)}\n"
    for y in f.outputs:  # weakrefs
        if y() is not None:
            txt += f"{id(f)} -> {id(y())}\n"
    return txt


def get_dot_graph(output, verbose: bool = True) -> str:
    """DOT text of the graph that produced ``output``: variables (orange) and functions.

    Walks back from ``output`` through the creators (a loop, no recursion).
    ``verbose`` adds each variable's shape and dtype to its label.  Paste the text
    into any graphviz viewer, or draw it with ``plot_dot_graph``.
    """
    output = as_variable(output)
    txt = _dot_var(output, verbose)
    funcs, seen = [], set()

    def add_func(f):
        if f is not None and f not in seen:
            seen.add(f)
            funcs.append(f)

    add_func(output.creator)
    while funcs:
        func = funcs.pop()
        txt += _dot_func(func)
        for x in func.inputs:
            txt += _dot_var(x, verbose)
            add_func(x.creator)
    return "digraph g {\n" + txt + "}"


def plot_dot_graph(output, verbose: bool = True, to_file: str = "graph.png"):
    """Draw the graph of ``output`` into ``to_file`` with graphviz's ``dot`` program.

    Returns
    -------
    IPython.display.Image, str
        The image (shown inline in a notebook) when IPython is present, else the
        path written.  Without the ``dot`` program nothing is drawn: a warning is
        issued and the DOT text is returned, its first line a comment with the
        install hint.
    """
    dot_text = get_dot_graph(output, verbose)
    dot = shutil.which("dot")
    if dot is None:
        warnings.warn(GRAPHVIZ_HINT, stacklevel=2)
        return f"// {GRAPHVIZ_HINT}\n{dot_text}"
    fmt = to_file.rsplit(".", 1)[-1] if "." in to_file else "png"
    subprocess.run([dot, f"-T{fmt}", "-o", to_file], input=dot_text, text=True, check=True)
    try:
        from IPython import display
    except ImportError:
        return to_file
    return display.Image(filename=to_file) if fmt in ("png", "jpg", "jpeg", "gif") else to_file


# -- NumPy helpers of DeZero's utils ------------------------------------------
# ``sum_to`` (the backward of broadcasting, on raw arrays) and ``pair`` (3 -> (3, 3))
# are shared with the hand-written layers and live in ``framework.functions``.
def reshape_sum_backward(gy, x_shape: tuple, axis, keepdims: bool):
    """Reshape the gradient of ``sum(x, axis, keepdims)`` so it broadcasts back to ``x``.

    ``sum`` removed the summed axes (unless ``keepdims``); the gradient ``gy`` gets
    them back as axes of length 1, e.g. ``x`` (2, 3, 4), ``axis=1``: ``gy`` (2, 4)
    becomes (2, 1, 4).  Negative axes count from the end of ``x_shape``.

    Parameters
    ----------
    gy : Variable or array
        Gradient of the sum's output.
    x_shape : tuple
        Shape of the sum's input.
    axis : None, int or tuple of ints
    keepdims : bool

    Returns
    -------
    Variable or array
        ``gy`` reshaped (same type as given).
    """
    ndim = len(x_shape)
    axes = (axis,) if isinstance(axis, int) else axis
    if ndim == 0 or axes is None or keepdims:
        shape = gy.shape
    else:
        shape = list(gy.shape)
        for a in sorted(a % ndim for a in axes):
            shape.insert(a, 1)
    return gy.reshape(shape)


def logsumexp(x, axis: int = 1):
    """``log(sum(exp(x), axis))`` without overflow, keeping the summed axis.

    ``m + log(sum(exp(x - m)))`` with ``m = max(x, axis)``: the largest term becomes
    ``exp(0) = 1``, so nothing overflows however large ``x`` is.

    Returns
    -------
    array with the shape of ``x`` except 1 along ``axis``
    """
    xp = backend.get_array_module(x)
    m = x.max(axis=axis, keepdims=True)
    return m + xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True))


def max_backward_shape(x, axis) -> list:
    """Shape of ``max(x, axis, keepdims=True)``: the gradient of ``max`` broadcasts from it.

    ``x`` (2, 3, 4), ``axis=1`` -> ``[2, 1, 4]``; ``axis=None`` -> all ones.
    """
    if axis is None:
        axes = range(x.ndim)
    elif isinstance(axis, int):
        axes = (axis % x.ndim,)
    else:
        axes = tuple(a % x.ndim for a in axis)
    return [1 if ax in axes else s for ax, s in enumerate(x.shape)]


def get_conv_outsize(input_size: int, kernel_size: int, stride: int, pad: int) -> int:
    """Output length of a convolution along one axis: ``(size + 2 pad - k) // stride + 1``."""
    return conv_output_size(input_size, kernel_size, stride, pad)


def get_deconv_outsize(size: int, k: int, s: int, p: int) -> int:
    """Output length of a transposed convolution (deconvolution): ``s (size - 1) + k - 2 p``.

    The inverse of ``get_conv_outsize`` when the stride divides evenly.
    """
    return s * (size - 1) + k - 2 * p


# -- downloads ----------------------------------------------------------------
#: Where ``get_file`` keeps downloads: ``~/.dezero``, the folder DeZero uses, so
#: files a learner already downloaded with DeZero are found again.  Set
#: ``$DEZERO_CACHE`` (read when this module is imported) or assign
#: ``framework.autograd.utils.cache_dir`` to use another folder.
cache_dir = os.environ.get("DEZERO_CACHE") or os.path.join(os.path.expanduser("~"), ".dezero")


def show_progress(block_num: int, block_size: int, total_size: int) -> None:
    """Print a 30-character progress bar (DeZero's ``urlretrieve`` report hook)."""
    if total_size <= 0:
        return
    done = min(block_num * block_size / total_size, 1.0)
    i = int(done * 30)
    print(f"\r[{'#' * i}{'.' * (30 - i)}] {done * 100:.2f}%", end="")


def get_file(url: str, file_name: str | None = None, *, known_hash: str | None = None) -> str:
    """Download ``url`` into ``cache_dir`` unless it is already there; return its path.

    As DeZero's ``get_file``, but downloaded with pooch: the file is written under
    a temporary name and moved into place only when complete (and, with
    ``known_hash``, only when its checksum matches), so an interrupted or corrupt
    download never stays in the cache.

    Parameters
    ----------
    url : str
    file_name : str, optional
        Name in the cache; by default the last part of ``url``.
    known_hash : str, optional
        Expected checksum, ``"sha256:<hex>"`` or ``"md5:<hex>"`` (a bare hex string
        is SHA-256).  A cached file with another checksum is downloaded again.

    Returns
    -------
    str
        Absolute path of the file in the cache.

    Raises
    ------
    ImportError
        When pooch is not installed.
    ConnectionError
        When the file is not cached and cannot be downloaded (no network, server
        error); the message says where to put the file by hand.
    ValueError
        When the downloaded file does not match ``known_hash``.
    """
    try:
        import pooch
    except ImportError as err:
        raise ImportError("get_file: downloading needs pooch: pip install pooch") from err
    if file_name is None:
        file_name = url[url.rfind("/") + 1 :]
    folder = os.path.abspath(cache_dir)
    path = os.path.join(folder, file_name)
    if known_hash is None and os.path.exists(path):
        return path  # as DeZero: a cached file is used as it is
    try:
        return pooch.retrieve(
            url, known_hash=known_hash, fname=file_name, path=folder, progressbar=False
        )
    except ValueError as err:  # pooch: checksum mismatch
        raise ValueError(f"get_file: {url} was downloaded but is corrupt: {err}") from err
    except OSError as err:  # requests' errors are OSErrors: no network, server error
        response = getattr(err, "response", None)
        if response is not None:  # pooch leaves a failed response (and its socket) open
            response.close()
        raise ConnectionError(
            f"get_file: cannot download {url} ({type(err).__name__}: {err}). "
            f"Check the network, or download the file by hand and save it as {path}"
        ) from err
