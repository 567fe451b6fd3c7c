"""Numerical gradients by central differences, and checks of backprop against them.

``numerical_gradient(f, x)`` is the book's: nudge one element of ``x`` by ``+eps``
and ``-eps``, take ``(f(x+eps) - f(x-eps)) / (2 eps)``, put the element back.  It
is slow (two calls of ``f`` per element) but needs no derivative, so it is the
referee for every hand-written ``backward``.  Run it in float64: in float32 the
difference of two nearly equal losses loses most of its digits.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np

from .backend import get_array_module, to_cpu

__all__ = ["numerical_gradient", "relative_error", "gradient_check"]


def numerical_gradient(f, x, eps: float = 1e-4):
    """Central-difference gradient of the scalar function ``f`` at the array ``x``.

    Parameters
    ----------
    f : callable
        Called as ``f(x)`` (the book's convention; it may ignore its argument and
        read ``x`` through a closure, since ``x`` is changed in place and restored).
    x : array of any shape, float
        Changed element by element during the call and restored exactly after.
    eps : float
        Half the step, the book's ``h = 1e-4``.

    Returns
    -------
    array of the shape of ``x``

    Raises
    ------
    TypeError
        When ``x`` is not a float array: ``x + eps`` would be rounded back to ``x``.
    """
    if getattr(getattr(x, "dtype", None), "kind", None) != "f":
        raise TypeError(
            f"numerical_gradient: expected x to be a float array, got "
            f"{getattr(x, 'dtype', type(x).__name__)}; use x.astype(np.float64)"
        )
    xp = get_array_module(x)
    grad = xp.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        old = x[idx].copy()
        x[idx] = old + eps
        f_plus = float(f(x))
        x[idx] = old - eps
        f_minus = float(f(x))
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b) -> float:
    """``max|a - b| / max(max|a|, max|b|)``: 0 for equal arrays, ~1 for unrelated ones."""
    a, b = to_cpu(a).astype(np.float64), to_cpu(b).astype(np.float64)
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-300)
    return float(np.abs(a - b).max(initial=0.0) / scale)


def _takes(fn, name):
    return name in inspect.signature(fn).parameters


def gradient_check(net_or_layer, x, t=None, *, eps: float = 1e-4, rng=None) -> dict:
    """Compare backprop with the numerical gradient; return the relative error per array.

    For a net (anything with ``gradient`` and ``numerical_gradient``) the loss is
    differentiated with respect to every parameter.  For a layer, the scalar
    ``sum(g * layer.forward(x))`` is differentiated with respect to ``x`` and every
    parameter, with a random upstream gradient ``g`` (with ``g = 1`` a wrong
    backward can still pass); a loss layer takes ``forward(x, t)``.

    Returns
    -------
    dict
        Name (``"x"``, ``"W"``, ``"0.W"``, ...) -> relative error.  In float64
        a correct backward gives about 1e-9 or less.
    """
    is_net = hasattr(net_or_layer, "numerical_gradient") and hasattr(net_or_layer, "gradient")
    if not is_net and not (hasattr(net_or_layer, "forward") and hasattr(net_or_layer, "backward")):
        raise TypeError(
            "gradient_check: expected a net (with gradient and numerical_gradient) or a layer "
            f"(with forward and backward), got {type(net_or_layer).__name__}; call it as "
            "gradient_check(layer, x) or gradient_check(net, x, t)"
        )
    if getattr(getattr(x, "dtype", None), "kind", None) != "f":
        got = getattr(x, "dtype", type(x).__name__)
        raise TypeError(
            f"gradient_check: expected x to be a float array (float64 for a meaningful check), "
            f"got {got}; use np.asarray(x, dtype=np.float64)"
        )
    if x.dtype != np.float64:
        warnings.warn(
            "gradient_check: x is not float64, so the numerical gradient is noisy; "
            "use float64 arrays for a meaningful check",
            stacklevel=2,
        )
    if is_net:
        net = net_or_layer
        analytic = {k: g.copy() for k, g in net.gradient(x, t).items()}
        numeric = net.numerical_gradient(x, t, eps=eps)
        return {k: relative_error(analytic[k], numeric[k]) for k in analytic}

    layer = net_or_layer
    rng = np.random.default_rng(0) if rng is None else rng
    xp = get_array_module(x)
    kwargs = {"train": True} if _takes(layer.forward, "train") else {}
    args = (x,) if t is None else (x, t)
    out = layer.forward(*args, **kwargs)
    g = xp.asarray(rng.standard_normal(np.shape(out))).astype(x.dtype)
    if np.ndim(out) == 0:
        g = float(g)
    dx = layer.backward(g)
    analytic = {"x": dx[0] if isinstance(dx, tuple) else dx}
    analytic.update({k: v.copy() for k, v in getattr(layer, "grads", {}).items()})

    def f(_):
        return float(xp.sum(g * layer.forward(*args, **kwargs)))

    errors = {"x": relative_error(analytic["x"], numerical_gradient(f, x, eps))}
    for name, p in getattr(layer, "params", {}).items():
        errors[name] = relative_error(analytic[name], numerical_gradient(f, p, eps))
    return errors
