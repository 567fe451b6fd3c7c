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
    numerical_gradient,
    passed,
    require_own,
    rng,
)

__all__ = ["check_convolution", "check_convolution_backward"]

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
