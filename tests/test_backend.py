"""Tests for framework.backend: array-module dispatch and CPU/GPU moves without CuPy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from framework import backend
from framework.backend import (
    as_numpy,
    get_array_module,
    gpu_available,
    scatter_add,
    to_cpu,
    to_device,
    to_gpu,
)


@pytest.fixture
def no_cupy(monkeypatch):
    """Make ``import cupy`` fail, as on a machine without CuPy."""
    monkeypatch.setitem(sys.modules, "cupy", None)


def test_get_array_module_numpy_for_arrays_and_scalars():
    assert get_array_module(np.zeros(3)) is np
    assert get_array_module(np.float32(1.5)) is np
    assert get_array_module(2.0) is np
    assert get_array_module(3) is np
    assert get_array_module(np.zeros(2), 1.0, np.ones((2, 2))) is np


def test_get_array_module_works_without_cupy(no_cupy):
    assert get_array_module(np.ones(2)) is np


def test_get_array_module_unwraps_variable_like_objects():
    class FakeVariable:
        def __init__(self, data):
            self.data = data
            self.creator = None

    assert get_array_module(FakeVariable(np.ones(2))) is np
    assert backend._unwrap(FakeVariable(np.arange(3))).tolist() == [0, 1, 2]


def test_to_cpu_returns_the_same_numpy_array():
    x = np.arange(6.0).reshape(2, 3)
    assert to_cpu(x) is x
    assert as_numpy is to_cpu


def test_to_cpu_converts_scalars_and_lists():
    s = to_cpu(2.5)
    assert isinstance(s, np.ndarray) and s.shape == () and float(s) == 2.5
    np.testing.assert_array_equal(to_cpu([1, 2, 3]), np.array([1, 2, 3]))


def test_to_gpu_without_cupy_raises_runtime_error_with_install_hint(no_cupy):
    with pytest.raises(RuntimeError, match=r"CuPy is not installed.*pip install cupy-cuda12x"):
        to_gpu(np.zeros(3))
    with pytest.raises(RuntimeError, match=r"\[gpu\]"):
        to_device(np.zeros(3), "gpu")


def test_gpu_available_false_here(no_cupy):
    assert gpu_available() is False


def test_gpu_available_is_false_on_this_machine():
    # No CUDA device on the test machine; skip where one is (the gpu-marked tests run there).
    if gpu_available():
        pytest.skip("a GPU is present")
    assert gpu_available() is False


def test_to_device_cpu_and_bad_name():
    x = np.ones(2)
    assert to_device(x, "cpu") is x
    with pytest.raises(ValueError, match=r"to_device: expected device 'cpu' or 'gpu', got 'tpu'"):
        to_device(x, "tpu")


def test_scatter_add_sums_repeated_indices(xp):
    a = xp.zeros(4)
    out = scatter_add(a, xp.asarray([0, 2, 2, 2]), xp.asarray([1.0, 2.0, 3.0, 4.0]))
    assert out is a
    np.testing.assert_array_equal(to_cpu(a), [1.0, 0.0, 9.0, 0.0])


def test_round_trip_through_the_backend(xp):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    moved = xp.asarray(x)
    assert get_array_module(moved) is xp
    back = to_cpu(moved)
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    np.testing.assert_array_equal(back, x)


def test_import_framework_needs_only_numpy():
    heavy = ("matplotlib", "tqdm", "pooch", "cupy", "graphviz", "torch")
    code = f"import sys, framework\nprint(','.join(m for m in {heavy!r} if m in sys.modules))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "", f"import framework imported: {result.stdout.strip()}"


def test_import_framework_leaves_the_computation_graph_unloaded():
    code = (
        "import sys, framework\n"
        "print(sorted(m for m in sys.modules if m.startswith('framework.autograd')))\n"
        "from framework.layers import FunctionLayer\n"
        "print('framework.autograd.core' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split("\n")[:2] == ["[]", "True"], result.stdout
