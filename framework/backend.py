"""Which array module (NumPy or CuPy) an array lives in, and moving arrays between them.

Every piece of array code in the framework starts with ``xp = get_array_module(x)``
and then calls ``xp.exp``, ``xp.zeros`` ... so the same lines run on NumPy arrays
(CPU) and on CuPy arrays (GPU).  CuPy is never imported when this module is imported:
a CuPy array can only exist once the user has imported CuPy, so ``get_array_module``
looks for CuPy in ``sys.modules`` and costs nothing on a machine without it.
"""

from __future__ import annotations

import os
import sys

import numpy as np

__all__ = [
    "get_array_module",
    "gpu_available",
    "require_cupy",
    "to_cpu",
    "to_gpu",
    "as_numpy",
    "to_device",
    "scatter_add",
    "default_device",
    "device_of",
    "move_arrays",
]

_INSTALL_HINT = (
    "install the CuPy wheel that matches your CUDA version, e.g. "
    '`pip install cupy-cuda12x` for CUDA 12 (or `pip install -e ".[gpu]"`)'
)


def _unwrap(x):
    """Return the raw array behind an autograd ``Variable`` (or ``x`` itself)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return x
    # An autograd Variable holds its array in ``.data``; a CuPy array has no
    # ``.data`` array attribute of its own kind, so only unwrap non-arrays.
    data = getattr(x, "data", None)
    if data is not None and hasattr(data, "shape") and hasattr(x, "creator"):
        return data
    return x


def get_array_module(*xs):
    """Return ``numpy`` or ``cupy``: the module that owns the given arrays.

    Autograd ``Variable`` objects are unwrapped first.  Python scalars and NumPy
    arrays give ``numpy``; any CuPy array gives ``cupy``.
    """
    cp = sys.modules.get("cupy")
    if cp is None:
        return np
    return cp.get_array_module(*(_unwrap(x) for x in xs))


def require_cupy():
    """Import and return CuPy, or raise ``RuntimeError`` saying what is missing."""
    try:
        import cupy as cp
    except ImportError as err:
        raise RuntimeError(f"GPU requested but CuPy is not installed: {_INSTALL_HINT}") from err
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver missing or broken
        raise RuntimeError(
            f"GPU requested: CuPy is installed but no CUDA device can be used ({err})"
        ) from err
    if count == 0:
        raise RuntimeError("GPU requested: CuPy is installed but no CUDA device was found")
    return cp


def gpu_available() -> bool:
    """Return True when CuPy is installed and at least one CUDA device works."""
    try:
        require_cupy()
    except RuntimeError:
        return False
    return True


def to_cpu(x):
    """Return ``x`` as a NumPy array (a CuPy array is copied to the host)."""
    x = _unwrap(x)
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.asarray(x)
    cp = sys.modules.get("cupy")
    if cp is not None and isinstance(x, cp.ndarray):
        return cp.asnumpy(x)
    return np.asarray(x)


as_numpy = to_cpu


def to_gpu(x):
    """Return ``x`` as a CuPy array on the current device.

    Raises
    ------
    RuntimeError
        When CuPy is missing or no CUDA device is present (with an install hint).
    """
    cp = require_cupy()
    return cp.asarray(_unwrap(x))


def to_device(x, device: str):
    """Move ``x`` to ``"cpu"`` or ``"gpu"``."""
    if device == "cpu":
        return to_cpu(x)
    if device == "gpu":
        return to_gpu(x)
    raise ValueError(f"to_device: expected device 'cpu' or 'gpu', got {device!r}")


def device_of(x) -> str:
    """Return ``"gpu"`` for a CuPy array, ``"cpu"`` for anything else."""
    return "cpu" if get_array_module(x) is np else "gpu"


def default_device() -> str:
    """Return the device named by ``$FRAMEWORK_DEVICE`` (``cpu`` when unset).

    ``FRAMEWORK_DEVICE=gpu`` makes the command line and the notebooks put nets on
    the GPU; asking for it without CuPy or a device raises ``RuntimeError``.
    """
    name = os.environ.get("FRAMEWORK_DEVICE", "cpu").strip().lower() or "cpu"
    if name in ("gpu", "cuda"):
        require_cupy()
        return "gpu"
    if name != "cpu":
        raise ValueError(f"FRAMEWORK_DEVICE: expected 'cpu' or 'gpu', got {name!r}")
    return "cpu"


def move_arrays(obj, device: str):
    """Move every array attribute of ``obj`` (weights, grads, caches) to ``device``.

    Hand-written layers keep their arrays as plain attributes (``W``, ``dW``,
    ``running_mean``, ``mask`` ...), so walking ``vars(obj)`` moves all of them;
    their ``params``/``grads`` properties then return the moved arrays.
    """
    if device == "gpu":
        require_cupy()
    elif device != "cpu":
        raise ValueError(f"move_arrays: expected device 'cpu' or 'gpu', got {device!r}")
    cp = sys.modules.get("cupy")
    kinds = (np.ndarray,) if cp is None else (np.ndarray, cp.ndarray)
    for name, value in vars(obj).items():
        if isinstance(value, kinds) and not isinstance(value, np.generic):
            setattr(obj, name, to_device(value, device))
    return obj


def scatter_add(a, indices, values):
    """Add ``values`` into ``a[indices]`` in place, summing repeated indices.

    ``a[idx] += v`` applies only one update when ``idx`` repeats; ``ufunc.at``
    applies all of them on NumPy and on CuPy alike.
    """
    xp = get_array_module(a)
    xp.add.at(a, indices, values)
    return a
