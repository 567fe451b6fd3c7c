"""Small input checks shared by the layers, so every error message reads the same.

Messages follow one pattern: ``Layer.method: expected ..., got ...`` plus a hint.

The dtype rule, the same in every layer, loss and optimizer:

* a layer with weights computes in its weights' dtype: an input ``x`` or a
  ``dout`` of another float dtype is cast once at the door (:func:`as_weight_dtype`;
  no copy when it already matches), so the book's float64 weights with float32
  images run in float64, and a float32 net never silently computes in float64;
* layers without weights keep their input's dtype;
* losses compute in the scores' dtype (targets are cast to it);
* optimizers update each parameter in its own dtype.

Integer (or other non-float) input is refused with a ``TypeError``: it is
almost always raw pixels or labels passed by mistake.
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module

__all__ = [
    "checked_input",
    "checked_dout",
    "check_size",
    "require_forward",
    "check_dout",
    "check_float",
    "as_weight_dtype",
    "check_device",
]


def checked_input(layer, x, weight=None, *, name: str = "x", method: str = "forward"):
    """Check ``x`` at the door of a ``forward``; return it ready for the math.

    Refuses anything but a float array (``TypeError``; integers, complex numbers,
    lists) and an empty batch (``ValueError``).  With ``weight`` it also refuses an
    array on another device and casts ``x`` to the weights' dtype (no copy when it
    already matches).  Call it after the layer's own shape check.
    """
    if weight is None:
        check_float(layer, name, x)
    else:
        check_device(layer, x, weight)
        x = as_weight_dtype(layer, method, name, x, weight.dtype)
    if x.ndim and x.shape[0] == 0:
        raise ValueError(
            f"{type(layer).__name__}.{method}: got an empty batch ({name} of shape {x.shape}); "
            "pass at least one sample"
        )
    return x


def checked_dout(layer, dout, cached, shape, weight=None):
    """Check at the door of a ``backward`` that forward ran and ``dout`` has ``shape``.

    ``cached`` is what the last ``forward`` kept (None before the first call).  With
    ``weight``, ``dout`` is cast to the weights' dtype.
    """
    require_forward(layer, cached)
    check_dout(layer, dout, shape)
    if weight is not None:
        dout = as_weight_dtype(layer, "backward", "dout", dout, weight.dtype)
    return dout


def check_size(where: str, **sizes) -> None:
    """Raise ``ValueError`` unless every size is an int >= 1 (``Affine(784, -5)``)."""
    for name, n in sizes.items():
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(
                f"{where}: expected {name} to be a positive int (a number of units), got {n!r}"
            )


def require_forward(layer, cached) -> None:
    """Raise ``RuntimeError`` when ``backward`` runs before ``forward``."""
    if cached is None:
        name = type(layer).__name__
        raise RuntimeError(
            f"{name}.backward: called before forward; call forward first so the layer "
            "has the values its backward needs"
        )


def check_dout(layer, dout, shape: tuple) -> None:
    """Raise ``ValueError`` unless ``dout`` has the shape of the forward output."""
    if shape is not None and getattr(dout, "shape", None) == shape:  # the common case
        return
    got = () if isinstance(dout, (int, float)) else getattr(dout, "shape", None)
    if got != tuple(shape):
        got = type(dout).__name__ if got is None else got
        raise ValueError(
            f"{type(layer).__name__}.backward: expected dout of shape {tuple(shape)} "
            f"(the shape forward returned), got {got}"
        )


def check_float(layer, name: str, x) -> None:
    """Raise ``TypeError`` unless ``x`` is a floating-point array."""
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    if kind != "f":
        got = x.dtype if kind is not None else type(x).__name__
        raise TypeError(
            f"{type(layer).__name__}.forward: expected {name} to be a float array, got {got}; "
            f"convert it with {name}.astype(np.float32)"
        )


def as_weight_dtype(layer, method: str, name: str, x, dtype):
    """Return ``x`` in the weights' ``dtype``: itself when it matches, else one cast copy.

    Raise ``TypeError`` unless ``x`` is a float array (integer images or labels
    passed as ``x`` are refused, not silently converted).
    """
    got = getattr(x, "dtype", None)
    if got == dtype:
        return x
    if getattr(got, "kind", None) != "f":
        got = type(x).__name__ if got is None else got
        raise TypeError(
            f"{type(layer).__name__}.{method}: expected {name} of dtype {dtype} (the dtype "
            f"of the layer's weights; any float dtype is cast to it), got {got}; convert "
            f"it with {name}.astype('{dtype}')"
        )
    return x.astype(dtype)


def check_device(layer, x, weight) -> None:
    """Raise ``TypeError`` when ``x`` and the layer's weights live on different devices."""
    if type(x) is type(weight):  # two NumPy (or two CuPy) arrays
        return
    xp = get_array_module(x)
    if xp is not get_array_module(weight):
        where = {True: "GPU", False: "CPU"}
        x_gpu = xp.__name__ == "cupy"
        raise TypeError(
            f"{type(layer).__name__}.forward: x is a {type(x).__module__}.{type(x).__name__} "
            f"({where[x_gpu]}) but the layer's weights are a {type(weight).__module__}."
            f"{type(weight).__name__} ({where[not x_gpu]}); move the input with "
            + (
                "framework.to_cpu(x), or the net with net.to_gpu()"
                if x_gpu
                else "framework.to_gpu(x), or the net with net.to_cpu()"
            )
        )
