"""Shared fixtures: a seeded ``rng``, the ``xp`` backend fixture, hypothesis profile."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

from framework.backend import gpu_available

settings.register_profile("ci", deadline=None, max_examples=50, derandomize=True)
settings.register_profile("dev", deadline=None, max_examples=30)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


@pytest.fixture
def fashion_mnist_dir():
    """The folder of the full Fashion-MNIST; skips without it, but fails on CI."""
    from pathlib import Path

    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    names += ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    folder = Path(FASHION_DIR)
    if not all((folder / name).is_file() for name in names):
        message = f"the full Fashion-MNIST is not in {folder}"
        if os.environ.get("CI"):
            pytest.fail(
                f"{message}: CI must install the Debian package dataset-fashion-mnist "
                "(apt-get install dataset-fashion-mnist)"
            )
        pytest.skip(f"{message} (apt-get install dataset-fashion-mnist)")
    return folder


@pytest.fixture
def rng():
    """A fresh, seeded generator for each test."""
    return np.random.default_rng(1234)


def _cupy_or_skip():
    if not gpu_available():
        pytest.skip("CuPy with a CUDA device is not available")
    import cupy

    return cupy


@pytest.fixture(params=["numpy", pytest.param("cupy", marks=pytest.mark.gpu)])
def xp(request):
    """The array module under test: NumPy always, CuPy where a GPU is present."""
    if request.param == "numpy":
        return np
    return _cupy_or_skip()
