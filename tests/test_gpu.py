"""The GPU backend: the same code on CuPy, and clear errors where there is no GPU.

Tests marked ``gpu`` need CuPy and a CUDA device and are skipped elsewhere; the
others check, on any machine, what a user without a GPU sees.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import framework
from framework import backend
from framework.__main__ import main
from framework.layers import (
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Flatten,
    Pooling,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
)
from framework.models import mlp, simple_cnn
from framework.net import Sequential
from framework.optimizers import SGD, Adam
from framework.trainer import Trainer

# -- without a GPU: errors that say what to do ------------------------------------


@pytest.fixture
def no_cupy(monkeypatch):
    """Make ``import cupy`` fail, as on a machine without it."""
    monkeypatch.setitem(sys.modules, "cupy", None)


def test_to_gpu_without_cupy_names_the_wheel(no_cupy):
    with pytest.raises(RuntimeError, match=r"CuPy is not installed.*cupy-cuda12x"):
        framework.to_gpu(np.zeros(3))


def test_net_to_gpu_without_cupy_leaves_net_on_cpu(no_cupy, rng):
    net = mlp(rng=rng)
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        net.to_gpu()
    assert net.device == "cpu"
    assert all(isinstance(p, np.ndarray) for p in net.params.values())


def test_default_device_from_environment(monkeypatch, no_cupy):
    monkeypatch.delenv("FRAMEWORK_DEVICE", raising=False)
    assert backend.default_device() == "cpu"
    monkeypatch.setenv("FRAMEWORK_DEVICE", "CPU")
    assert backend.default_device() == "cpu"
    monkeypatch.setenv("FRAMEWORK_DEVICE", "gpu")
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        backend.default_device()
    monkeypatch.setenv("FRAMEWORK_DEVICE", "tpu")
    with pytest.raises(ValueError, match="expected 'cpu' or 'gpu', got 'tpu'"):
        backend.default_device()


def test_cli_gpu_flag_without_cupy_fails_fast(no_cupy, capsys):
    assert main(["train", "--sample", "--epochs", "1", "--gpu", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "CuPy is not installed" in err and "cupy-cuda12x" in err


def test_cpu_moves_are_no_ops(rng):
    net = mlp(rng=rng)
    before = {k: v.copy() for k, v in net.params.items()}
    opt = Adam()
    opt.update(net.params, {k: np.ones_like(v) for k, v in net.params.items()})
    assert net.to_cpu() is net and opt.to_cpu() is opt
    assert net.device == "cpu"
    for k, v in net.params.items():
        assert isinstance(v, np.ndarray)
        assert not np.array_equal(v, before[k])  # the Adam step happened
    with pytest.raises(ValueError, match="expected device 'cpu' or 'gpu'"):
        backend.move_arrays(net.layers[0], "tpu")


class _FakeDeviceArray(np.ndarray):
    """A NumPy array that a fake ``cupy`` module claims as its own."""


@pytest.fixture
def fake_cupy(monkeypatch):
    """Pretend CuPy is imported, owning ``_FakeDeviceArray`` (tests the dispatch logic)."""
    fake = types.ModuleType("cupy")
    fake.ndarray = _FakeDeviceArray

    def get_array_module(*xs):
        return fake if any(isinstance(x, _FakeDeviceArray) for x in xs) else np

    fake.get_array_module = get_array_module
    monkeypatch.setitem(sys.modules, "cupy", fake)
    return fake


def test_mixing_devices_names_the_layer_and_both_types(fake_cupy, rng):
    layer = Affine(4, 3, rng=rng)
    layer.W = layer.W.view(_FakeDeviceArray)  # the weights "on the GPU"
    x = rng.standard_normal((2, 4)).astype(np.float32)
    with pytest.raises(TypeError, match=r"Affine.forward: x is a numpy.ndarray \(CPU\)") as e:
        layer.forward(x)
    assert "_FakeDeviceArray (GPU)" in str(e.value) and "framework.to_gpu(x)" in str(e.value)
    layer.W = np.asarray(layer.W)
    with pytest.raises(TypeError, match=r"\(GPU\) but the layer's weights .* \(CPU\)"):
        layer.forward(x.view(_FakeDeviceArray))


def test_mixing_devices_in_convolution_and_batchnorm(fake_cupy, rng):
    conv = Convolution((2, 1, 3, 3), rng=rng)
    x = rng.standard_normal((2, 1, 5, 5)).astype(np.float32).view(_FakeDeviceArray)
    with pytest.raises(TypeError, match="Convolution.forward: x is a"):
        conv.forward(x)
    bn = BatchNormalization(np.ones(1, np.float32), np.zeros(1, np.float32))
    with pytest.raises(TypeError, match="BatchNormalization.forward: x is a"):
        bn.forward(x)


# -- on a GPU: every piece matches the CPU to float32 tolerance -------------------


@pytest.fixture
def cp():
    if not backend.gpu_available():
        pytest.skip("CuPy with a CUDA device is not available")
    import cupy

    return cupy


TOL = {"rtol": 1e-4, "atol": 1e-5}


def _layers(rng):
    """One of every hand-written layer, with float32 weights, and an input for it."""
    conv = simple_cnn(rng=rng).layers[0]
    return [
        (Relu(), (4, 6)),
        (Sigmoid(), (4, 6)),
        (Tanh(), (4, 6)),
        (Affine(6, 5, rng=rng), (4, 6)),
        (Affine(12, 5, rng=rng), (4, 3, 2, 2)),
        (conv, (2, 1, 28, 28)),
        (Pooling(2, 2, stride=2), (2, 3, 6, 6)),
        (Pooling(2, 2, stride=2, mode="average"), (2, 3, 6, 6)),
        (Flatten(), (2, 3, 2, 2)),
        (BatchNormalization(np.ones(3, np.float32), np.zeros(3, np.float32)), (4, 3, 2, 2)),
    ]


@pytest.mark.gpu
def test_every_layer_matches_cpu(cp, rng):
    for layer, shape in _layers(rng):
        x = rng.standard_normal(shape).astype(np.float32)
        takes_train = isinstance(layer, BatchNormalization)
        kw = {"train": True} if takes_train else {}
        out_cpu = layer.forward(x, **kw)
        g = rng.standard_normal(out_cpu.shape).astype(np.float32)
        dx_cpu = layer.backward(g)
        grads_cpu = {k: v.copy() for k, v in getattr(layer, "grads", {}).items()}
        backend.move_arrays(layer, "gpu")
        out_gpu = layer.forward(cp.asarray(x), **kw)
        dx_gpu = layer.backward(cp.asarray(g))
        name = type(layer).__name__
        assert isinstance(out_gpu, cp.ndarray), name
        np.testing.assert_allclose(cp.asnumpy(out_gpu), out_cpu, **TOL, err_msg=name)
        np.testing.assert_allclose(cp.asnumpy(dx_gpu), dx_cpu, **TOL, err_msg=name)
        for k, v in getattr(layer, "grads", {}).items():
            np.testing.assert_allclose(cp.asnumpy(v), grads_cpu[k], **TOL, err_msg=f"{name}.{k}")


@pytest.mark.gpu
def test_dropout_same_mask_on_both_devices(cp):
    x = np.ones((3, 5), np.float32)
    out_cpu = Dropout(0.5, rng=np.random.default_rng(0)).forward(x)
    out_gpu = Dropout(0.5, rng=np.random.default_rng(0)).forward(cp.asarray(x))
    np.testing.assert_array_equal(cp.asnumpy(out_gpu), out_cpu)


@pytest.mark.gpu
def test_softmax_with_loss_matches_cpu(cp, rng):
    x = rng.standard_normal((8, 10)).astype(np.float32)
    t = rng.integers(0, 10, 8)
    cpu, gpu = SoftmaxWithLoss(), SoftmaxWithLoss()
    assert gpu.forward(cp.asarray(x), cp.asarray(t)) == pytest.approx(cpu.forward(x, t), rel=1e-5)
    np.testing.assert_allclose(cp.asnumpy(gpu.backward()), cpu.backward(), **TOL)


@pytest.mark.gpu
@pytest.mark.parametrize("build", [mlp, simple_cnn])
def test_training_steps_match_cpu(cp, build):
    x = np.random.default_rng(1).random((20, 1, 28, 28), dtype=np.float32)
    t = np.random.default_rng(2).integers(0, 10, 20)
    cpu = build(rng=np.random.default_rng(0))
    gpu = build(rng=np.random.default_rng(0)).to_gpu()
    assert gpu.device == "gpu"
    opt_cpu, opt_gpu = Adam(), Adam()
    for _ in range(5):
        loss_cpu = cpu.loss(x, t, train=True)
        cpu.backward()
        opt_cpu.update(cpu.params, cpu.grads)
        loss_gpu = gpu.loss(cp.asarray(x), cp.asarray(t), train=True)
        gpu.backward()
        opt_gpu.update(gpu.params, gpu.grads)
        assert loss_gpu == pytest.approx(loss_cpu, rel=1e-4)
    for k, v in gpu.params.items():
        np.testing.assert_allclose(cp.asnumpy(v), cpu.params[k], rtol=1e-3, atol=1e-4)


@pytest.mark.gpu
def test_trainer_moves_batches_and_accuracy_takes_numpy(cp):
    rng = np.random.default_rng(0)
    x = rng.random((300, 784), dtype=np.float32)
    t = rng.integers(0, 10, 300)
    net = mlp(rng=np.random.default_rng(0)).to_gpu()
    trainer = Trainer(
        net, x, t, x, t, epochs=2, mini_batch_size=50, optimizer=SGD(lr=0.1), verbose=False
    )
    history = trainer.train()
    assert len(history["loss"]) == 12 and all(np.isfinite(history["loss"]))
    assert 0.0 <= net.accuracy(x, t) <= 1.0
    assert isinstance(net.predict(x), cp.ndarray)


@pytest.mark.gpu
def test_save_on_gpu_load_on_cpu_and_back(cp, tmp_path):
    gpu = mlp(rng=np.random.default_rng(0)).to_gpu()
    gpu.save(tmp_path / "w.npz")
    cpu = mlp(rng=np.random.default_rng(1))
    cpu.load(tmp_path / "w.npz")
    for k, v in gpu.params.items():
        np.testing.assert_array_equal(cp.asnumpy(v), cpu.params[k])
    cpu.save(tmp_path / "w2.npz")
    gpu2 = mlp(rng=np.random.default_rng(2)).to_gpu()
    gpu2.load(tmp_path / "w2.npz")
    for k, v in gpu2.params.items():
        assert isinstance(v, cp.ndarray)
        np.testing.assert_array_equal(cp.asnumpy(v), cpu.params[k])


@pytest.mark.gpu
def test_optimizer_state_moves_with_the_net(cp, rng):
    net = mlp(rng=rng)
    opt = Adam()
    opt.update(net.params, {k: np.ones_like(v) for k, v in net.params.items()})
    net.to_gpu()
    opt.to_gpu()
    opt.update(net.params, {k: cp.ones_like(v) for k, v in net.params.items()})
    assert all(isinstance(a, cp.ndarray) for st in opt.state.values() for a in st.values())


@pytest.mark.gpu
def test_cli_trains_on_gpu(cp, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--sample", "--epochs", "1", "--gpu", "--quiet", "--out", str(out)]) == 0
    net = mlp(rng=np.random.default_rng(0))
    net.load(out / "weights.npz")


@pytest.mark.gpu
def test_sequential_of_function_layer_on_gpu(cp, rng):
    from framework.autograd import Parameter
    from framework.layers import FunctionLayer

    W = Parameter(rng.standard_normal((4, 3)).astype(np.float32))
    layer = FunctionLayer(lambda x: x @ W, params={"W": W})
    net = Sequential([layer]).to_gpu()
    x = cp.asarray(rng.standard_normal((5, 4)).astype(np.float32))
    net.loss(x, cp.asarray(rng.integers(0, 3, 5)), train=True)
    net.backward()
    assert isinstance(net.grads["0.W"], cp.ndarray)
