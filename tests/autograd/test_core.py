"""Variable, Function, Config and the arithmetic operators: values, gradients, memory, depth."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import tracemalloc
import weakref

import numpy as np
import pytest
from hypothesis import given

import framework.autograd.functions as F
from framework import autograd
from framework.autograd import (
    Config,
    Function,
    Parameter,
    Variable,
    as_array,
    as_variable,
    no_grad,
    using_config,
)
from tests.strategies import broadcast_pair

from ._helpers import check_function


# -- Variable -----------------------------------------------------------------
@pytest.mark.parametrize("bad", [[1.0, 2.0], 3.0, object(), np.float64(1.0), "abc"])
def test_variable_rejects_non_arrays(bad):
    with pytest.raises(TypeError, match=r"numpy\.ndarray, a cupy\.ndarray or None, got"):
        Variable(bad)


def test_variable_properties():
    x = Variable(np.arange(6.0).reshape(2, 3), name="x")
    assert (x.shape, x.ndim, x.size, x.dtype, len(x), x.name) == ((2, 3), 2, 6, np.float64, 2, "x")
    assert repr(x) == "variable([[0. 1. 2.]\n          [3. 4. 5.]])"
    assert repr(Variable(None)) == "variable(None)"
    assert x.T.shape == (3, 2)
    assert x.reshape(3, 2).shape == x.reshape((3, 2)).shape == (3, 2)
    assert x.transpose(1, 0).shape == x.transpose((1, 0)).shape == x.transpose().shape == (3, 2)
    assert float(x.sum().data) == 15.0
    np.testing.assert_array_equal(x.sum(axis=0, keepdims=True).data, [[3.0, 5.0, 7.0]])
    np.testing.assert_array_equal(x.max(axis=1).data, [2.0, 5.0])
    np.testing.assert_array_equal(x.min(axis=1).data, [0.0, 3.0])
    assert isinstance(Parameter(np.zeros(2)), Variable)


def test_as_array_and_as_variable():
    assert isinstance(as_array(2.0), np.ndarray) and as_array(2.0).shape == ()
    a = np.zeros(2)
    assert as_array(a) is a
    v = Variable(a)
    assert as_variable(v) is v
    assert as_variable(a).data is a
    with pytest.raises(TypeError, match="Variable"):
        as_variable([1, 2])


# -- operators ------------------------------------------------------------------
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize(
    "shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (2,))]
)
def test_binary_operators_gradients_with_broadcasting(op, shapes, rng):
    a = rng.standard_normal(shapes[0])
    b = rng.uniform(0.5, 2.0, shapes[1])  # away from 0 for div
    y = BINARY[op](Variable(a), Variable(b))
    np.testing.assert_allclose(y.data, BINARY[op](a, b), rtol=1e-15)
    check_function(BINARY[op], a, b, rng=rng)


@pytest.mark.parametrize(
    "fn, expected_grad",
    [
        (lambda x: 2.0 + x, 1.0),
        (lambda x: 2.0 - x, -1.0),
        (lambda x: 2.0 * x, 2.0),
        (lambda x: 2.0 / x, -2.0 / 9.0),
        (lambda x: x**3, 27.0),
        (lambda x: -x, -1.0),
        (lambda x: np.array(2.0) * x, 2.0),  # ndarray first: __array_priority__
    ],
)
def test_reflected_and_unary_operators(fn, expected_grad):
    x = Variable(np.array(3.0))
    y = fn(x)
    assert isinstance(y, Variable)
    y.backward()
    assert float(x.grad.data) == pytest.approx(expected_grad, rel=1e-15)


def test_matmul_operator_and_ndarray_on_the_left(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    for y in (Variable(a) @ Variable(b), a @ Variable(b), Variable(a) @ b):
        assert isinstance(y, Variable)
        np.testing.assert_allclose(y.data, a @ b)
    check_function(lambda x, w: x @ w, a, b, rng=rng)


def test_python_scalars_keep_float32(rng):
    x = Variable(rng.standard_normal((2, 3)).astype(np.float32))
    for y in (x * 2.0, 2.0 * x, x + 1.5, 1.5 - x, x / 3.0, 1.0 / (x + 5.0), x**2, -x):
        assert y.dtype == np.float32
    y = (2.0 * x + 1.0) ** 2 / 3.0
    y.backward()
    assert x.grad.dtype == np.float32


def test_pow_rejects_variable_exponent():
    with pytest.raises(TypeError, match="exponent as a Python number"):
        Variable(np.array(2.0)) ** Variable(np.array(2.0))


def test_indexing_sends_repeated_gradients_to_the_same_element():
    x = Variable(np.array([1.0, 2.0, 3.0]))
    y = x[np.array([0, 0, 2])]
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, 1.0])


@given(broadcast_pair())
def test_broadcast_backward_returns_input_shapes(pair):
    a, b = pair
    for op in BINARY.values():
        x0, x1 = Variable(a), Variable(np.asarray(b + 20.0))  # b away from 0 for div
        op(x0, x1).backward()
        assert x0.grad.shape == a.shape and x1.grad.shape == b.shape


# -- the backward engine ----------------------------------------------------------
class Square(Function):
    calls = 0

    def forward(self, x):
        return x**2

    def backward(self, gy):
        Square.calls += 1
        return 2 * self.inputs[0] * gy


class Plus(Function):
    calls = 0

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        Plus.calls += 1
        return gy, gy


def test_diamond_graph_runs_each_backward_once():
    Square.calls = Plus.calls = 0
    x = Variable(np.array(2.0))
    a = Square()(x)
    y = Plus()(Square()(a), Square()(a))
    y.backward()
    assert float(y.data) == 32.0
    assert float(x.grad.data) == 64.0
    assert (Square.calls, Plus.calls) == (3, 1)


def test_gradients_are_never_added_in_place():
    # y = x + x hands the same gy to both inputs: an in-place x.grad += gx would
    # also change gy, i.e. y.grad.
    x = Variable(np.array(3.0))
    y = x + x
    y.backward(retain_grad=True)
    assert float(x.grad.data) == 2.0 and float(y.grad.data) == 1.0


def test_gradients_accumulate_until_cleargrad():
    x = Variable(np.array(3.0))
    (x * x).backward()
    (x * x).backward()
    assert float(x.grad.data) == 12.0
    x.cleargrad()
    (x * x).backward()
    assert float(x.grad.data) == 6.0


def test_retain_grad_keeps_intermediate_gradients():
    x = Variable(np.array(2.0))
    a = x * 3.0
    y = a * a
    y.backward()
    assert a.grad is None and y.grad is None and float(x.grad.data) == 36.0
    x.cleargrad()
    y = a * a
    y.backward(retain_grad=True)
    assert float(a.grad.data) == 12.0 and float(y.grad.data) == 1.0


def test_non_scalar_output_is_seeded_with_ones_and_grad_argument_is_checked(rng):
    a = rng.standard_normal((2, 3))
    x = Variable(a)
    y = x * x
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * a)  # the gradient of sum(y)
    g = rng.standard_normal((2, 3))
    x.cleargrad()
    (x * x).backward(grad=g)
    np.testing.assert_allclose(x.grad.data, 2 * a * g)
    with pytest.raises(ValueError, match=r"starting grad of shape \(2, 3\).*got \(3, 2\)"):
        (x * x).backward(grad=g.T)


def test_second_derivative_of_quartic():
    x = Variable(np.array(2.0))
    y = x**4 - 2 * x**2
    y.backward(create_graph=True)
    gx = x.grad
    assert float(gx.data) == 24.0
    x.cleargrad()
    gx.backward()
    assert float(x.grad.data) == 44.0


def test_newton_method_as_in_dezero_step_33():
    expected = [2.0, 1.4545454545454546, 1.1510467893775467, 1.0253259289766978,
                1.0009084519430513, 1.0000012353089454, 1.000000000002289]  # fmt: skip
    x = Variable(np.array(2.0))
    seen = []
    for _ in range(7):
        seen.append(float(x.data))
        y = x**4 - 2 * x**2
        x.cleargrad()
        y.backward(create_graph=True)
        gx = x.grad
        x.cleargrad()
        gx.backward()
        x.data = x.data - gx.data / x.grad.data
    np.testing.assert_allclose(seen, expected, rtol=1e-12)


def test_higher_order_derivatives_of_sin():
    x = Variable(np.array(1.0))
    y = F.sin(x)
    expected = [np.cos(1.0), -np.sin(1.0), -np.cos(1.0), np.sin(1.0)]
    for want in expected:
        x.cleargrad()
        y.backward(create_graph=True)
        y = x.grad
        assert float(y.data) == pytest.approx(want, rel=1e-14)


def test_unchain_backward_cuts_the_graph():
    x = Variable(np.array(2.0))
    a = x * x
    y = a * 3.0
    a.unchain_backward()  # no effect on y's creator, cuts below a
    assert a.creator is not None
    y.unchain_backward()
    assert a.creator is None and y.creator is not None
    y.backward()
    assert x.grad is None and float(a.grad.data) == 3.0


# -- Config ------------------------------------------------------------------------
def test_no_grad_records_nothing_and_restores():
    x = Variable(np.array(2.0))
    with no_grad():
        y = x * x
    assert y.creator is None and Config.enable_backprop is True
    assert (x * x).creator is not None


def test_using_config_restores_after_an_error_and_checks_names():
    with pytest.raises(KeyError), autograd.test_mode():
        assert Config.train is False
        raise KeyError("boom")
    assert Config.train is True
    with pytest.raises(ValueError, match="unknown setting 'enable_grad'"):
        with using_config("enable_grad", False):
            pass


# -- depth and memory --------------------------------------------------------------
def test_chain_of_10000_functions_backward_and_free():
    x = Variable(np.array(0.5))
    y = x
    for _ in range(10_000):
        y = F.sin(y) * 1.0 + 0.0
    y.backward()
    assert np.isfinite(float(x.grad.data)) and float(x.grad.data) != 0.0
    first = weakref.ref(y.creator)
    del y
    assert first() is None  # freed at once by reference counting, no RecursionError


@pytest.mark.slow
def test_chain_of_200000_functions_in_a_subprocess():
    code = textwrap.dedent(
        """
        import numpy as np
        from framework.autograd import Variable
        x = Variable(np.array(1.0))
        y = x
        for _ in range(200_000):
            y = y * 1.0
        y.backward()
        assert float(x.grad.data) == 1.0
        del y
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def _live_variables() -> int:
    return sum(isinstance(o, Variable) for o in gc.get_objects())


def _train_chain(x, params, passes):
    for _ in range(passes):
        y = x
        for p in params:
            y = F.tanh(y * p)
        loss = F.sum(y)
        for p in params:
            p.cleargrad()
        loss.backward()


@pytest.mark.parametrize("passes", [pytest.param(1000, marks=pytest.mark.slow), 20])
def test_repeated_training_on_a_100_layer_chain_does_not_grow_memory(passes, rng):
    x = Variable(rng.standard_normal(8))
    params = [Parameter(rng.uniform(0.5, 1.5, 8)) for _ in range(100)]
    gc.collect()  # first, since a full collection also empties CPython's free lists
    gc.disable()  # reference counting alone must free each graph: no cycles
    tracemalloc.start()
    try:
        # Warm up, traced: every grad exists and the free lists (up to 2000 tuples
        # of each size, kept allocated for reuse) have filled.
        _train_chain(x, params, 10)
        before = _live_variables()
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        _train_chain(x, params, 1)
        graph_bytes = tracemalloc.get_traced_memory()[1] - start  # one live graph
        _train_chain(x, params, passes)
        grown = tracemalloc.get_traced_memory()[0] - start
        after = _live_variables()
    finally:
        gc.enable()
        tracemalloc.stop()
    assert after == before  # 100 parameters + x and their grads, nothing else
    assert graph_bytes > 50_000
    # One graph kept alive per pass would add passes * graph_bytes.
    assert grown < graph_bytes, f"grew {grown} bytes over {passes} passes"
    assert gc.collect() == 0  # nothing was waiting for the cycle collector


def test_plain_array_inputs_get_no_gradient_work(rng, monkeypatch):
    from framework.autograd import functions

    calls = []
    real = functions.matmul
    monkeypatch.setattr(functions, "matmul", lambda a, b: calls.append(a.shape) or real(a, b))
    x, W = rng.standard_normal((4, 3)), Parameter(rng.standard_normal((3, 2)))
    y = F.linear(x, W)
    assert y.creator.needs_input_grad == (False, True)
    y.backward()
    assert calls == [(3, 4)]  # only gW = x.T @ gy; gx of the plain array is skipped
    np.testing.assert_allclose(W.grad.data, x.T @ np.ones((4, 2)))
    xv = Variable(x)
    F.linear(xv, W).backward()
    np.testing.assert_allclose(xv.grad.data, np.ones((4, 2)) @ W.data.T)  # a Variable gets it


def test_inputs_and_parameters_get_writable_gradients_of_their_own():
    a, b = Parameter(np.array([1.0, 2.0])), Parameter(np.array([3.0, 4.0]))
    F.sum(a + b).backward()  # Add hands one gy to both; Sum's gy is a read-only view
    assert a.grad is not b.grad and a.grad.data is not b.grad.data
    for p in (a, b):
        assert p.grad.data.flags.writeable
        p.grad.data *= 2.0  # what an optimizer hook (weight decay, clipping) does
    np.testing.assert_array_equal(a.grad.data, [2.0, 2.0])
    np.testing.assert_array_equal(b.grad.data, [2.0, 2.0])


def test_dezeros_core_names_are_found_in_core():
    """DeZero's core.py holds the arithmetic nodes too; ours live in ``operators``."""
    from framework.autograd import core, operators

    for name in ["Add", "add", "Sub", "sub", "rsub", "Mul", "mul", "Div", "div", "rdiv"]:
        assert getattr(core, name) is getattr(operators, name)
    assert core.Neg is operators.Neg and core.pow is operators.pow
    assert np.ndarray in core.array_types
    core.setup_variable()  # again: harmless
    assert float((Variable(np.array(3.0)) * 2 - 1).data) == 5.0
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        core.no_such_name  # noqa: B018
