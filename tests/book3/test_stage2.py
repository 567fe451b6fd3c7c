"""DeZero stage 2 (steps 23-24) on our framework: the package and the optimization test functions.

Step 23 turns the core into the package ``dezero``, imported as ``from dezero import
Variable``; step 24 differentiates three test functions of optimization written
with the overloaded operators.  Each test does what the step does, with the names
imported from their DeZero place, and asserts what the step prints.
"""

from __future__ import annotations

import numpy as np
import pytest

from framework.autograd import Variable


def test_step23_the_package_differentiates_a_square():
    x = Variable(np.array(1.0))
    y = (x + 3) ** 2
    y.backward()
    assert repr(y) == "variable(16.0)"  # print(y)
    assert repr(x.grad) == "variable(8.0)"  # print(x.grad)


def test_step23_setup_variable_is_in_dezeros_core():
    from framework.autograd.core import setup_variable

    setup_variable()  # the operators are already attached; attaching again changes nothing
    x = Variable(np.array(2.0))
    assert float((3 - x / 4 * 2 + -x).data) == 0.0


def sphere(x, y):
    return x**2 + y**2


def matyas(x, y):
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def goldstein(x, y):
    return (1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)) * (
        30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    )


@pytest.mark.parametrize(
    ("f", "z", "gx", "gy"),
    [
        (sphere, 2.0, 2.0, 2.0),
        (matyas, 0.040000000000000036, 0.040000000000000036, 0.040000000000000036),
        (goldstein, 1876.0, -5376.0, 8064.0),  # step 24 prints -5376.0 8064.0
    ],
    ids=["sphere", "matyas", "goldstein"],
)
def test_step24_optimization_test_functions(f, z, gx, gy):
    x = Variable(np.array(1.0))
    y = Variable(np.array(1.0))
    out = f(x, y)
    out.backward()
    assert float(out.data) == pytest.approx(z, rel=1e-12)
    assert float(x.grad.data) == pytest.approx(gx, rel=1e-12)
    assert float(y.grad.data) == pytest.approx(gy, rel=1e-12)
    if f is goldstein:
        assert f"{x.grad} {y.grad}" == "variable(-5376.0) variable(8064.0)"
