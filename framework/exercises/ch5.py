"""Checkers for book 1, chapter 5 (backpropagation): the nodes, activations, Affine, loss.

Each ``check_*`` takes the learner's class, runs it on fresh random float64 inputs,
compares values, shapes and the fields the book keeps, checks ``backward`` against
the exact derivative with a random upstream ``dout``, and makes sure that no input
array was changed.  A failure names the mistake when it is a known one (an inverted
mask, ``db`` not summed over the batch, softmax over the wrong axis, ...).
"""

from __future__ import annotations

import numpy as np

from ._core import (
    Checker,
    CheckFailed,
    as_array,
    away_from_zero,
    expect_attr,
    expect_close,
    expect_shape,
    expect_unchanged,
    matches,
    passed,
    require_own,
    rng,
)

__all__ = [
    "check_mul_layer",
    "check_add_layer",
    "check_shopping",
    "check_relu",
    "check_sigmoid",
    "check_affine",
    "check_softmax_with_loss",
]

CHAIN_RULE = (
    "multiply by dout: the chain rule scales the local derivative by the gradient from above"
)


def _pair(what: str, result):
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailed(f"{what} must return the pair (dx, dy), got {type(result).__name__}")
    return result


# -- the multiplication and addition nodes (5.4) ------------------------------------------


def check_mul_layer(MulLayer) -> None:
    """Check a MulLayer: forward ``x * y``; backward ``(dout * y, dout * x)``."""
    require_own(MulLayer, "MulLayer")
    c, gen = Checker(), rng()
    a, b, d = (round(float(v), 2) for v in gen.uniform(1.5, 9.5, 3))
    layer = c.new("MulLayer", MulLayer)
    out = c.call("MulLayer.forward", layer.forward, a, b)
    expect_close(f"MulLayer.forward({a}, {b})", "out", out, a * b)
    dx, dy = _pair("MulLayer.backward", c.call("MulLayer.backward", layer.backward, d))
    what = f"MulLayer.backward({d}) after forward({a}, {b})"
    if matches(dx, d * a) and matches(dy, d * b):
        raise CheckFailed(f"{what}: dx and dy are swapped; the derivative of x * y by x is y")
    if matches(dx, b) and matches(dy, a):
        raise CheckFailed(f"{what}: dx is {dx}, dy is {dy}: {CHAIN_RULE}")
    expect_close(what, "dx", dx, d * b)
    expect_close(what, "dy", dy, d * a)
    x, y, g = gen.standard_normal((3, 2, 3))
    x0, y0, g0 = x.copy(), y.copy(), g.copy()
    layer = c.new("MulLayer", MulLayer)
    expect_close(
        "MulLayer.forward on arrays", "out", c.call("forward", layer.forward, x, y), x0 * y0
    )
    dx, dy = _pair("MulLayer.backward", c.call("MulLayer.backward", layer.backward, g))
    expect_close("MulLayer.backward on arrays", "dx", dx, g0 * y0)
    expect_close("MulLayer.backward on arrays", "dy", dy, g0 * x0)
    for name, arr, before in (("x", x, x0), ("y", y, y0), ("dout", g, g0)):
        expect_unchanged("MulLayer", name, arr, before)
    passed("MulLayer", 6)


def check_add_layer(AddLayer) -> None:
    """Check an AddLayer: forward ``x + y``; backward passes ``dout`` on to both inputs."""
    require_own(AddLayer, "AddLayer")
    c, gen = Checker(), rng()
    a, b, d = (round(float(v), 2) for v in gen.uniform(1.5, 9.5, 3))
    layer = c.new("AddLayer", AddLayer)
    expect_close(
        f"AddLayer.forward({a}, {b})", "out", c.call("forward", layer.forward, a, b), a + b
    )
    dx, dy = _pair("AddLayer.backward", c.call("AddLayer.backward", layer.backward, d))
    if matches(dx, 1) or matches(dy, 1):
        raise CheckFailed(f"AddLayer.backward({d}) returned 1: {CHAIN_RULE} (here: 1 * dout)")
    expect_close(f"AddLayer.backward({d})", "dx", dx, d)
    expect_close(f"AddLayer.backward({d})", "dy", dy, d)
    g = gen.standard_normal((2, 3))
    g0 = g.copy()
    c.call("AddLayer.forward on arrays", layer.forward, gen.random((2, 3)), gen.random((2, 3)))
    dx, dy = _pair("AddLayer.backward", c.call("AddLayer.backward", layer.backward, g))
    expect_close("AddLayer.backward on arrays", "dx", dx, g0)
    expect_close("AddLayer.backward on arrays", "dy", dy, g0)
    expect_unchanged("AddLayer.backward", "dout", g, g0)
    passed("AddLayer", 5)


def check_shopping(MulLayer, AddLayer) -> None:
    """Check the apple-and-orange graph of book 5.4, built from the learner's two layers."""
    require_own(MulLayer, "MulLayer")
    require_own(AddLayer, "AddLayer")
    c = Checker()
    mul_apple, mul_orange, mul_tax = (c.new("MulLayer", MulLayer) for _ in range(3))
    add = c.new("AddLayer", AddLayer)
    apple = c.call("MulLayer.forward", mul_apple.forward, 100, 2)
    orange = c.call("MulLayer.forward", mul_orange.forward, 150, 3)
    total = c.call("AddLayer.forward", add.forward, apple, orange)
    price = c.call("MulLayer.forward", mul_tax.forward, total, 1.1)
    expect_close("shopping forward", "price", price, 715)
    dtotal, dtax = _pair("MulLayer.backward", c.call("MulLayer.backward", mul_tax.backward, 1))
    dapple, dorange = _pair("AddLayer.backward", c.call("AddLayer.backward", add.backward, dtotal))
    dapple_price, dapple_num = _pair(
        "MulLayer.backward", c.call("MulLayer.backward", mul_apple.backward, dapple)
    )
    dorange_price, dorange_num = _pair(
        "MulLayer.backward", c.call("MulLayer.backward", mul_orange.backward, dorange)
    )
    hint = "each MulLayer must keep its own x and y: store them on self, not in a global"
    for name, got, want in (
        ("dTax", dtax, 650),
        ("dApple", dapple_price, 2.2),
        ("dApple_num", dapple_num, 110),
        ("dOrange", dorange_price, 3.3),
        ("dOrange_num", dorange_num, 165),
    ):
        expect_close("shopping backward", name, got, want, hint)
    passed("the shopping demo", 6)


# -- Relu and Sigmoid (5.5) ------------------------------------------------------------

BOOK_RELU = (
    "this is the book's dout[self.mask] = 0, which writes zeros into the caller's array. "
    "In a plain chain of layers nobody reads that array again, so the book gets away "
    "with it; but as soon as one gradient feeds two branches (y = relu(x) + sigmoid(x), "
    "an AddLayer handing the same dout to both inputs, a residual connection), the "
    "other branch receives the zeroed array and its gradient is wrong. Build dx as a "
    "new array (copy dout first, or multiply it by the mask)"
)


def check_relu(Relu) -> None:
    """Check a Relu: ``mask`` True where ``x <= 0``; out and ``dx`` are 0 there."""
    require_own(Relu, "Relu")
    c, gen = Checker(), rng()
    x = away_from_zero(gen, (3, 4))
    x0, pos = x.copy(), x > 0
    layer = c.new("Relu", Relu)
    out = as_array("Relu.forward", "out", c.call("Relu.forward", layer.forward, x))
    expect_unchanged(
        "Relu.forward",
        "x",
        x,
        x0,
        "out = x makes out the same array as x, so out[self.mask] = 0 zeroes the "
        "caller's x; start from a copy of x",
    )
    mask = getattr(layer, "mask", None)
    if mask is not None and matches(mask, pos):
        raise CheckFailed(
            "Relu.forward: self.mask is True where x > 0, the inverted mask; mask must be "
            "True where x <= 0 (the places where forward and backward put 0)"
        )
    if matches(out, np.minimum(x0, 0)):
        raise CheckFailed("Relu.forward kept the negative values; it must keep the positive ones")
    expect_close("Relu.forward", "out", out, np.maximum(x0, 0))
    mask = expect_attr("Relu.forward", layer, "mask", "keep self.mask for backward")
    expect_close("Relu.forward", "self.mask", mask, ~pos, "mask must be True where x <= 0")
    g = gen.standard_normal(x.shape)
    g0 = g.copy()
    dx = c.call("Relu.backward", layer.backward, g)
    expect_unchanged("Relu.backward", "dout", g, g0, BOOK_RELU)
    expect_shape("Relu.backward", "dx", dx, x.shape, "the input x")
    if matches(dx, pos):
        raise CheckFailed(f"Relu.backward returned the 0/1 slope itself: {CHAIN_RULE}")
    if matches(dx, g0 * ~pos):
        raise CheckFailed(
            "Relu.backward let dout through where x <= 0 and blocked it where x > 0: "
            "the other way round"
        )
    expect_close("Relu.backward", "dx", dx, g0 * pos, "dx is dout where x > 0 and 0 elsewhere")
    passed("Relu", 6)


def check_sigmoid(Sigmoid) -> None:
    """Check a Sigmoid: keeps ``out``; ``dx`` is dout times the derivative; inputs untouched."""
    require_own(Sigmoid, "Sigmoid")
    c, gen = Checker(), rng()
    x = gen.uniform(-3, 3, (3, 4))
    x0 = x.copy()
    layer = c.new("Sigmoid", Sigmoid)
    out = c.call("Sigmoid.forward", layer.forward, x)
    expect_unchanged("Sigmoid.forward", "x", x, x0)
    y = 1 / (1 + np.exp(-x0))
    if matches(out, 1 / (1 + np.exp(x0))):
        raise CheckFailed("Sigmoid.forward computes 1 / (1 + exp(x)); the exponent is -x")
    expect_close("Sigmoid.forward", "out", out, y)
    kept = expect_attr("Sigmoid.forward", layer, "out", "keep self.out for backward")
    expect_close("Sigmoid.forward", "self.out", kept, y)
    g = gen.standard_normal(x.shape)
    g0 = g.copy()
    dx = c.call("Sigmoid.backward", layer.backward, g)
    expect_unchanged("Sigmoid.backward", "dout", g, g0)
    expect_shape("Sigmoid.backward", "dx", dx, x.shape, "the input x")
    slope = y * (1 - y)
    if matches(dx, slope):
        raise CheckFailed(f"Sigmoid.backward returned the slope itself: {CHAIN_RULE}")
    if matches(dx, g0 * y):
        raise CheckFailed("Sigmoid.backward: dx = dout * out is missing the factor (1 - out)")
    expect_close(
        "Sigmoid.backward",
        "dx",
        dx,
        g0 * slope,
        "differentiate 1 / (1 + exp(-x)) and write the result with the output y",
    )
    passed("Sigmoid", 6)


# -- Affine (5.6) ------------------------------------------------------------------------


def check_affine(Affine) -> None:
    """Check an Affine: ``x @ W + b`` for (N, ...) input; dx (shaped like x), dW, db."""
    require_own(Affine, "Affine")
    c, gen = Checker(), rng()
    for shape in ((3, 6), (3, 1, 2, 3)):
        W, b = gen.standard_normal((6, 4)), gen.standard_normal(4)
        x = gen.standard_normal(shape)
        x0, W0, b0 = x.copy(), W.copy(), b.copy()
        what = f"Affine.forward on x of shape {shape}"
        layer = c.new("Affine", Affine, W, b)
        flat = "a batch of images must be flattened to (N, D) first (one row per sample)"
        out = c.call(what, layer.forward, x, hint=flat)
        x2 = x0.reshape(3, -1)
        if matches(out, x2 @ W0):
            raise CheckFailed(f"{what}: out = x @ W is missing the bias b")
        expect_close(what, "out", out, x2 @ W0 + b0)
        expect_unchanged("Affine.forward", "x", x, x0)
        g = gen.standard_normal((3, 4))
        g0 = g.copy()
        what = f"Affine.backward after x of shape {shape}"
        dx = c.call("Affine.backward", layer.backward, g)
        expect_unchanged("Affine.backward", "dout", g, g0)
        if np.shape(dx) == x2.shape != shape:
            raise CheckFailed(
                f"{what} returned dx of shape {np.shape(dx)}; return it in the shape x came "
                f"in, {shape}: remember x's shape in forward"
            )
        expect_shape(what, "dx", dx, shape, "the input x")
        dW = expect_attr(what, layer, "dW", "store the weight gradient in self.dW")
        db = expect_attr(what, layer, "db", "store the bias gradient in self.db")
        if np.shape(dW) == (4, 6):
            raise CheckFailed(
                f"{what}: self.dW has shape (4, 6), W's transpose; dW must have W's shape "
                "(6, 4): which product of x and dout has that shape?"
            )
        if np.shape(db) == (3, 4):
            raise CheckFailed(
                f"{what}: self.db has shape (3, 4), one row per sample; db must have one "
                "entry per output, shape (4,): sum dout over the samples"
            )
        if matches(db, g0.mean(axis=0)):
            raise CheckFailed(
                f"{what}: self.db is the mean of dout over the samples; b was added to "
                "every sample, so the gradients add up: sum, don't average"
            )
        expect_close(what, "dx", dx, (g0 @ W0.T).reshape(shape))
        expect_close(what, "self.dW", dW, x2.T @ g0)
        expect_close(what, "self.db", db, g0.sum(axis=0))
        expect_unchanged("Affine", "W", W, W0)
        expect_unchanged("Affine", "b", b, b0)
    passed("Affine", 14)


# -- SoftmaxWithLoss (5.6.3) -----------------------------------------------------------


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def check_softmax_with_loss(SoftmaxWithLoss) -> None:
    """Check SoftmaxWithLoss on one-hot targets: the mean loss, its gradient, no overflow."""
    require_own(SoftmaxWithLoss, "SoftmaxWithLoss")
    c, gen = Checker(), rng()
    N, C = 4, 3
    x = gen.standard_normal((N, C))
    t = np.eye(C)[gen.integers(0, C, N)]
    x0 = x.copy()
    layer = c.new("SoftmaxWithLoss", SoftmaxWithLoss)
    keepdims = "pass keepdims=True so that each row's max and sum broadcast against that row"
    loss = c.call("SoftmaxWithLoss.forward", layer.forward, x, t, hint=keepdims)
    expect_unchanged("SoftmaxWithLoss.forward", "x", x, x0)
    y = _softmax(x0, 1)
    y_kept = getattr(layer, "y", None)
    if y_kept is not None and np.shape(y_kept) == (N, C) and not matches(y_kept, y, 1e-5):
        y_kept = as_array("SoftmaxWithLoss.forward", "self.y", y_kept)
        if matches(y_kept.sum(), 1.0, 1e-5):
            raise CheckFailed(
                "SoftmaxWithLoss.forward: self.y sums to 1 over the whole batch: you "
                "normalised over the whole batch; each row is one sample, so normalise "
                "each row (axis=1)"
            )
        if matches(y_kept.sum(axis=0), np.ones(C), 1e-5):
            raise CheckFailed(
                "SoftmaxWithLoss.forward: each column of self.y sums to 1: you normalised "
                "over axis 0 (the samples); each row is one sample, so normalise over axis=1"
            )
    exact = -float((t * np.log(y)).sum()) / N
    if matches(loss, exact * N, 1e-5):
        raise CheckFailed(
            "SoftmaxWithLoss.forward returned the sum of the losses; the loss is the mean "
            "over the batch: divide by the number of samples N"
        )
    expect_close(
        "SoftmaxWithLoss.forward",
        "loss",
        loss,
        exact,
        "the loss is -sum(t * log y) / N, with y the softmax of each row",
        rtol=1e-5,
    )
    dx = c.call("SoftmaxWithLoss.backward", layer.backward)
    what = "SoftmaxWithLoss.backward()"
    expect_shape(what, "dx", dx, x.shape, "the scores x")
    if matches(dx, y - t, 1e-5):
        raise CheckFailed(
            f"{what} returned y - t: divide by the batch size N too (the loss is the mean "
            "over the samples, so is its gradient)"
        )
    expect_close(what, "dx", dx, (y - t) / N, rtol=1e-5)
    # The book's backward ignores dout (the loss is the last layer, so dout is 1): that
    # passes, with a note; a dout used the wrong way fails.
    dout = round(float(gen.uniform(1.5, 2.5)), 2)
    dx = c.call("SoftmaxWithLoss.backward", layer.backward, dout)
    if matches(dx, (y - t) / N, 1e-5):
        note = (
            f"Note: SoftmaxWithLoss.backward({dout}) ignores dout, as the book's does; that is "
            "right at the top of a net, where dout is 1; multiply by dout to use it elsewhere."
        )
        print(note)
    else:
        expect_close(f"SoftmaxWithLoss.backward({dout})", "dx", dx, dout * (y - t) / N, rtol=1e-5)
    big = np.array([[1000.0, 0.0, -1000.0]])
    loss = c.call("SoftmaxWithLoss.forward", layer.forward, big, np.eye(3)[[0]])
    if not np.isfinite(as_array("SoftmaxWithLoss.forward", "loss", loss)).all():
        raise CheckFailed(
            f"SoftmaxWithLoss.forward gave loss {loss} for scores [1000, 0, -1000]: exp "
            "overflowed; softmax is unchanged when a constant is subtracted from a row, so "
            "subtract each row's maximum before exp"
        )
    passed("SoftmaxWithLoss", 4)
