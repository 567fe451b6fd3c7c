"""Tests for framework.layers.LeakyRelu (to be folded into tests/test_layers.py)."""

from __future__ import annotations

import numpy as np
import pytest

from framework.layers import LeakyRelu
from tests.helpers import check_backward


def test_values_mask_and_default_slope_as_dezero():
    layer = LeakyRelu()
    assert layer.slope == 0.2  # DeZero's leaky_relu(x, slope=0.2)
    x = np.array([[-2.0, 0.0, 3.0]], dtype=np.float32)
    y = layer.forward(x)
    np.testing.assert_allclose(y, [[-0.4, 0.0, 3.0]], rtol=1e-7)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(layer.mask, [[True, True, False]])
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(dx, [[0.2, 0.2, 1.0]], rtol=1e-7)
    assert dx.dtype == np.float32


def test_backward_matches_numerical_gradient(rng):
    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 0.01] = 0.5  # stay away from the kink at 0
    layer = LeakyRelu(slope=0.1)
    check_backward(lambda: layer.forward(x), layer.backward, [x], rng)


def test_never_writes_into_x_or_dout(rng):
    layer = LeakyRelu()
    x = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    keep_x, keep_dout = x.copy(), dout.copy()
    layer.forward(x)
    layer.backward(dout)
    np.testing.assert_array_equal(x, keep_x)
    np.testing.assert_array_equal(dout, keep_dout)


def test_clear_errors():
    layer = LeakyRelu()
    with pytest.raises(RuntimeError, match="LeakyRelu.backward: called before forward"):
        layer.backward(np.ones(3))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"LeakyRelu.backward: expected dout of shape \(2, 3\)"):
        layer.backward(np.ones((3, 2)))


@pytest.mark.reference
def test_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 6))
    g = rng.standard_normal((4, 6))
    layer = LeakyRelu(slope=0.3)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.leaky_relu(xt, negative_slope=0.3)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(layer.forward(x), yt.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), rtol=1e-15)
