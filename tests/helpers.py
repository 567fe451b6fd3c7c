"""Test helpers: the gradient check every backward must pass."""

from __future__ import annotations

import numpy as np

from framework.gradient import numerical_gradient


def check_backward(forward, backward, inputs, rng, rtol=1e-5, atol=1e-7, eps=1e-4):
    """Assert ``backward(g)`` equals the numerical gradient of ``sum(g * forward())``.

    ``forward()`` recomputes the output from ``inputs`` (arrays it reads by closure);
    ``backward(g)`` returns one gradient per entry of ``inputs``, in order.  ``g``
    is random so a backward that ignores it cannot pass.
    """
    out = forward()
    g = rng.standard_normal(np.shape(out))
    analytic = backward(g)
    if not isinstance(analytic, (tuple, list)):
        analytic = (analytic,)
    for a, x in zip(analytic, inputs, strict=True):
        numeric = numerical_gradient(lambda _: np.sum(g * forward()), x, eps)
        assert np.shape(a) == np.shape(x), f"gradient shape {np.shape(a)} != input {np.shape(x)}"
        np.testing.assert_allclose(a, numeric, rtol=rtol, atol=atol)
