"""Small input checks shared by the layers, so every error message reads the same.

Messages follow one pattern: ``Layer.method: expected ..., got ...`` plus a hint.
"""

from __future__ import annotations

__all__ = ["require_forward", "check_dout", "check_float", "check_same_dtype"]


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
