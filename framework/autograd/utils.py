"""Gradient checks, array comparisons and drawing the graph (DOT, graphviz).

``gradient_check`` keeps DeZero's name but checks more strictly: it compares
backprop with the central difference of ``sum(g * f(x))`` for a *random* upstream
gradient ``g``, in float64.  (DeZero differentiates ``sum(f(x))``, that is
``g = 1``, and then a softmax whose backward returns zeros still passes.)
"""

from __future__ import annotations

import shutil
import subprocess
import warnings

import numpy as np

from .. import backend
from .core import Variable, as_variable

__all__ = [
    "numerical_grad",
    "gradient_check",
    "array_equal",
    "array_allclose",
    "get_dot_graph",
    "plot_dot_graph",
]

INSTALL_HINT = "to draw graphs install graphviz: pip install graphviz; apt-get install graphviz"


def numerical_grad(f, x, *args, eps: float = 1e-4, **kwargs):
    """Central-difference gradient of ``sum(f(x, *args, **kwargs))`` with respect to ``x``.

    ``(sum f(x + eps e_i) - sum f(x - eps e_i)) / (2 eps)`` for every element ``i``;
    ``x`` (an array or the ``data`` of a Variable) is changed in place and restored.

    Returns
    -------
    array of the shape of ``x``
    """
    x = x.data if isinstance(x, Variable) else x
    xp = backend.get_array_module(x)
    grad = xp.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        old = x[idx].copy()
        x[idx] = old + eps
        y_plus = as_variable(f(x, *args, **kwargs)).data.sum()
        x[idx] = old - eps
        y_minus = as_variable(f(x, *args, **kwargs)).data.sum()
        x[idx] = old
        grad[idx] = (y_plus - y_minus) / (2 * eps)
    return grad


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
        Draws ``g``; ``default_rng(0)`` when omitted.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    x64 = as_variable(x).data.astype(np.float64)  # a copy: the caller's x is untouched
    xp = backend.get_array_module(x64)
    xv = Variable(x64)
    y = as_variable(f(xv, *args, **kwargs))
    g = xp.asarray(rng.standard_normal(y.shape))
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
    """Return True if two arrays (or Variables) have the same shape and elements."""
    a = a.data if isinstance(a, Variable) else a
    b = b.data if isinstance(b, Variable) else b
    return bool(np.array_equal(backend.to_cpu(a), backend.to_cpu(b)))


def array_allclose(a, b, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Return True if two arrays (or Variables) agree within ``atol + rtol * |b|``."""
    a = a.data if isinstance(a, Variable) else a
    b = b.data if isinstance(b, Variable) else b
    a, b = backend.to_cpu(a), backend.to_cpu(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


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
        warnings.warn(INSTALL_HINT, stacklevel=2)
        return f"// {INSTALL_HINT}\n{dot_text}"
    fmt = to_file.rsplit(".", 1)[-1] if "." in to_file else "png"
    subprocess.run([dot, f"-T{fmt}", "-o", to_file], input=dot_text, text=True, check=True)
    try:
        from IPython import display
    except ImportError:
        return to_file
    return display.Image(filename=to_file) if fmt in ("png", "jpg", "jpeg", "gif") else to_file
