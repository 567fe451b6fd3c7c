"""One mini-batch iterator for the whole package: one epoch, every sample once.

``minibatches(x, t, batch_size, rng)`` is what the ``Trainer``, the experiments
of ``framework.experiments`` and the benchmarks use to cut a training set into
batches (DeZero's ``DataLoader`` does the same job for autograd datasets).  The
small argument checks beside it (``_check_pair``, ``_check_count``, ``_as_rng``)
are shared with the ``Trainer`` so that both word their errors alike.

This module depends only on NumPy and ``framework.backend``: it sits below
``net`` and ``trainer``.
"""

from __future__ import annotations

import numpy as np

from .backend import get_array_module

__all__ = ["minibatches"]


def minibatches(x, t, batch_size: int, rng=None, shuffle: bool = True):
    """Return an iterator over one epoch of ``(x_batch, t_batch)`` pairs.

    Every sample is visited exactly once: the indices ``0 .. N-1`` are put in a
    random order (``rng.permutation(N)``), then cut into runs of ``batch_size``;
    the last batch holds the ``N % batch_size`` leftover samples when ``N`` is
    not a multiple.  Call it again for the next epoch (a new order).

    Parameters
    ----------
    x : array, shape (N, ...)
    t : array, shape (N,) labels or (N, C) one-hot rows
    batch_size : int
        Samples per batch, at least 1.
    rng : numpy.random.Generator, RandomState or int, optional
        Draws the order; without one, NumPy's global state (``np.random.seed(0)``
        repeats a run, as in the book).  The order is drawn when this function
        is called, not when the first batch is taken.
    shuffle : bool
        False keeps the data's order (and draws nothing).

    Returns
    -------
    iterator of (array, array)
        Views of ``x`` and ``t`` when ``shuffle`` is False, copies otherwise.
    """
    _check_pair("minibatches", "", x, t)
    _check_count("minibatches", "batch_size", batch_size, minimum=1)
    rng = _as_rng("minibatches", rng)
    n = len(x)
    order = None
    if shuffle:
        # Without rng: NumPy's global state, so np.random.seed repeats a run (as in the book).
        order = rng.permutation(n) if rng is not None else np.random.permutation(n)  # noqa: NPY002
        order = get_array_module(x).asarray(order)  # index a GPU array with a GPU array
    return _batches(x, t, batch_size, order)


def _batches(x, t, batch_size, order):
    for start in range(0, len(x), batch_size):
        idx = (
            slice(start, start + batch_size)
            if order is None
            else order[start : start + batch_size]
        )
        yield x[idx], t[idx]


def _as_rng(who: str, rng):
    """Return ``rng`` as a Generator/RandomState, or None for NumPy's global state."""
    if rng is None or isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{who}: expected rng to be a numpy.random.Generator or an int seed, "
        f"got {type(rng).__name__}; use np.random.default_rng(seed)"
    )


def _check_pair(who: str, suffix: str, x, t) -> None:
    """Raise unless ``x`` and ``t`` are arrays holding the same number of samples."""
    for label, a in ((f"x{suffix}", x), (f"t{suffix}", t)):
        if getattr(a, "ndim", 0) < 1:
            raise TypeError(
                f"{who}: expected {label} to be an array with one row per sample, "
                f"got {type(a).__name__}"
            )
    if len(x) != len(t):
        raise ValueError(
            f"{who}: x{suffix} has {len(x)} samples but t{suffix} has {len(t)}; "
            "they must hold the same samples"
        )
    if len(x) == 0:
        raise ValueError(f"{who}: x{suffix} holds no samples; expected at least one")


def _check_count(who: str, name: str, value, minimum: int) -> None:
    """Raise unless ``value`` is an integer of at least ``minimum``."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{who}: expected {name} to be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{who}: expected {name} >= {minimum}, got {value}")
