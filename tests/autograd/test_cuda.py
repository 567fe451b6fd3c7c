"""DeZero's ``cuda`` names over ``framework.backend``: NumPy always, CuPy where present."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from framework.autograd import Variable, cuda
from framework.backend import gpu_available

pytestmark = pytest.mark.filterwarnings("error")


def test_gpu_enable_says_whether_cupy_is_installed():
    assert cuda.gpu_enable is (importlib.util.find_spec("cupy") is not None)


def test_importing_cuda_does_not_import_cupy():
    code = "import sys, framework.autograd.cuda; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_numpy_arrays_and_variables_are_numpy():
    a = np.arange(3.0)
    assert cuda.get_array_module(a) is np
    assert cuda.get_array_module(Variable(a)) is np
    assert cuda.as_numpy(a) is a
    assert cuda.as_numpy(Variable(a)) is a
    s = cuda.as_numpy(2.5)
    assert isinstance(s, np.ndarray) and s.shape == () and s == 2.5


@pytest.mark.skipif(gpu_available(), reason="checks the message given without a GPU")
def test_without_a_gpu_as_cupy_and_cuda_cupy_say_what_to_install():
    with pytest.raises(RuntimeError, match="cupy-cuda12x"):
        cuda.as_cupy(np.ones(2))
    with pytest.raises(RuntimeError, match="cupy-cuda12x"):
        cuda.cupy  # noqa: B018  (DeZero's DataLoader reads this attribute)


def test_unknown_attributes_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'cupyx'"):
        cuda.cupyx  # noqa: B018


@pytest.mark.gpu
def test_round_trip_through_the_gpu():
    if not gpu_available():
        pytest.skip("CuPy with a CUDA device is not available")
    import cupy

    a = np.arange(6.0).reshape(2, 3)
    g = cuda.as_cupy(Variable(a))
    assert isinstance(g, cupy.ndarray)
    assert cuda.get_array_module(g) is cupy
    assert cuda.get_array_module(Variable(g)) is cupy
    assert cuda.cupy is cupy
    np.testing.assert_array_equal(cuda.as_numpy(g), a)
