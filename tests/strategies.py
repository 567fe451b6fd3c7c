"""Shared hypothesis strategies: small float arrays, logits with labels, broadcast pairs.

Kept small (at most 6 x 6) so property tests stay fast; the example count comes
from the hypothesis profile loaded in ``conftest.py``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "small_floats",
    "float_arrays",
    "matrices",
    "logits_and_labels",
    "broadcast_pair",
    "labels",
]

FLOAT_DTYPES = (np.float32, np.float64)


def small_floats(dtype=np.float64, bound: float = 100.0):
    """Finite floats in [-bound, bound], representable in ``dtype``."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=width)


def float_arrays(dtype=np.float64, bound: float = 100.0, min_dims=1, max_dims=4, max_side=5):
    """Arrays of any small shape holding finite floats in [-bound, bound]."""
    shape = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side)
    return hnp.arrays(dtype, shape, elements=small_floats(dtype, bound))


def matrices(dtype=np.float64, bound: float = 100.0, max_rows=6, max_cols=6):
    """2-D arrays of shape (N, C), 1 <= N <= max_rows, 2 <= C <= max_cols."""
    shape = st.tuples(st.integers(1, max_rows), st.integers(2, max_cols))
    return hnp.arrays(dtype, shape, elements=small_floats(dtype, bound))


@st.composite
def logits_and_labels(draw, dtype=np.float64, bound: float = 1e4):
    """Scores ``x`` of shape (N, C) with entries up to ``bound`` in magnitude, and labels t."""
    x = draw(matrices(dtype, bound))
    n, c = x.shape
    t = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return x, t


def labels(max_n=20, max_classes=10):
    """``(t, num_classes)``: integer labels of shape (N,) all below ``num_classes``."""
    return st.integers(1, max_classes).flatmap(
        lambda c: st.tuples(
            hnp.arrays(np.int64, st.integers(0, max_n), elements=st.integers(0, c - 1)),
            st.just(c),
        )
    )


@st.composite
def broadcast_pair(draw, dtype=np.float64):
    """Two float arrays whose shapes broadcast together (either may be stretched)."""
    shapes, _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
    elements = small_floats(dtype, 10.0)
    return tuple(draw(hnp.arrays(dtype, s, elements=elements)) for s in shapes)
