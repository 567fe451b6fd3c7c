"""DeZero stage 3 (steps 25-36) on our framework: graphs, Taylor series, Newton's method and
higher-order derivatives.

Each test writes, in our own words, what the step does with the names imported
from their DeZero place (``dezero``, ``dezero.functions``, ``dezero.utils``) and
asserts the numbers the step prints; the arithmetic is float64 and deterministic,
so they agree to 1e-12.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import framework.autograd.functions as F
from framework.autograd import Function, Variable
from framework.autograd.utils import get_dot_graph


def goldstein(x, y):
    return (1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)) * (
        30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    )


def test_step26_dot_graph_of_goldstein():
    x, y = Variable(np.array(1.0)), Variable(np.array(1.0))
    z = goldstein(x, y)
    z.backward()
    x.name, y.name, z.name = "x", "y", "z"
    text = get_dot_graph(z, verbose=False)
    assert text.startswith("digraph g {") and text.rstrip().endswith("}")
    labels = re.findall(r'label="([^"]*)"', text)
    assert {"x", "y", "z"} <= set(labels)
    assert {"Add", "Sub", "Mul", "Pow"} <= set(labels)
    # every edge joins two nodes that the text declares
    nodes = set(re.findall(r"^(\d+) \[", text, flags=re.M))
    for a, b in re.findall(r"^(\d+) -> (\d+)$", text, flags=re.M):
        assert a in nodes and b in nodes
    verbose = get_dot_graph(z, verbose=True)
    assert "x: () float64" in verbose


class Sin(Function):
    """Step 27's own Function: forward on arrays, backward with the input's data."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * np.cos(x)


def my_sin(x, threshold=0.0001):
    y = 0
    for i in range(100000):
        c = (-1) ** i / math.factorial(2 * i + 1)
        t = c * x ** (2 * i + 1)
        y = y + t
        if abs(t.data) < threshold:
            break
    return y


def test_step27_a_user_function_and_the_taylor_series_of_sin():
    x = Variable(np.array(np.pi / 4))
    y = Sin()(x)
    y.backward()
    assert float(y.data) == 0.7071067811865475  # np.sin(pi / 4), what step 27 prints
    assert float(x.grad.data) == pytest.approx(0.7071067811865476, rel=1e-15)

    x = Variable(np.array(np.pi / 4))
    y = my_sin(x)
    y.backward()
    assert float(y.data) == pytest.approx(0.7071064695751781, rel=1e-12)
    assert float(x.grad.data) == pytest.approx(0.7071032148228457, rel=1e-12)
    assert float(my_sin(Variable(np.array(np.pi / 4)), threshold=1e-150).data) == pytest.approx(
        np.sin(np.pi / 4), rel=1e-15
    )


def test_step28_gradient_descent_on_rosenbrock_with_the_simple_core():
    import framework.autograd as dezero

    assert not dezero.is_simple_core  # so step 28 imports the simple core by name
    from framework.autograd.core_simple import Variable, setup_variable

    setup_variable()
    x0, x1 = Variable(np.array(0.0)), Variable(np.array(2.0))
    lr = 0.001
    for _ in range(1000):
        y = 100 * (x1 - x0**2) ** 2 + (x0 - 1) ** 2
        x0.cleargrad()
        x1.cleargrad()
        y.backward()
        assert isinstance(x0.grad, (np.ndarray, np.generic))  # arrays, not Variables
        x0.data -= lr * x0.grad
        x1.data -= lr * x1.grad
    # DeZero after 1000 steps; the minimum (1, 1) is still far, as the book shows
    assert float(x0.data) == pytest.approx(0.6837118569138317, rel=1e-12)
    assert float(x1.data) == pytest.approx(0.4659526837427042, rel=1e-12)


def test_step28_the_full_core_takes_the_same_steps():
    x0, x1 = Variable(np.array(0.0)), Variable(np.array(2.0))
    for _ in range(1000):
        y = 100 * (x1 - x0**2) ** 2 + (x0 - 1) ** 2
        x0.cleargrad()
        x1.cleargrad()
        y.backward()
        x0.data -= 0.001 * x0.grad.data  # here x0.grad is a Variable
        x1.data -= 0.001 * x1.grad.data
    assert float(x0.data) == pytest.approx(0.6837118569138317, rel=1e-12)
    assert float(x1.data) == pytest.approx(0.4659526837427042, rel=1e-12)


NEWTON = [
    2.0,
    1.4545454545454546,
    1.1510467893775467,
    1.0253259289766978,
    1.0009084519430513,
    1.0000012353089454,
    1.000000000002289,
    1.0,
    1.0,
    1.0,
]  # what steps 29 and 33 print, one line per iteration


def f(x):
    return x**4 - 2 * x**2


def test_step29_newton_with_a_hand_written_second_derivative():
    from framework.autograd.core_simple import Variable, setup_variable

    setup_variable()
    x = Variable(np.array(2.0))
    printed = []
    for _ in range(10):
        printed.append(float(x.data))
        y = f(x)
        x.cleargrad()
        y.backward()
        x.data -= x.grad / (12 * x.data**2 - 4)
    np.testing.assert_allclose(printed, NEWTON, rtol=1e-12)


def test_the_simple_core_no_grad_using_config_and_its_errors():
    from framework.autograd import core_simple as cs

    x = cs.Variable(np.array(3.0))
    with cs.no_grad():
        y = x * 2 + 1
    assert y.creator is None and float(y.data) == 7.0
    with cs.using_config("enable_backprop", False):
        assert not cs.Config.enable_backprop
    assert cs.Config.enable_backprop
    y = -x / 2 - 1 + 2.0 / x  # every operator, numbers on both sides
    y.backward()
    assert float(x.grad) == pytest.approx(-0.5 - 2.0 / 9.0)
    assert repr(cs.Variable(np.array([1.0, 2.0]))) == "variable([1. 2.])"
    x.cleargrad()
    x.backward()  # a leaf: its gradient is ones
    assert float(x.grad) == 1.0
    with pytest.raises(TypeError, match=r"core_simple\.Variable: .*got float"):
        cs.Variable(1.0)


def test_step33_newton_with_the_second_derivative_by_backprop():
    x = Variable(np.array(2.0))
    printed = []
    for _ in range(10):
        printed.append(repr(x))
        y = f(x)
        x.cleargrad()
        y.backward(create_graph=True)
        gx = x.grad
        x.cleargrad()
        gx.backward()
        gx2 = x.grad
        x.data -= gx.data / gx2.data
    assert printed[:3] == [
        "variable(2.0)",
        "variable(1.4545454545454546)",
        "variable(1.1510467893775467)",
    ]
    np.testing.assert_allclose([float(p[9:-1]) for p in printed], NEWTON, rtol=1e-12)


def test_step34_derivatives_of_sin_to_the_third():
    x = Variable(np.linspace(-7, 7, 200))
    y = F.sin(x)
    y.backward(create_graph=True)
    logs = [y.data]
    for _ in range(3):
        logs.append(x.grad.data)
        gx = x.grad
        x.cleargrad()
        gx.backward(create_graph=True)
    t = np.linspace(-7, 7, 200)
    for got, want in zip(logs, [np.sin(t), np.cos(t), -np.sin(t), -np.cos(t)], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_step35_higher_derivatives_of_tanh_and_their_graph():
    x = Variable(np.array(1.0))
    y = F.tanh(x)
    x.name, y.name = "x", "y"
    y.backward(create_graph=True)
    grads = [float(x.grad.data)]
    for _ in range(3):  # step 35 sets iters to 1, then tries larger ones
        gx = x.grad
        x.cleargrad()
        gx.backward(create_graph=True)
        grads.append(float(x.grad.data))
    t = np.tanh(1.0)
    d1 = 1 - t**2
    d2 = -2 * t * d1
    d3 = -2 * (d1 * d1 + t * d2)
    d4 = -2 * (3 * d1 * d2 + t * d3)
    np.testing.assert_allclose(grads, [d1, d2, d3, d4], rtol=1e-12)

    x = Variable(np.array(1.0))
    x.name = "x"
    F.tanh(x).backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    gx.backward(create_graph=True)
    gx = x.grad
    gx.name = "gx2"
    text = get_dot_graph(gx, verbose=False)
    assert 'label="gx2"' in text and 'label="x"' in text and 'label="Tanh"' in text
    assert len(re.findall(r"shape=box", text)) > 5  # the graph of the second derivative


def test_step36_double_backprop():
    x = Variable(np.array(2.0))
    y = x**2
    y.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    z = gx**3 + y
    z.backward()
    assert repr(x.grad) == "variable(100.0)"
