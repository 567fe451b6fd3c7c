"""Checkers for book 1, chapters 2 to 4: perceptrons, the forward pass, learning.

Perceptron gates and XOR (chapter 2), a 3-layer network's forward pass (chapter 3),
the numerical derivative, the numerical gradient and gradient descent (chapter 4),
and a mini-batch training loop (chapters 4 and 5).  Inputs are fresh random
numbers on every run, as in every checker.
"""

from __future__ import annotations

import numpy as np

from ._core import (
    Checker,
    CheckFailed,
    as_array,
    expect_close,
    expect_shape,
    expect_unchanged,
    matches,
    passed,
    require_own,
    rng,
)

__all__ = [
    "check_gates",
    "check_xor",
    "check_forward_3layer",
    "check_numerical_diff",
    "check_numerical_gradient",
    "check_gradient_descent",
    "check_training_loop",
]

TRUTH = ((0, 0), (1, 0), (0, 1), (1, 1))
OWN_CALLBACKS = ("exercises/ch2_4.py",)  # the f and the network the checks hand over


def _table(c, name, gate):
    return [c.call(f"{name}{pair}", gate, *pair) for pair in TRUTH]


def check_gates(AND, NAND, OR) -> None:
    """Check three perceptron gates: the truth tables of AND, NAND and OR, as 0 or 1."""
    c = Checker()
    for name, gate, want in (
        ("AND", AND, (0, 0, 0, 1)),
        ("NAND", NAND, (1, 1, 1, 0)),
        ("OR", OR, (0, 1, 1, 1)),
    ):
        require_own(gate, name, kind="function")
        got = _table(c, name, gate)
        for pair, value, right in zip(TRUTH, got, want, strict=True):
            if value not in (0, 1) or isinstance(value, (bool, np.bool_)):
                raise CheckFailed(
                    f"{name}{pair} returned {value!r}; a perceptron outputs the number 0 or 1 "
                    "(return 1 if the weighted sum plus bias is above 0, else 0)"
                )
            if value != right:
                raise CheckFailed(
                    f"{name}{pair} returned {value}, but {name} of {pair} is {right}: "
                    "adjust the weights or the bias (try the table on paper)"
                )
    passed("AND, NAND and OR", 12)


def check_xor(XOR) -> None:
    """Check XOR: its truth table; one perceptron cannot do it, two layers of gates can."""
    require_own(XOR, "XOR", kind="function")
    got = _table(Checker(), "XOR", XOR)
    if got[3] == 1:
        raise CheckFailed(
            "XOR(1, 1) returned 1, like OR: a single line cannot separate XOR's outputs; "
            "feed the input to two gates (NAND and OR) and their outputs to a third (AND)"
        )
    for pair, value, right in zip(TRUTH, got, (0, 1, 1, 0), strict=True):
        if value != right:
            raise CheckFailed(f"XOR{pair} returned {value}; it should be {right}")
    passed("XOR", 4)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def check_forward_3layer(forward) -> None:
    """Check ``forward(network, x)``: sigmoid after layers 1 and 2, identity after layer 3."""
    require_own(forward, "forward", kind="function")
    c, gen = Checker(), rng()
    sizes = (2, 3, 2, 2)
    network = {}
    for i in range(3):
        network[f"W{i + 1}"] = gen.standard_normal(sizes[i : i + 2])
        network[f"b{i + 1}"] = gen.standard_normal(sizes[i + 1])
    before = {k: v.copy() for k, v in network.items()}
    for x in (gen.standard_normal(2), gen.standard_normal((4, 2))):
        y = as_array("forward", "y", c.call("forward", forward, network, x.copy()))
        W1, W2, W3 = (before[f"W{i}"] for i in (1, 2, 3))
        b1, b2, b3 = (before[f"b{i}"] for i in (1, 2, 3))
        z1 = _sigmoid(x @ W1 + b1)
        z2 = _sigmoid(z1 @ W2 + b2)
        want = z2 @ W3 + b3
        what = f"forward on x of shape {x.shape}"
        if matches(y, _sigmoid(want)):
            raise CheckFailed(
                f"{what}: the output layer applies sigmoid too; in the book's network the "
                "last layer's activation is the identity (the scores go out as they are)"
            )
        if matches(y, (x @ W1 + b1) @ W2 @ W3 + b2 @ W3 + b3):
            raise CheckFailed(f"{what}: no activation between the layers; apply sigmoid to a1, a2")
        expect_shape(what, "y", y, want.shape, "the scores")
        expect_close(what, "y", y, want, "a1 = x W1 + b1, z1 = sigmoid(a1), and so on")
    for key, value in before.items():
        expect_unchanged("forward", f"network['{key}']", network[key], value)
    passed("forward", 5)


def check_numerical_diff(numerical_diff) -> None:
    """Check ``numerical_diff(f, x)``: the central difference, accurate to about 1e-8."""
    require_own(numerical_diff, "numerical_diff", kind="function")
    c, gen = Checker(allowed=OWN_CALLBACKS), rng()
    x = float(gen.uniform(0.5, 2.0))

    def f(v):
        return v**3

    got = float(as_array("numerical_diff", "d", c.call("numerical_diff", numerical_diff, f, x)))
    want = 3 * x**2
    if got == 0.0:
        raise CheckFailed(
            "numerical_diff returned 0: h is so small that x + h rounds to x in float64 "
            "(the book's lesson about 1e-50); use h = 1e-4"
        )
    if abs(got - want) > 1e-5 and abs(got - want) < 1e-2:
        raise CheckFailed(
            f"numerical_diff(x**3, {x:.4g}) is {got:.8g} but should be {want:.8g}: off by "
            f"{abs(got - want):.1e}, the error of a forward difference; use the central "
            "difference (f(x + h) - f(x - h)) / 2h"
        )
    expect_close(f"numerical_diff(x**3, {x:.4g})", "d", got, want, rtol=1e-6)
    passed("numerical_diff", 2)


def check_numerical_gradient(numerical_gradient) -> None:
    """Check ``numerical_gradient(f, x)``: every partial derivative, and ``x`` put back."""
    require_own(numerical_gradient, "numerical_gradient", kind="function")
    c, gen = Checker(allowed=OWN_CALLBACKS), rng()
    for shape in ((3,), (2, 3)):
        x = gen.uniform(-2, 2, shape)
        x0 = x.copy()
        w = gen.standard_normal(shape)

        def f(v, w=w):
            return float((w * v**2).sum() + v.reshape(-1)[0] * v.reshape(-1)[-1])

        what = f"numerical_gradient on x of shape {shape}"
        got = c.call(what, numerical_gradient, f, x)
        expect_unchanged(what, "x", x, x0, "put each element back after nudging it")
        want = 2 * w * x0
        flat = want.reshape(-1)
        flat[0] += x0.reshape(-1)[-1]
        flat[-1] += x0.reshape(-1)[0]
        expect_shape(what, "grad", got, shape, "x")
        expect_close(what, "grad", got, want, "nudge one element at a time", rtol=1e-5)
    passed("numerical_gradient", 4)


def check_gradient_descent(gradient_descent) -> None:
    """Check ``gradient_descent(f, init_x, lr, step_num)`` on ``sum(x**2)``; init_x untouched."""
    require_own(gradient_descent, "gradient_descent", kind="function")
    c, gen = Checker(allowed=OWN_CALLBACKS), rng()
    init = gen.uniform(-3, 3, 2)
    init0 = init.copy()

    def f(x):
        return float((x**2).sum())

    got = c.call("gradient_descent", gradient_descent, f, init, lr=0.1, step_num=20)
    want = init0 * 0.8**20  # x <- x - 0.1 * 2x each step
    expect_unchanged(
        "gradient_descent",
        "init_x",
        init,
        init0,
        "x = init_x makes x the same array, so x -= ... moves the caller's starting point; "
        "start from init_x.copy()",
    )
    if matches(got, init0 * 0.8, 1e-4):
        raise CheckFailed("gradient_descent took one step; it must take step_num steps")
    expect_close("gradient_descent(sum(x**2), lr=0.1, step_num=20)", "x", got, want, rtol=1e-4)
    passed("gradient_descent", 3)


class _SpyNet:
    """A small two-layer network that records the batches its gradient sees."""

    def __init__(self, gen):
        self.params = {
            "W1": gen.standard_normal((2, 16)) * 0.5,
            "b1": np.zeros(16),
            "W2": gen.standard_normal((16, 3)) * 0.5,
            "b2": np.zeros(3),
        }
        self.batches = []

    def _forward(self, x):
        p = self.params
        h = np.tanh(x @ p["W1"] + p["b1"])
        s = h @ p["W2"] + p["b2"]
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return h, e / e.sum(axis=1, keepdims=True)

    def loss(self, x, t):
        _, y = self._forward(x)
        return float(-np.log(y[np.arange(len(t)), t] + 1e-7).mean())

    def accuracy(self, x, t):
        return float((self._forward(x)[1].argmax(axis=1) == t).mean())

    def gradient(self, x, t):
        self.batches.append(np.array(x))
        p, (h, y) = self.params, self._forward(x)
        dy = y.copy()
        dy[np.arange(len(t)), t] -= 1
        dy /= len(t)
        dh = (dy @ p["W2"].T) * (1 - h**2)
        return {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ dy, "b2": dy.sum(0)}


def _blobs(gen, n=300):
    t = gen.integers(0, 3, n)
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    return centers[t] + 0.5 * gen.standard_normal((n, 2)), t


def check_training_loop(train) -> None:
    """Check ``train(network, x, t, iters, batch_size, lr)``: mini-batches, SGD, and it learns."""
    require_own(train, "train", kind="function")
    c, gen = Checker(allowed=OWN_CALLBACKS), rng()
    x, t = _blobs(gen)
    net = _SpyNet(gen)
    start = net.loss(x, t)
    c.call("train", train, net, x, t, iters=200, batch_size=20, lr=0.5)
    steps = len(net.batches)
    if steps != 200:
        raise CheckFailed(
            f"train called network.gradient {steps} times; one call per iteration (200)"
        )
    sizes = {len(b) for b in net.batches}
    if sizes != {20}:
        raise CheckFailed(
            f"network.gradient saw batches of {sorted(sizes)} samples: draw a mini-batch of "
            "batch_size rows for each step (np.random.choice of the row indices)"
        )
    rows = {r.tobytes() for r in x}
    if not all(r.tobytes() in rows for b in net.batches[:5] for r in b):
        raise CheckFailed("the mini-batches hold rows that are not in x: index x[batch_mask]")
    if len({b.tobytes() for b in net.batches}) < 150:
        raise CheckFailed("the same mini-batch came again and again: draw a new one each step")
    end = net.loss(x, t)
    if end >= start * 0.99:
        raise CheckFailed(
            f"the loss went from {start:.3f} to {end:.3f}: update each parameter, "
            "params[key] -= lr * grads[key], after every gradient"
        )
    acc = net.accuracy(x, t)
    if acc < 0.9:
        raise CheckFailed(f"after training, the accuracy is {acc:.2f}; it should pass 0.9")
    passed("train", 5)
