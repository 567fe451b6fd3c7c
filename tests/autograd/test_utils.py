"""gradient_check (random upstream gradient), numerical_grad, comparisons, DOT export."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import framework.autograd.functions as F
from framework.autograd import Variable, composed, utils
from framework.autograd.functions_math import Softmax
from framework.autograd.utils import (
    array_allclose,
    array_equal,
    get_dot_graph,
    gradient_check,
    numerical_grad,
    plot_dot_graph,
)


class ZeroGradSoftmax(Softmax):
    """A wrong softmax backward that returns zeros."""

    def backward(self, gy):
        return gy * 0.0


def test_gradient_check_passes_correct_functions(rng):
    x = rng.standard_normal((3, 4))
    assert gradient_check(F.tanh, x)
    assert gradient_check(composed.softmax, x, rng=rng)
    W = rng.standard_normal((4, 2))
    assert gradient_check(F.matmul, x, W)  # extra arguments go after x


def test_gradient_check_catches_what_a_sum_check_misses(rng, capsys):
    x = rng.standard_normal((3, 4))

    def broken(v):
        return ZeroGradSoftmax()(v)

    # DeZero's check differentiates sum(f(x)); every softmax row sums to 1, so that
    # gradient is 0 and the broken backward (zeros) would pass it:
    np.testing.assert_allclose(numerical_grad(broken, x.copy()), 0.0, atol=1e-9)
    assert not gradient_check(broken, x, rng=rng)
    assert "gradient_check failed: max |backprop - numerical|" in capsys.readouterr().out


def test_gradient_check_works_in_float64_and_leaves_x_alone(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    before = x.copy()
    seen = []

    def f(v):
        seen.append(v.dtype)
        return F.sigmoid(v)

    assert gradient_check(f, x)
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(x, before)


def test_numerical_grad_of_a_sum_of_squares(rng):
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(numerical_grad(lambda v: v**2, x), 2 * x, rtol=1e-8)
    np.testing.assert_allclose(numerical_grad(lambda v, c: c * v, x, 3.0), 3.0, rtol=1e-8)


def test_array_equal_and_allclose():
    a = np.array([1.0, 2.0])
    assert array_equal(Variable(a), a.copy())
    assert not array_equal(a, a + 1e-12)
    assert array_allclose(Variable(a), a + 1e-9)
    assert not array_allclose(a, a + 1e-3)
    assert not array_allclose(a, np.ones((2, 2)))


def test_get_dot_graph_lists_nodes_and_edges():
    x = Variable(np.array(1.0), name="x")
    y = F.exp(x) * x
    y.name = "y"
    dot = get_dot_graph(y, verbose=False)
    assert dot.startswith("digraph g {\n") and dot.endswith("}")
    assert dot.count("color=lightblue") == 2  # Exp and Mul
    assert f'{id(x)} [label="x", color=orange' in dot
    assert f"{id(x)} -> {id(y.creator)}" in dot  # x feeds Mul directly, and Exp
    assert f"{id(y.creator)} -> {id(y)}" in dot
    verbose = get_dot_graph(y)
    assert 'label="x: () float64"' in verbose
    assert get_dot_graph(x).count("->") == 0  # a lone input


def test_get_dot_graph_of_a_long_chain_needs_no_recursion():
    x = Variable(np.array(1.0))
    y = x
    for _ in range(3000):
        y = -y
    assert get_dot_graph(y, verbose=False).count('label="Neg"') == 3000


def test_plot_dot_graph_draws_with_dot(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot program is not installed")
    y = F.sin(Variable(np.array(1.0)))
    out = tmp_path / "g.svg"
    assert plot_dot_graph(y, to_file=str(out)) == str(out)  # not an image IPython shows
    assert "<svg" in out.read_text()


def test_plot_dot_graph_without_graphviz_returns_the_dot_text(tmp_path, monkeypatch):
    monkeypatch.setattr(utils.shutil, "which", lambda name: None)
    y = F.sin(Variable(np.array(1.0)))
    with pytest.warns(UserWarning, match="install graphviz"):
        text = plot_dot_graph(y, to_file=str(tmp_path / "g.png"))
    first, rest = text.split("\n", 1)
    assert first == "// " + utils.INSTALL_HINT
    assert rest == get_dot_graph(y)
