"""Weight initialisation: plain Gaussian, He and Xavier scales (book chapter 6).

``std``: a fixed standard deviation (the book's ``0.01 * randn``).
``he``: ``sqrt(2 / fan_in)``, suited to ReLU.  ``xavier``: ``sqrt(1 / fan_in)``,
suited to sigmoid and tanh.  ``fan_in`` is the number of inputs of one output unit.

Randomness: an explicit ``rng`` (a ``numpy.random.Generator``) wins; without one the
weights come from NumPy's global state, drawn as the book draws them
(``np.random.randn``), so ``np.random.seed(0)`` repeats a run.  # noqa: NPY002
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["init_scale", "init_weight"]


def init_scale(init, fan_in: int) -> float:
    """Return the standard deviation for ``init`` ("he", "xavier" or a number)."""
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        return float(init)
    if init == "he":
        return math.sqrt(2.0 / fan_in)
    if init == "xavier":
        return math.sqrt(1.0 / fan_in)
    raise ValueError(f"init_weight: expected init 'he', 'xavier' or a number, got {init!r}")


def init_weight(shape, init="he", rng=None, dtype="float32", fan_in=None):
    """Draw a weight array of ``shape`` from N(0, scale**2).

    Parameters
    ----------
    shape : tuple of int
        Shape of the weight, e.g. ``(784, 100)`` or ``(30, 1, 5, 5)``.
    init : {"he", "xavier"} or float
        Scale rule, or a fixed standard deviation.
    rng : numpy.random.Generator, optional
        Source of randomness; NumPy's global state (``np.random.randn``) when
        omitted, so ``np.random.seed`` repeats a run and two layers differ.
    dtype : dtype, default float32
    fan_in : int, optional
        Inputs per output unit; defaults to ``prod(shape[1:])`` for 4-D filters
        and ``shape[0]`` for matrices.
    """
    if not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in shape
    ):
        raise ValueError(f"init_weight: expected a shape of positive ints, got {shape!r}")
    if fan_in is None:
        fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else int(shape[0])
    scale = init_scale(init, fan_in)
    draws = np.random.randn(*shape) if rng is None else rng.standard_normal(shape)  # noqa: NPY002
    # Cast last and scale by a Python float, so float32 stays float32 (NEP 50).
    return (draws * scale).astype(dtype)
