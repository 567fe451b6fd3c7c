"""Weights files: ``.npz`` written atomically and read back with every array checked.

Both kinds of net use these three functions: ``Sequential.save``/``load`` and the
autograd ``Layer.save_weights``/``load_weights``.  Nothing here uses pickle
(``allow_pickle=False``), a failed save leaves any old file intact, and a file
that does not match is refused before anything is changed.
"""

from __future__ import annotations

import os
import tempfile
import zipfile

import numpy as np

from .backend import to_cpu

__all__ = ["save_arrays", "load_arrays", "mismatches"]


def save_arrays(path, arrays: dict) -> None:
    """Write ``arrays`` (name -> array, CuPy ones copied to the host) to ``path`` atomically.

    The arrays go to a temporary file in the same folder, which then replaces
    ``path`` in one step (``os.replace``): a crash never leaves a half-written file.
    """
    arrays = {k: to_cpu(v) for k, v in arrays.items()}
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(
        dir=os.path.dirname(os.path.abspath(path)), prefix=".tmp-", suffix=".npz"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_arrays(path, owner: str) -> dict:
    """Read every array of the ``.npz`` file ``path``; ``owner`` names the caller in errors.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        When the file is not a readable ``.npz`` of named arrays (truncated,
        corrupt, a bare ``.npy``, or holding pickled objects).
    """
    path = os.fspath(path)
    try:
        data = np.load(path, allow_pickle=False)
        if not hasattr(data, "files"):  # np.save wrote one bare array, no names
            raise ValueError("it holds a single array (.npy), not named arrays")
        with data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise ValueError(
            f"{owner}: {path} is not a readable .npz weights file ({err}); "
            "it may be truncated or corrupt, save it again"
        ) from err


def mismatches(targets: dict, loaded: dict) -> list:
    """Describe how ``loaded`` differs from ``targets`` (names, shapes, dtypes); [] if it fits.

    A target of ``None`` (a parameter not sized yet) may be absent and takes any shape.
    """
    problems = []
    missing = sorted(k for k, v in targets.items() if k not in loaded and v is not None)
    unexpected = sorted(set(loaded) - set(targets))
    if missing:
        problems.append(f"missing {missing}")
    if unexpected:
        problems.append(f"unexpected {unexpected}")
    for k in sorted(set(targets) & set(loaded)):
        want, got = targets[k], loaded[k]
        if want is not None and (want.shape != got.shape or want.dtype != got.dtype):
            problems.append(
                f"{k}: expected {want.shape} {want.dtype}, got {got.shape} {got.dtype}"
            )
    return problems
