"""``framework.autograd.optimizers``: DeZero's names for the one set of optimizers."""

# ruff: noqa: NPY002  (DeZero's scripts seed and draw from NumPy's global state)

from __future__ import annotations

import numpy as np
import pytest

import framework.autograd.functions as F
import framework.optimizers as base
from framework.autograd import Variable, optimizers
from framework.autograd.models import MLP


@pytest.mark.parametrize(
    "name", ["SGD", "MomentumSGD", "AdaGrad", "Adam", "WeightDecay", "ClipGrad", "Optimizer"]
)
def test_dezeros_names_are_the_framework_classes(name):
    assert getattr(optimizers, name) is getattr(base, name)
    assert name in optimizers.__all__


@pytest.mark.parametrize("name", ["AdaDelta", "FreezeParam"])
def test_names_still_missing_from_framework_optimizers_are_not_invented(name):
    # exported exactly when framework.optimizers has them, never as a copy
    assert hasattr(optimizers, name) == hasattr(base, name)
    if hasattr(base, name):
        assert getattr(optimizers, name) is getattr(base, name)
        assert name in optimizers.__all__


def test_setup_then_update_trains_a_model_as_in_dezero():
    np.random.seed(0)
    x = np.random.rand(100, 1)
    y = np.sin(2 * np.pi * x) + np.random.rand(100, 1)
    model = MLP((10, 1))
    optimizer = optimizers.SGD(0.2).setup(model)
    losses = []
    for _ in range(200):
        loss = F.mean_squared_error(model(x), y)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        losses.append(float(loss.data))
    assert losses[-1] < 0.5 * losses[0]


def test_a_hook_runs_before_the_update():
    w = Variable(np.array([1.0, -2.0]))

    class One:
        def params(self):
            yield w

    w.grad = Variable(np.zeros(2))
    optimizer = optimizers.SGD(lr=0.5).setup(One())
    optimizer.add_hook(optimizers.WeightDecay(0.1))
    optimizer.update()  # grad = 0 + 0.1 w; w -= 0.5 * grad
    np.testing.assert_allclose(w.data, [0.95, -1.9])
