"""Small input checks shared by the layers, so every error message reads the same.

Messages follow one pattern: ``Layer.method: expected ..., got ...`` plus a hint.
"""

from __future__ import annotations

from ..backend import get_array_module

__all__ = ["require_forward", "check_dout", "check_float", "check_same_dtype", "check_device"]


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


def check_same_dtype(layer, method: str, name: str, x, dtype) -> None:
    """Raise ``TypeError`` unless ``x.dtype`` equals the layer's parameter ``dtype``."""
    if getattr(x, "dtype", None) != dtype:
        got = getattr(x, "dtype", type(x).__name__)
        raise TypeError(
            f"{type(layer).__name__}.{method}: expected {name} of dtype {dtype} (the dtype "
            f"of the layer's weights), got {got}; convert it with {name}.astype('{dtype}')"
        )


def check_device(layer, x, weight) -> None:
    """Raise ``TypeError`` when ``x`` and the layer's weights live on different devices."""
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
