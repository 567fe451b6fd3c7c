"""Checkers for the classroom exercises: a learner's layer, tested the way ours are.

Each ``check_*`` function takes the learner's class (or function), runs it on small
float64 inputs and compares it with the right answer: output values and shapes,
the cached fields the book asks for, the gradient from ``backward`` against a
numerical gradient taken with a random upstream ``dout``, and that no input array
was changed in place.  On the first problem it raises :class:`CheckFailed` whose
message says what was wrong and gives a hint, e.g.
``Relu.backward returned dx of shape (3, 2); it must have the input's shape (2, 3)``.
Unfinished work (a stub that raises ``NotImplementedError``) is reported as such.

``CheckFailed`` is an ``AssertionError``, so nbgrader counts a failing check cell
as a failed test.
"""

from __future__ import annotations

import numpy as np

from .gradient import numerical_gradient

__all__ = [
    "CheckFailed",
    "check_mul_layer",
    "check_add_layer",
    "check_shopping",
    "check_relu",
    "check_sigmoid",
    "check_affine",
    "check_softmax_with_loss",
    "check_composed_activation",
    "check_convolution",
    "check_convolution_backward",
]


class CheckFailed(AssertionError):  # noqa: N818 (reads as a verdict in a notebook)
    """The learner's code did not pass a check; the message says what to fix."""


def _call(what: str, fn, *args, hint: str = "", **kwargs):
    """Call the learner's code, turning stubs and crashes into a readable CheckFailed."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as err:
        detail = f" ({err})" if str(err) else ""
        raise CheckFailed(
            f"{what} is not implemented yet{detail}: write it in the solution cell "
            "above, run that cell, then run this check again"
        ) from None
    except CheckFailed:
        raise
    except Exception as err:
        hint = f"; {hint}" if hint else ""
        raise CheckFailed(f"{what} raised {type(err).__name__}: {err}{hint}") from None


def _new(name: str, cls, *args):
    """Build the learner's layer; a stub or a crash in ``__init__`` becomes a CheckFailed."""
    return _call(f"{name}.__init__", cls, *args)


def _index_text(idx) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]" if idx else ""


def _expect_shape(what: str, name: str, got, want: tuple, of: str) -> None:
    shape = np.shape(got)
    if shape != tuple(want):
        raise CheckFailed(
            f"{what} returned {name} of shape {shape}; it must have the shape of {of} "
            f"{tuple(want)}"
        )


def _expect_close(what: str, name: str, got, want, hint: str = "", rtol=1e-6, atol=1e-8):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    _expect_shape(what, name, got, want.shape, "the right answer")
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0]) if bad.ndim else ()
        where = _index_text(idx)
        raise CheckFailed(
            f"{what}: {name}{where} is {got[idx]:.6g} but should be {want[idx]:.6g} "
            f"({int(bad.sum())} of {bad.size} values differ)" + (f"; {hint}" if hint else "")
        )


def _expect_unchanged(what: str, name: str, arr, before) -> None:
    changed = int((np.asarray(arr) != before).sum())
    if changed:
        raise CheckFailed(
            f"{what} changed the array {name} it was given ({changed} values differ); "
            f"leave the caller's {name} alone and compute a new array instead "
            "(e.g. dx = dout * ~self.mask, or np.where(self.mask, 0, dout))"
        )


def _expect_attr(what: str, obj, name: str, hint: str):
    if getattr(obj, name, None) is None:
        raise CheckFailed(f"{what} did not set self.{name}; {hint}")
    return getattr(obj, name)


def _passed(name: str, count: int) -> None:
    print(f"All {count} checks passed for {name}.")


def _numeric_layer_grads(layer, forward_args, arrays, g):
    """Numerical gradient of sum(g * layer.forward(*forward_args)) for each array."""

    def f(_):
        return float(np.sum(g * layer.forward(*forward_args)))

    return [numerical_gradient(f, a) for a in arrays]


# -- chapter 5: the shopping example -----------------------------------------


def check_mul_layer(MulLayer) -> None:
    """Check a MulLayer class: forward ``x * y``; backward ``(dout * y, dout * x)``."""
    layer = _new("MulLayer", MulLayer)
    out = _call("MulLayer.forward", layer.forward, 100, 2)
    _expect_close("MulLayer.forward(100, 2)", "out", out, 200)
    dx, dy = _call("MulLayer.backward", layer.backward, 1.5)
    _expect_close("MulLayer.backward(1.5) after forward(100, 2)", "dx", dx, 3.0, "dx = dout * y")
    _expect_close("MulLayer.backward(1.5) after forward(100, 2)", "dy", dy, 150.0, "dy = dout * x")
    rng = np.random.default_rng(0)
    x, y, g = rng.standard_normal((3, 2, 3))
    x0, y0, g0 = x.copy(), y.copy(), g.copy()
    layer = _new("MulLayer", MulLayer)
    _expect_close(
        "MulLayer.forward on arrays", "out", _call("forward", layer.forward, x, y), x * y
    )
    dx, dy = _call("MulLayer.backward", layer.backward, g)
    _expect_close("MulLayer.backward on arrays", "dx", dx, g * y, "dx = dout * y")
    _expect_close("MulLayer.backward on arrays", "dy", dy, g * x, "dy = dout * x")
    for name, a, a0 in (("x", x, x0), ("y", y, y0), ("dout", g, g0)):
        _expect_unchanged("MulLayer", name, a, a0)
    _passed("MulLayer", 6)


def check_add_layer(AddLayer) -> None:
    """Check an AddLayer class: forward ``x + y``; backward passes ``dout`` to both."""
    layer = _new("AddLayer", AddLayer)
    _expect_close("AddLayer.forward(3, 4)", "out", _call("forward", layer.forward, 3, 4), 7)
    dx, dy = _call("AddLayer.backward", layer.backward, 1.5)
    _expect_close("AddLayer.backward(1.5)", "dx", dx, 1.5, "an add passes dout through unchanged")
    _expect_close("AddLayer.backward(1.5)", "dy", dy, 1.5, "an add passes dout through unchanged")
    g = np.arange(6.0).reshape(2, 3)
    _call("AddLayer.forward on arrays", layer.forward, np.ones((2, 3)), np.zeros((2, 3)))
    dx, dy = _call("AddLayer.backward", layer.backward, g)
    _expect_close("AddLayer.backward on arrays", "dx", dx, g)
    _expect_close("AddLayer.backward on arrays", "dy", dy, g)
    _passed("AddLayer", 5)


def check_shopping(MulLayer, AddLayer) -> None:
    """Check the apple-and-orange demo built from the learner's layers (book 5.4)."""
    mul_apple, mul_orange, mul_tax = (_new("MulLayer", MulLayer) for _ in range(3))
    add = _new("AddLayer", AddLayer)
    apple = _call("MulLayer.forward", mul_apple.forward, 100, 2)
    orange = _call("MulLayer.forward", mul_orange.forward, 150, 3)
    total = _call("AddLayer.forward", add.forward, apple, orange)
    price = _call("MulLayer.forward", mul_tax.forward, total, 1.1)
    _expect_close("shopping forward", "price", price, 715)
    dtotal, dtax = _call("MulLayer.backward", mul_tax.backward, 1)
    dapple, dorange = _call("AddLayer.backward", add.backward, dtotal)
    dapple_price, dapple_num = _call("MulLayer.backward", mul_apple.backward, dapple)
    dorange_price, dorange_num = _call("MulLayer.backward", mul_orange.backward, dorange)
    for name, got, want in (
        ("dTax", dtax, 650),
        ("dApple", dapple_price, 2.2),
        ("dApple_num", dapple_num, 110),
        ("dOrange", dorange_price, 3.3),
        ("dOrange_num", dorange_num, 165),
    ):
        _expect_close("shopping backward", name, got, want)
    _passed("the shopping demo", 6)


# -- activation layers ----------------------------------------------------------


def _check_activation(Layer, name, fn, cached, cached_value, hint):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3))
    x[0, 0] = -0.5  # make sure both signs appear
    x[1, 2] = 0.7
    x0 = x.copy()
    layer = _new(name, Layer)
    out = _call(f"{name}.forward", layer.forward, x)
    _expect_close(f"{name}.forward", "out", out, fn(x))
    _expect_unchanged(f"{name}.forward", "x", x, x0)
    _expect_close(
        f"{name}.forward",
        f"self.{cached}",
        _expect_attr(f"{name}.forward", layer, cached, hint),
        cached_value(x),
    )
    g = rng.standard_normal((2, 3))
    g0 = g.copy()
    dx = _call(f"{name}.backward", layer.backward, g)
    _expect_shape(f"{name}.backward", "dx", dx, x.shape, "the input x")
    _expect_unchanged(f"{name}.backward", "dout", g, g0)
    (num,) = _numeric_layer_grads(layer, (x,), [x], g)
    _expect_close(f"{name}.backward", "dx", dx, num, "compare with the derivative of forward")
    _passed(name, 6)


def check_relu(Relu) -> None:
    """Check a Relu class: ``mask`` is True where ``x <= 0``; ``dx`` is 0 there."""
    _check_activation(
        Relu,
        "Relu",
        lambda x: np.maximum(x, 0),
        "mask",
        lambda x: x <= 0,
        "keep self.mask = (x <= 0) for backward",
    )


def check_sigmoid(Sigmoid) -> None:
    """Check a Sigmoid class: keeps ``out``; ``dx = dout * out * (1 - out)``."""

    def sig(x):
        return 1 / (1 + np.exp(-x))

    _check_activation(Sigmoid, "Sigmoid", sig, "out", sig, "keep self.out for backward")


# -- Affine and SoftmaxWithLoss -----------------------------------------------


def check_affine(Affine) -> None:
    """Check an Affine class: ``x @ W + b``, gradients dx, dW, db, any (N, ...) input."""
    rng = np.random.default_rng(2)
    W, b = rng.standard_normal((6, 4)), rng.standard_normal(4)
    for shape in ((3, 6), (3, 1, 2, 3)):
        x = rng.standard_normal(shape)
        x0, W0 = x.copy(), W.copy()
        layer = _new("Affine", Affine, W, b)
        flat = "flatten x to (N, D) first: x.reshape(x.shape[0], -1)"
        out = _call(f"Affine.forward on x of shape {shape}", layer.forward, x, hint=flat)
        _expect_close(
            f"Affine.forward on x of shape {shape}",
            "out",
            out,
            x.reshape(3, -1) @ W + b,
            "out = x @ W + b (flatten x to (N, D) first)",
        )
        _expect_unchanged("Affine.forward", "x", x, x0)
        g = rng.standard_normal((3, 4))
        dx = _call("Affine.backward", layer.backward, g)
        _expect_shape("Affine.backward", "dx", dx, shape, "the input x")
        dW = _expect_attr("Affine.backward", layer, "dW", "store self.dW = x.T @ dout")
        db = _expect_attr("Affine.backward", layer, "db", "store self.db = dout.sum(axis=0)")
        num_x, num_W, num_b = _numeric_layer_grads(layer, (x,), [x, W, b], g)
        _expect_close("Affine.backward", "dx", dx, num_x, "dx = dout @ W.T, reshaped like x")
        _expect_close("Affine.backward", "self.dW", dW, num_W, "dW = x.T @ dout")
        _expect_close("Affine.backward", "self.db", db, num_b, "db = dout.sum(axis=0)")
        _expect_unchanged("Affine", "W", W, W0)
    _passed("Affine", 14)


def check_softmax_with_loss(SoftmaxWithLoss) -> None:
    """Check SoftmaxWithLoss with one-hot targets: loss, stability, ``dx = dout (y - t) / N``."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3))
    t = np.eye(3)[[0, 2, 1, 2]]

    def exact_loss(a):
        shifted = a - a.max(axis=1, keepdims=True)
        return -(t * (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))).sum() / 4

    layer = _new("SoftmaxWithLoss", SoftmaxWithLoss)
    loss = _call("SoftmaxWithLoss.forward", layer.forward, x, t)
    _expect_close(
        "SoftmaxWithLoss.forward",
        "loss",
        loss,
        exact_loss(x),
        "the loss is the mean over the batch of -sum(t * log y)",
        rtol=1e-5,
    )
    dout = 1.7
    dx = _call("SoftmaxWithLoss.backward", layer.backward, dout)
    _expect_shape("SoftmaxWithLoss.backward", "dx", dx, x.shape, "the scores x")
    # The gradient of the exact loss: the book's log(y + 1e-7) in forward moves the
    # learner's own loss by about 1e-6 relative, which backward must not copy.
    num = numerical_gradient(lambda a: dout * exact_loss(a), x.copy())
    _expect_close(
        "SoftmaxWithLoss.backward(1.7)",
        "dx",
        dx,
        num,
        "dx = dout * (y - t) / N: divide by the batch size and scale by dout",
    )
    big = np.array([[1000.0, 0.0, -1000.0]])
    loss = _call("SoftmaxWithLoss.forward", layer.forward, big, np.eye(3)[[0]])
    if not np.isfinite(loss):
        raise CheckFailed(
            f"SoftmaxWithLoss.forward gave loss {loss} for scores [1000, 0, -1000]; "
            "subtract each row's maximum before exp (the overflow countermeasure)"
        )
    _passed("SoftmaxWithLoss", 4)


# -- the computation graph ----------------------------------------------------


def check_composed_activation(fn, reference, name: str | None = None) -> None:
    """Check an activation built from autograd primitives against a NumPy ``reference``.

    ``fn`` takes and returns a ``framework.autograd.Variable``; its gradient comes
    from ``backward`` through the graph, and must match the numerical one.
    """
    from .autograd import Variable

    name = name or getattr(fn, "__name__", "the activation")
    rng = np.random.default_rng(4)
    x = Variable(rng.standard_normal((2, 3)))
    x0 = x.data.copy()
    y = _call(name, fn, x)
    if not isinstance(y, Variable):
        raise CheckFailed(
            f"{name} returned {type(y).__name__}; build it from autograd functions "
            "(F.exp, +, *, ...) on the Variable so that backward works"
        )
    _expect_close(name, "y", y.data, reference(x0))
    g = rng.standard_normal((2, 3))
    y.grad = Variable(g)
    _call(f"backward through {name}", y.backward)
    if x.grad is None:
        raise CheckFailed(f"after backward, x.grad is None: {name} does not depend on x")
    num = numerical_gradient(lambda a: np.sum(g * reference(a)), x0.copy())
    _expect_close(f"backward through {name}", "x.grad", x.grad.data, num)
    _expect_unchanged(name, "x.data", x.data, x0)
    _passed(name, 4)


# -- convolution --------------------------------------------------------------


def check_convolution(Convolution) -> None:
    """Check a Convolution class's forward (via im2col) against the library's own."""
    from .layers import Convolution as Reference

    rng = np.random.default_rng(5)
    for stride, pad in ((1, 0), (1, 1), (2, 1)):
        x = rng.standard_normal((2, 3, 7, 7))
        W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
        x0 = x.copy()
        want = Reference(W.copy(), b.copy(), stride, pad).forward(x)
        layer = _new("Convolution", Convolution, W, b, stride, pad)
        got = _call("Convolution.forward", layer.forward, x)
        _expect_shape(
            f"Convolution.forward (stride={stride}, pad={pad})",
            "out",
            got,
            want.shape,
            "(N, FN, out_h, out_w)",
        )
        _expect_close(
            f"Convolution.forward (stride={stride}, pad={pad})",
            "out",
            got,
            want,
            "reshape W to (FN, C*FH*FW) and compute col @ W.T + b, then transpose "
            "to (N, FN, out_h, out_w)",
        )
        _expect_unchanged("Convolution.forward", "x", x, x0)
    _passed("Convolution.forward", 9)


def check_convolution_backward(Convolution) -> None:
    """Check a Convolution class's backward (via col2im): dx, dW, db by numerical gradient."""
    rng = np.random.default_rng(6)
    for stride, pad in ((1, 0), (2, 1)):
        what = f"Convolution.backward (stride={stride}, pad={pad})"
        x = rng.standard_normal((2, 3, 5, 5))
        W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
        layer = _new("Convolution", Convolution, W, b, stride, pad)
        out = _call("Convolution.forward", layer.forward, x)
        g = rng.standard_normal(np.shape(out))
        g0 = g.copy()
        dx = _call("Convolution.backward", layer.backward, g)
        _expect_shape(what, "dx", dx, x.shape, "the input x")
        _expect_unchanged(what, "dout", g, g0)
        dW = _expect_attr(what, layer, "dW", "store self.dW, reshaped like W (FN, C, FH, FW)")
        db = _expect_attr(what, layer, "db", "store self.db = dout summed over N, out_h, out_w")
        _expect_shape(what, "self.dW", dW, W.shape, "W")
        _expect_shape(what, "self.db", db, b.shape, "b")
        num_x, num_W, num_b = _numeric_layer_grads(layer, (x,), [x, W, b], g)
        hint = "with dout as rows (N*out_h*out_w, FN), dcol = dout @ W.reshape(FN, -1)"
        _expect_close(what, "dx", dx, num_x, hint + ", then dx = col2im(dcol, x.shape, ...)")
        _expect_close(what, "self.dW", dW, num_W, "dW = (col.T @ dout).T reshaped to W's shape")
        _expect_close(what, "self.db", db, num_b, "db = dout.sum(axis=(0, 2, 3))")
    _passed("Convolution.backward", 18)
