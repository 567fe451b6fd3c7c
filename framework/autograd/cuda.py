"""DeZero's ``cuda`` module: NumPy or CuPy, and moving arrays between them.

A thin layer over :mod:`framework.backend` under DeZero's names, so that
``dezero.cuda.gpu_enable``, ``get_array_module``, ``as_numpy`` and ``as_cupy`` are
where DeZero's scripts look for them.  Two differences, both on purpose:

* CuPy is never imported when this module is imported.  ``gpu_enable`` only asks
  whether the ``cupy`` package is installed (DeZero imports it to find out).
* Without CuPy, ``as_cupy`` and the attribute ``cuda.cupy`` raise ``RuntimeError``
  naming the wheel to install (DeZero raises a bare ``Exception``, and
  ``cuda.cupy`` does not exist at all, so ``DataLoader(gpu=True)`` dies with an
  ``AttributeError``).
"""

from __future__ import annotations

import importlib.util

from .. import backend

__all__ = ["gpu_enable", "get_array_module", "as_numpy", "as_cupy"]

#: True when the ``cupy`` package is installed (whether a CUDA device works is
#: checked when an array is first moved to the GPU).
gpu_enable: bool = importlib.util.find_spec("cupy") is not None


def get_array_module(x):
    """Return ``numpy`` or ``cupy``: the module that owns ``x`` (a Variable is unwrapped).

    Parameters
    ----------
    x : Variable, numpy.ndarray, cupy.ndarray or scalar

    Returns
    -------
    module
        ``cupy`` for a CuPy array, ``numpy`` for anything else (always ``numpy``
        without CuPy).
    """
    return backend.get_array_module(x)


def as_numpy(x):
    """Return ``x`` as a ``numpy.ndarray`` (a Variable is unwrapped, a scalar becomes 0-d).

    A CuPy array is copied to the host; a NumPy array is returned as it is.
    """
    return backend.to_cpu(x)


def as_cupy(x):
    """Return ``x`` as a ``cupy.ndarray`` on the current GPU (a Variable is unwrapped).

    Raises
    ------
    RuntimeError
        When CuPy is not installed or no CUDA device works; the message names the
        wheel to install (``pip install cupy-cuda12x`` for CUDA 12).
    """
    return backend.to_gpu(x)


def __getattr__(name: str):
    """``cuda.cupy`` (DeZero's alias of the imported CuPy), imported on first use."""
    if name in ("cupy", "cp"):
        return backend.require_cupy()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
