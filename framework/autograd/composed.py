"""Activations assembled from primitive nodes only: nobody wrote their backward.

Each function below is a few lines of ``exp``, ``add``, ``mul``, ``reciprocal``
... and its derivative is what back-propagation through those nodes produces.
Adding a new activation (``swish``, ``gelu`` below) therefore takes one line of
forward and no backward at all.  The fused twins, one node with a hand-derived
backward (``F.sigmoid``, ``F.tanh``, ``F.relu``, ``F.softmax``), are faster and
safe from overflow; the tests check that each pair gives the same numbers.

Next to each activation, ``<name>_graph()`` returns the DOT text of its graph
(paste it into a graphviz viewer, or pass ``to_file`` to draw it).

Overflow: the textbook formulas overflow where the fused versions do not:
``exp(-x)`` is ``inf`` for ``x < -709`` (float64) or ``x < -88`` (float32), and the
backward then meets ``0 * inf = nan``.  Use them to learn, the fused ones to train.
"""

from __future__ import annotations

import math

import numpy as np

from .core import Variable, as_variable
from .functions_math import exp, log, reciprocal
from .functions_math import tanh as fused_tanh
from .operators import add, div, get_item, mul, neg, sub
from .operators import sum as sum_
from .utils import get_dot_graph, plot_dot_graph

__all__ = [
    "sigmoid",
    "sigmoid_graph",
    "tanh",
    "tanh_graph",
    "relu",
    "relu_graph",
    "smooth_relu",
    "smooth_relu_graph",
    "smooth_relu_max_error",
    "softmax",
    "softmax_graph",
    "softmax_cross_entropy",
    "softmax_cross_entropy_graph",
    "swish",
    "swish_graph",
    "gelu",
    "gelu_graph",
]


def _graph(fn, x, verbose, to_file, *args):
    """Run ``fn`` on a small sample input and return (or draw) its graph."""
    x = Variable(np.array([[-1.5, 0.0, 2.0]]) if x is None else np.asarray(x), name="x")
    y = fn(x, *args)
    y.name = "y"
    if to_file is not None:
        return plot_dot_graph(y, verbose, to_file)
    return get_dot_graph(y, verbose)


def sigmoid(x) -> Variable:
    """``y = 1 / (1 + exp(-x))`` as four nodes: neg, exp, add, reciprocal.

    Back-propagation multiplies the local derivatives
    ``-1 * exp(-x) * 1 * (-1 / (1 + exp(-x))**2)``, which simplifies to
    ``y (1 - y)``, the formula ``F.sigmoid`` (fused) writes by hand.
    """
    return reciprocal(add(1.0, exp(neg(x))))


def sigmoid_graph(x=None, verbose: bool = False, to_file: str | None = None):
    """DOT text (or a drawing into ``to_file``) of the composed sigmoid's graph."""
    return _graph(sigmoid, x, verbose, to_file)


def tanh(x) -> Variable:
    """``y = (e^x - e^-x) / (e^x + e^-x)`` from exp, neg, sub, add and div.

    Its backward comes out as ``1 - y**2``, as in ``F.tanh``.
    """
    e_pos, e_neg = exp(x), exp(neg(x))
    return div(sub(e_pos, e_neg), add(e_pos, e_neg))


def tanh_graph(x=None, verbose: bool = False, to_file: str | None = None):
    """DOT text (or a drawing into ``to_file``) of the composed tanh's graph."""
    return _graph(tanh, x, verbose, to_file)


def relu(x) -> Variable:
    """``y = x * mask`` with ``mask = (x > 0)`` held as a constant.

    The comparison has derivative 0 wherever it is defined, so treating the
    mask as a constant loses nothing: ``mul``'s backward gives ``gy * mask``,
    exactly ReLU's derivative (taken as 0 at ``x = 0``).  ``max(x, 0)`` through
    ``F.max`` would need the zeros as a second array and splits the gradient at
    ties, so the mask is the simpler graph: one ``Mul`` node.
    """
    x = as_variable(x)
    return mul(x, x.data > 0)


def relu_graph(x=None, verbose: bool = False, to_file: str | None = None):
    """DOT text (or a drawing into ``to_file``) of the composed ReLU's graph."""
    return _graph(relu, x, verbose, to_file)


def smooth_relu(x, k: float = 10.0) -> Variable:
    """``y = x * sigmoid(k x)``: a ReLU with the corner rounded off (``k`` sharpens it).

    For large ``|k x|`` the sigmoid is 0 or 1, so ``y`` is 0 or ``x``; the largest
    gap to ReLU is about ``0.2785 / k`` (see ``smooth_relu_max_error``).  This is
    ``swish(x, beta=k)``.
    """
    x = as_variable(x)
    return mul(x, sigmoid(mul(x, k)))


def smooth_relu_graph(x=None, verbose: bool = False, to_file: str | None = None, k=10.0):
    """DOT text (or a drawing into ``to_file``) of the smooth ReLU's graph."""
    return _graph(smooth_relu, x, verbose, to_file, k)


def smooth_relu_max_error(k: float, lo: float = -5.0, hi: float = 5.0, num: int = 100_001):
    """Largest ``|x * sigmoid(k x) - relu(x)|`` on ``num`` points of ``[lo, hi]``.

    Returns
    -------
    (float, float)
        The error and the ``x`` where it occurs (about ``-1.278 / k``).
    """
    x = np.linspace(lo, hi, num)
    err = np.abs(smooth_relu(x, k).data - np.maximum(x, 0.0))
    i = int(err.argmax())
    return float(err[i]), float(x[i])


def softmax(x, axis: int = 1) -> Variable:
    """``y = exp(x - m) / sum(exp(x - m), axis)`` with ``m`` the row maximum.

    ``m`` is held as a constant: softmax does not change when a constant is
    subtracted from a row, so its gradient with respect to ``m`` is exactly 0
    and nothing is lost; it only keeps ``exp`` from overflowing.
    """
    x = as_variable(x)
    e = exp(sub(x, x.data.max(axis=axis, keepdims=True)))
    return div(e, sum_(e, axis=axis, keepdims=True))


def softmax_graph(x=None, verbose: bool = False, to_file: str | None = None):
    """DOT text (or a drawing into ``to_file``) of the composed softmax's graph."""
    return _graph(softmax, x, verbose, to_file)


def softmax_cross_entropy(x, t) -> Variable:
    """``loss = -sum(log(softmax(x))[i, t_i]) / N`` from softmax, log, indexing and sum.

    Its backward comes out as ``(softmax(x) - onehot(t)) / N``, the formula of
    the fused ``F.softmax_cross_entropy`` and of the ``SoftmaxWithLoss`` layer.
    ``t`` holds integer labels of shape (N,).
    """
    x = as_variable(x)
    t = t.data if isinstance(t, Variable) else t
    N = x.shape[0]
    log_p = log(softmax(x))
    return neg(div(sum_(get_item(log_p, (np.arange(N), t))), N))


def softmax_cross_entropy_graph(x=None, verbose: bool = False, to_file: str | None = None):
    """DOT text (or a drawing into ``to_file``) of the composed loss's graph (label 2)."""
    return _graph(softmax_cross_entropy, x, verbose, to_file, np.array([2]))


def swish(x, beta: float = 1.0) -> Variable:
    """Swish / SiLU, ``y = x * sigmoid(beta x)`` (Ramachandran et al. 2017).

    The book has no layer for it, and none is needed: the graph differentiates it.
    """
    x = as_variable(x)
    return mul(x, sigmoid(mul(x, beta)))


def swish_graph(x=None, verbose: bool = False, to_file: str | None = None):
    """DOT text (or a drawing into ``to_file``) of swish's graph."""
    return _graph(swish, x, verbose, to_file)


def gelu(x) -> Variable:
    """GELU, tanh form: ``y = x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    (Hendrycks and Gimpel 2016; PyTorch's ``gelu(approximate="tanh")``.)  Built
    from mul, add, pow and the tanh node; no backward written.
    """
    x = as_variable(x)
    inner = mul(add(x, mul(x**3, 0.044715)), math.sqrt(2.0 / math.pi))
    return mul(mul(x, 0.5), add(1.0, fused_tanh(inner)))


def gelu_graph(x=None, verbose: bool = False, to_file: str | None = None):
    """DOT text (or a drawing into ``to_file``) of GELU's graph."""
    return _graph(gelu, x, verbose, to_file)
