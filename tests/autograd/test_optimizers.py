"""``framework.autograd.optimizers``: DeZero's names for the one set of optimizers."""

# ruff: noqa: NPY002  (DeZero's scripts seed and draw from NumPy's global state)

from __future__ import annotations

import numpy as np
import pytest

import framework.autograd.functions as F
import framework.optimizers as base
from framework.autograd import Variable, optimizers
from framework.autograd.models import MLP


@pytest.mark.parametrize("name", ["WeightDecay", "ClipGrad", "FreezeParam"])
def test_dezeros_hooks_are_the_framework_classes(name):
    assert getattr(optimizers, name) is getattr(base, name)
    assert name in optimizers.__all__


@pytest.mark.parametrize(
    ("name", "framework_name"),
    [
        ("Optimizer", "Optimizer"),
        ("SGD", "SGD"),
        ("MomentumSGD", "MomentumSGD"),
        ("AdaGrad", "AdaGrad"),
        ("AdaDelta", "AdaDelta"),
        ("Adam", "Adam"),
    ],
)
def test_dezeros_optimizers_are_thin_subclasses_of_the_framework_classes(name, framework_name):
    assert issubclass(getattr(optimizers, name), getattr(base, framework_name))
    assert name in optimizers.__all__


def test_dezeros_signatures_and_defaults():
    adam = optimizers.Adam(alpha=0.01, beta1=0.8, beta2=0.99, eps=1e-6)
    assert (adam.alpha, adam.lr, adam.beta1, adam.beta2, adam.eps) == (0.01, 0.01, 0.8, 0.99, 1e-6)
    assert optimizers.Adam().eps == 1e-8 and optimizers.Adam(0.1).alpha == 0.1
    # the framework's keyword too, as lessons and framework.optimizers.Adam call it
    assert optimizers.Adam(lr=0.02).alpha == 0.02 == optimizers.Adam(lr=0.02).lr
    with pytest.raises(ValueError, match="Adam: expected eps > 0"):
        optimizers.Adam(eps=0.0)
    ada = optimizers.AdaGrad()
    assert (ada.lr, ada.eps) == (0.001, 1e-8)
    assert base.AdaGrad().lr == 0.01  # book 1's default stays in framework.optimizers


def _dezero_adam_steps(W, grads, alpha, beta1, beta2, eps):
    """DeZero 0.0.13's Adam, written out: the reference for our subclass."""
    m, v = np.zeros_like(W), np.zeros_like(W)
    for t, g in enumerate(grads, start=1):
        lr = alpha * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        m += (1 - beta1) * (g - m)
        v += (1 - beta2) * (g * g - v)
        W = W - lr * m / (np.sqrt(v) + eps)
    return W


def test_adam_takes_dezeros_steps_with_its_eps():
    rng = np.random.default_rng(0)
    W0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) * 1e-7 for _ in range(5)]  # eps matters at this scale
    w = Variable(W0.copy())

    class One:
        def params(self):
            yield w

    opt = optimizers.Adam(alpha=0.01).setup(One())
    for g in grads:
        w.grad = Variable(g.copy())
        opt.update()
    expected = _dezero_adam_steps(W0, grads, 0.01, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(w.data, expected, rtol=1e-12, atol=1e-15)


def test_adagrad_takes_dezeros_steps():
    W0 = np.array([1.0, -2.0])
    w = Variable(W0.copy())

    class One:
        def params(self):
            yield w

    opt = optimizers.AdaGrad().setup(One())
    h = np.zeros(2)
    expected = W0.copy()
    for g in [np.array([0.5, -1.0]), np.array([0.1, 0.2])]:
        w.grad = Variable(g.copy())
        opt.update()
        h += g * g
        expected -= 0.001 * g / (np.sqrt(h) + 1e-8)
    np.testing.assert_allclose(w.data, expected, rtol=1e-13)


def test_a_dezero_style_hook_gets_the_parameters_before_the_update():
    w = Variable(np.array([1.0, -2.0]))
    frozen = Variable(np.array([5.0]))

    class Two:
        def params(self):
            yield w
            yield frozen  # no grad: not passed, not updated

    seen = []

    def halve(params):  # DeZero's form: a list of Parameters
        seen.append(list(params))
        for p in params:
            p.grad.data *= 0.5

    w.grad = Variable(np.array([2.0, 2.0]))
    opt = optimizers.SGD(lr=1.0).setup(Two())
    opt.add_hook(halve)
    opt.add_hook(optimizers.WeightDecay(0.0))  # the framework's form still works beside it
    opt.update()
    assert seen == [[w]]
    np.testing.assert_allclose(w.data, [0.0, -3.0])
    np.testing.assert_array_equal(frozen.data, [5.0])


def test_a_dezero_style_hook_on_a_layer_net_update_says_what_it_needs():
    opt = optimizers.SGD()
    opt.add_hook(lambda params: None)
    with pytest.raises(TypeError, match=r"SGD\.update: the DeZero-style hook .*setup\(model\)"):
        opt.update({"W": np.ones(2)}, {"W": np.ones(2)})


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
