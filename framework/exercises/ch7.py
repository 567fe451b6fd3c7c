"""Checkers for book 1, chapter 7 (convolutional networks): Convolution through im2col.

The right answers come from direct loops over the filter windows, written here, so
the check does not depend on the library's own ``Convolution``.  The learner may
call the ``im2col`` and ``col2im`` the exercise hands out (``framework.functions``).
"""

from __future__ import annotations

import numpy as np

from ._core import (
    Checker,
    CheckFailed,
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
    "check_convolution",
    "check_convolution_backward",
    "check_pooling",
    "check_pooling_backward",
]

HANDED_OUT = ("functions.py", "backend.py")


def _convolve(x, W, b, stride, pad):
    """Direct convolution: every output pixel is one window times every filter."""
    N, C, H, Wd = x.shape
    FN, _, FH, FW = W.shape
    oh, ow = (H + 2 * pad - FH) // stride + 1, (Wd + 2 * pad - FW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((N, FN, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * stride : i * stride + FH, j * stride : j * stride + FW]
            out[:, :, i, j] = window.reshape(N, -1) @ W.reshape(FN, -1).T + b
    return out


def check_convolution(Convolution) -> None:
    """Check a Convolution's forward (via im2col), for three settings of stride and padding."""
    require_own(Convolution, "Convolution")
    c, gen = Checker(allowed=HANDED_OUT), rng()
    for stride, pad in ((1, 0), (1, 1), (2, 1)):
        what = f"Convolution.forward (stride={stride}, pad={pad})"
        x = gen.standard_normal((2, 3, 7, 7))
        W, b = gen.standard_normal((4, 3, 3, 3)), gen.standard_normal(4)
        x0, W0, b0 = x.copy(), W.copy(), b.copy()
        layer = c.new("Convolution", Convolution, W, b, stride, pad)
        got = c.call("Convolution.forward", layer.forward, x)
        want = _convolve(x0, W0, b0, stride, pad)
        channels_last = (want.shape[0], *want.shape[2:], want.shape[1])
        if np.shape(got) != want.shape and np.shape(got) == channels_last:
            raise CheckFailed(
                f"{what} returned out of shape {np.shape(got)}, channels last; the layer's "
                f"output is (N, FN, out_h, out_w) = {want.shape}: move the filter axis to 1"
            )
        expect_shape(what, "out", got, want.shape, "(N, FN, out_h, out_w)")
        expect_close(
            what, "out", got, want, "each output is one window of x times one filter + its bias"
        )
        expect_unchanged("Convolution.forward", "x", x, x0)
    passed("Convolution.forward", 9)


def check_convolution_backward(Convolution) -> None:
    """Check a Convolution's backward (via col2im): dx, dW, db against numerical gradients."""
    require_own(Convolution, "Convolution")
    c, gen = Checker(allowed=HANDED_OUT), rng()
    for stride, pad in ((1, 0), (2, 1)):
        what = f"Convolution.backward (stride={stride}, pad={pad})"
        x = gen.standard_normal((2, 3, 5, 5))
        W, b = gen.standard_normal((4, 3, 3, 3)), gen.standard_normal(4)
        layer = c.new("Convolution", Convolution, W, b, stride, pad)
        out = c.call("Convolution.forward", layer.forward, x)
        g = gen.standard_normal(np.shape(out))
        g0 = g.copy()
        dx = c.call("Convolution.backward", layer.backward, g)
        expect_shape(what, "dx", dx, x.shape, "the input x")
        expect_unchanged(what, "dout", g, g0)
        dW = expect_attr(what, layer, "dW", "store self.dW, shaped like W (FN, C, FH, FW)")
        db = expect_attr(what, layer, "db", "store self.db, one entry per filter")
        expect_shape(what, "self.dW", dW, W.shape, "W")
        expect_shape(what, "self.db", db, b.shape, "b")
        grads = [
            numerical_gradient(lambda: float((g0 * _convolve(x, W, b, stride, pad)).sum()), a)  # noqa: B023
            for a in (x, W, b)
        ]
        expect_close(what, "dx", dx, grads[0], "col2im adds up the windows that overlap", 1e-5)
        expect_close(what, "self.dW", dW, grads[1], "dW comes from col and dout", 1e-5)
        expect_close(what, "self.db", db, grads[2], "sum dout over N, out_h and out_w", 1e-5)
    passed("Convolution.backward", 18)


def _max_pool(x, ph, pw, stride):
    N, C, H, W = x.shape
    oh, ow = (H - ph) // stride + 1, (W - pw) // stride + 1
    out = np.empty((N, C, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


def _distinct(gen, shape):
    """Values at least 0.01 apart, so the maximum of a window is never a tie."""
    n = int(np.prod(shape))
    return gen.permutation(n).reshape(shape) * 0.01 + gen.uniform(-0.001, 0.001, shape)


def check_pooling(Pooling) -> None:
    """Check a max Pooling's forward, for windows that do and do not overlap."""
    require_own(Pooling, "Pooling")
    c, gen = Checker(allowed=HANDED_OUT), rng()
    for ph, stride in ((2, 2), (3, 1)):
        what = f"Pooling.forward ({ph}x{ph}, stride={stride})"
        x = _distinct(gen, (2, 3, 6, 6))
        x0 = x.copy()
        layer = c.new("Pooling", Pooling, ph, ph, stride)
        got = c.call(what, layer.forward, x)
        want = _max_pool(x0, ph, ph, stride)
        expect_unchanged(what, "x", x, x0)
        expect_shape(what, "out", got, want.shape, "(N, C, out_h, out_w)")
        if matches(got, _mean_pool(x0, ph, stride)):
            raise CheckFailed(f"{what} took the mean of each window; max pooling takes the max")
        expect_close(what, "out", got, want, "the maximum of each window, channel by channel")
    passed("Pooling.forward", 6)


def _mean_pool(x, p, stride):
    N, C, H, W = x.shape
    oh, ow = (H - p) // stride + 1, (W - p) // stride + 1
    return np.array(
        [
            [x[:, :, i * stride : i * stride + p, j * stride : j * stride + p].mean(axis=(2, 3))
             for j in range(ow)]
            for i in range(oh)
        ]
    ).transpose(2, 3, 0, 1)  # fmt: skip


def check_pooling_backward(Pooling) -> None:
    """Check a max Pooling's backward: dout goes to the maximum of each window, and adds up."""
    require_own(Pooling, "Pooling")
    c, gen = Checker(allowed=HANDED_OUT), rng()
    for ph, stride in ((2, 2), (3, 1)):
        what = f"Pooling.backward ({ph}x{ph}, stride={stride})"
        x = _distinct(gen, (2, 2, 6, 6))
        layer = c.new("Pooling", Pooling, ph, ph, stride)
        out = c.call("Pooling.forward", layer.forward, x.copy())
        g = gen.standard_normal(np.shape(out))
        g0 = g.copy()
        dx = c.call(what, layer.backward, g)
        expect_unchanged(what, "dout", g, g0)
        expect_shape(what, "dx", dx, x.shape, "the input x")
        num = numerical_gradient(lambda: float((g0 * _max_pool(x, ph, ph, stride)).sum()), x)  # noqa: B023
        hint = "each dout goes to the place of its window's maximum; overlapping windows add up"
        expect_close(what, "dx", dx, num, hint, rtol=1e-5, atol=1e-7)
    passed("Pooling.backward", 6)
