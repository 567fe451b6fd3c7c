"""Checkers for book 1, chapter 6 (training techniques).

The optimizers' update rules (SGD, Momentum, AdaGrad, Adam, as the book writes
them: ``update(params, grads)`` on dicts of arrays, in place), He and Xavier
initial weights, Dropout, and the backward of BatchNormalization.
"""

from __future__ import annotations

import numpy as np

from ._core import (
    Checker,
    CheckFailed,
    as_array,
    expect_attr,
    expect_close,
    expect_shape,
    expect_unchanged,
    matches,
    numerical_gradient,
    passed,
    require_own,
    rng,
)

__all__ = [
    "check_sgd",
    "check_momentum",
    "check_adagrad",
    "check_adam",
    "check_init_std",
    "check_dropout",
    "check_batchnorm_backward",
]


# -- optimizers (6.1) -----------------------------------------------------------------------


def _run(name, Optimizer, kwargs, reference, steps=3):
    """Run the learner's optimizer and a reference side by side on the same gradients."""
    require_own(Optimizer, name)
    c, gen = Checker(), rng()
    params = {"W": gen.standard_normal((3, 2)), "b": gen.standard_normal(2)}
    arrays = dict(params)
    ours = {k: v.copy() for k, v in params.items()}
    state: dict = {}
    opt = c.new(name, Optimizer, *kwargs.values())
    for step in range(1, steps + 1):
        grads = {k: gen.standard_normal(v.shape) for k, v in params.items()}
        kept = {k: v.copy() for k, v in grads.items()}
        c.call(f"{name}.update", opt.update, params, grads)
        for key in params:
            if params[key] is not arrays[key]:
                raise CheckFailed(
                    f"{name}.update put a new array in params['{key}']; update it in place "
                    f"(params['{key}'] -= ...): the layers hold the same arrays, and a new "
                    "one would leave them behind"
                )
            expect_unchanged(f"{name}.update", f"grads['{key}']", grads[key], kept[key])
        reference(ours, kept, state, step)
        for key in params:
            expect_close(
                f"{name}.update, step {step}",
                f"params['{key}']",
                params[key],
                ours[key],
                _optimizer_hint(name, step),
                rtol=1e-5,
            )
    passed(name, 3 * steps)


def _optimizer_hint(name, step):
    if name == "Momentum":
        return "v = momentum * v - lr * grad, then param += v; keep v between calls"
    if name == "AdaGrad":
        return "h accumulates grad * grad over all steps; divide by sqrt(h) + 1e-7"
    if name == "Adam" and step == 1:
        return "at step 1 the bias correction matters: lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)"
    if name == "Adam":
        return "keep m, v and the step count t between calls"
    return "param -= lr * grad"


def check_sgd(SGD) -> None:
    """Check SGD(lr).update: ``param -= lr * grad``, in place."""

    def reference(p, g, state, step):
        for k in p:
            p[k] -= 0.05 * g[k]

    _run("SGD", SGD, {"lr": 0.05}, reference)


def check_momentum(Momentum) -> None:
    """Check Momentum(lr, momentum).update: the velocity is kept between calls."""

    def reference(p, g, state, step):
        for k in p:
            v = state.get(k, 0) * 0.8 - 0.05 * g[k]
            state[k] = v
            p[k] += v

    _run("Momentum", Momentum, {"lr": 0.05, "momentum": 0.8}, reference)


def check_adagrad(AdaGrad) -> None:
    """Check AdaGrad(lr).update: steps shrink with the sum of squared gradients."""

    def reference(p, g, state, step):
        for k in p:
            state[k] = state.get(k, 0) + g[k] ** 2
            p[k] -= 0.05 * g[k] / (np.sqrt(state[k]) + 1e-7)

    _run("AdaGrad", AdaGrad, {"lr": 0.05}, reference)


def check_adam(Adam) -> None:
    """Check Adam(lr, beta1, beta2).update, with the bias correction."""

    def reference(p, g, state, step):
        lr, b1, b2 = 0.05, 0.8, 0.9
        lr_t = lr * np.sqrt(1 - b2**step) / (1 - b1**step)
        for k in p:
            m = state.get(("m", k), 0) * b1 + (1 - b1) * g[k]
            v = state.get(("v", k), 0) * b2 + (1 - b2) * g[k] ** 2
            state["m", k], state["v", k] = m, v
            p[k] -= lr_t * m / (np.sqrt(v) + 1e-7)

    _run("Adam", Adam, {"lr": 0.05, "beta1": 0.8, "beta2": 0.9}, reference)


# -- initial weights (6.2) ----------------------------------------------------------------


def check_init_std(init_std) -> None:
    """Check ``init_std(kind, n)``: He is sqrt(2 / n), Xavier sqrt(1 / n)."""
    require_own(init_std, "init_std", kind="function")
    c, gen = Checker(), rng()
    for n in (int(v) for v in gen.integers(10, 1000, 2)):
        he = float(as_array("init_std", "std", c.call("init_std", init_std, "he", n)))
        xavier = float(as_array("init_std", "std", c.call("init_std", init_std, "xavier", n)))
        if matches(he, np.sqrt(1 / n)) and matches(xavier, np.sqrt(2 / n)):
            raise CheckFailed("init_std: He and Xavier are swapped; He's has the 2 (for ReLU)")
        if matches(he, 2 / n) or matches(xavier, 1 / n):
            raise CheckFailed(
                f"init_std(..., {n}) returned the variance; the scale of np.random.randn is "
                "a standard deviation, the square root of the variance"
            )
        expect_close(f"init_std('he', {n})", "std", he, np.sqrt(2 / n), "He uses 2 / n")
        expect_close(f"init_std('xavier', {n})", "std", xavier, np.sqrt(1 / n), "Xavier 1 / n")
    passed("init_std", 4)


# -- Dropout (6.4.3) ------------------------------------------------------------------------


def check_dropout(Dropout) -> None:
    """Check Dropout(ratio): train drops about ``ratio``, test scales, backward uses the mask."""
    require_own(Dropout, "Dropout")
    c, gen = Checker(), rng()
    ratio = float(gen.choice((0.2, 0.3, 0.7)))  # not 0.5: an inverted mask drops as many
    layer = c.new("Dropout", Dropout, ratio)
    x = gen.uniform(1, 2, (200, 50))
    x0 = x.copy()
    out = as_array("Dropout.forward", "out", c.call("Dropout.forward", layer.forward, x, True))
    expect_unchanged("Dropout.forward", "x", x, x0)
    expect_shape("Dropout.forward", "out", out, x.shape, "x")
    kept = out != 0
    if not matches(out[kept], x0[kept]):
        raise CheckFailed(
            "Dropout.forward in training: a unit is either dropped (0) or kept as is"
        )
    dropped = 1 - kept.mean()
    if abs(dropped - (1 - ratio)) < 0.05 and abs(dropped - ratio) > 0.05:
        raise CheckFailed(
            f"Dropout.forward dropped {dropped:.0%} of the units with ratio {ratio}: the mask "
            "is inverted; it must be True for the units you keep (rand > ratio)"
        )
    if abs(dropped - ratio) > 0.05:
        raise CheckFailed(f"Dropout.forward dropped {dropped:.0%} of the units, not {ratio:.0%}")
    g = gen.standard_normal(x.shape)
    g0 = g.copy()
    dx = c.call("Dropout.backward", layer.backward, g)
    expect_unchanged("Dropout.backward", "dout", g, g0)
    expect_close(
        "Dropout.backward", "dx", dx, g0 * kept, "pass dout through where the unit was kept"
    )
    test = c.call("Dropout.forward", layer.forward, x, False)
    if matches(test, x0):
        raise CheckFailed(
            "Dropout.forward(x, train_flg=False) returned x unchanged; at test time scale it "
            "by the fraction of units kept in training, (1 - ratio)"
        )
    expect_close("Dropout.forward(x, train_flg=False)", "out", test, x0 * (1 - ratio))
    passed("Dropout", 6)


# -- BatchNormalization (6.3) ----------------------------------------------------------------


def _batchnorm(x, gamma, beta):
    mu = x.mean(axis=0)
    xc = x - mu
    std = np.sqrt((xc**2).mean(axis=0) + 1e-6)
    return gamma * xc / std + beta


def check_batchnorm_backward(BatchNormalization) -> None:
    """Check BatchNormalization's backward: dx, dgamma, dbeta against numerical gradients."""
    require_own(BatchNormalization, "BatchNormalization")
    c, gen = Checker(), rng()
    N, D = 5, 3
    x = gen.standard_normal((N, D)) * 2 + 1
    gamma, beta = gen.uniform(0.5, 1.5, D), gen.standard_normal(D)
    layer = c.new("BatchNormalization", BatchNormalization, gamma.copy(), beta.copy())
    out = c.call("BatchNormalization.forward", layer.forward, x.copy(), True)
    expect_close("BatchNormalization.forward", "out", out, _batchnorm(x, gamma, beta), rtol=1e-5)
    g = gen.standard_normal((N, D))
    g0 = g.copy()
    dx = c.call("BatchNormalization.backward", layer.backward, g)
    what = "BatchNormalization.backward"
    expect_unchanged(what, "dout", g, g0)
    expect_shape(what, "dx", dx, x.shape, "x")
    dgamma = expect_attr(what, layer, "dgamma", "store the gamma gradient in self.dgamma")
    dbeta = expect_attr(what, layer, "dbeta", "store the beta gradient in self.dbeta")
    for name, value in (("dbeta", dbeta), ("dgamma", dgamma)):
        if np.shape(value) == (N, D):
            raise CheckFailed(
                f"{what}: self.{name} has shape {(N, D)}, one row per sample; {name} must "
                f"have one entry per feature, shape ({D},): sum over the samples"
            )
    a = x.copy()
    num_x = numerical_gradient(lambda: float((g0 * _batchnorm(a, gamma, beta)).sum()), a)
    expect_close(what, "self.dbeta", dbeta, g0.sum(axis=0))
    xn = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-6)
    expect_close(what, "self.dgamma", dgamma, (g0 * xn).sum(axis=0), rtol=1e-5)
    if matches(dx, g0 * gamma / np.sqrt(x.var(0) + 1e-6), 1e-4):
        raise CheckFailed(
            f"{what}: dx = dout * gamma / std treats the mean and the variance as constants; "
            "they depend on every sample, so follow the graph back through var and mu too"
        )
    expect_close(what, "dx", dx, num_x, "go back through the graph node by node", 1e-4, 1e-6)
    passed("BatchNormalization.backward", 5)
