"""Helpers for the autograd tests: gradient checks of autograd callables, a torch oracle."""

from __future__ import annotations

import numpy as np

from framework.autograd import Variable
from tests.helpers import check_backward


def check_function(f, *arrays, rng, wrt=None, rtol=1e-5, atol=1e-7):
    """Assert backprop through ``f(*Variables)`` equals the numerical gradient (random g).

    ``wrt``: indices of the arrays to differentiate (all by default); the others
    (labels, indices) are passed as constants.
    """
    wrt = range(len(arrays)) if wrt is None else wrt

    def forward():
        return f(*[Variable(a) for a in arrays]).data

    def backward(g):
        vs = [Variable(a) for a in arrays]
        f(*vs).backward(grad=g)
        return tuple(
            np.zeros_like(vs[i].data) if vs[i].grad is None else vs[i].grad.data for i in wrt
        )

    check_backward(forward, backward, [arrays[i] for i in wrt], rng, rtol=rtol, atol=atol)


def backprop(f, *arrays, g=None):
    """Return ``(y, [grad of each array])`` for ``f(*Variables)`` seeded with ``g``."""
    vs = [Variable(a) for a in arrays]
    y = f(*vs)
    y.backward(grad=g)
    return y.data, [None if v.grad is None else v.grad.data for v in vs]


def torch_compare(ours, theirs, *arrays, rng, torch, rtol=1e-10, atol=1e-12):
    """Compare forward and backward (random upstream g) with a PyTorch function, float64."""
    g = rng.standard_normal(ours(*[Variable(a) for a in arrays]).shape)
    y, grads = backprop(ours, *arrays, g=g)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ty = theirs(*ts)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=rtol, atol=atol)
    for a, t in zip(grads, ts, strict=True):
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=rtol, atol=atol)
