"""Autograd layers: parameter registration and order, Linear, Conv2d, save/load weights."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import framework.autograd.functions as F
from framework.autograd import Layer, Parameter, Variable
from framework.autograd.layers import Conv2d, Linear
from framework.autograd.models import MLP


class Block(Layer):
    def __init__(self):
        super().__init__()
        self.b = Parameter(np.zeros(2), name="b")
        self.scale = 3.0  # not a parameter
        self.W = Parameter(np.ones((2, 2)), name="W")
        self.inner = Linear(2, in_size=2)

    def forward(self, x):
        return self.inner(x @ self.W + self.b)


def test_parameters_are_found_by_attribute_in_assignment_order():
    block = Block()
    names = {}
    block._flatten_params(names)
    assert list(names) == ["b", "W", "inner/W", "inner/b"]
    assert [p.name for p in block.params()] == ["b", "W", "W", "b"]
    assert next(iter(block.params())) is block.b
    block.b = None  # no longer a parameter
    assert [p.name for p in block.params()] == ["W", "W", "b"]


def test_cleargrads_and_gradients_reach_nested_layers(rng):
    block = Block()
    F.sum(block(rng.standard_normal((3, 2)).astype(np.float32))).backward()
    assert all(p.grad is not None for p in block.params())
    block.cleargrads()
    assert all(p.grad is None for p in block.params())


def test_forgetting_super_init_is_a_clear_error():
    class Broken(Layer):
        def __init__(self):
            self.W = Parameter(np.zeros(2))

    with pytest.raises(RuntimeError, match=r"Broken: call super\(\).__init__\(\)"):
        Broken()


def test_parameter_order_is_stable_across_hash_seeds():
    code = textwrap.dedent(
        """
        import numpy as np
        from framework.autograd import Layer, Parameter
        from framework.autograd.models import MLP

        class Net(Layer):
            def __init__(self):
                super().__init__()
                for name in ["gamma", "beta", "W", "b", "alpha", "omega"]:
                    setattr(self, name, Parameter(np.zeros(1), name=name))
                self.mlp = MLP((3, 2))

        names = {}
        Net()._flatten_params(names)
        print(",".join(names))
        """
    )
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr[-2000:]
        outputs.add(out.stdout.strip())
    assert outputs == {"gamma,beta,W,b,alpha,omega,mlp/l0/W,mlp/l0/b,mlp/l1/W,mlp/l1/b"}


# -- Linear and Conv2d -----------------------------------------------------------------
def test_linear_infers_its_input_size_and_keeps_float32(rng):
    layer = Linear(50, rng=np.random.default_rng(0))
    assert layer.W.data is None and layer.b.data.dtype == np.float32
    y = layer(rng.standard_normal((4, 400)).astype(np.float32))
    assert y.shape == (4, 50) and y.dtype == np.float32
    assert layer.in_size == 400 and layer.W.shape == (400, 50)
    assert layer.W.dtype == layer.b.dtype == np.float32  # no NEP 50 drift to float64
    assert layer.W.data.std() == pytest.approx(np.sqrt(1 / 400), rel=0.05)
    again = Linear(50, in_size=400, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again.W.data, layer.W.data)  # the same rng, the same W


def test_linear_options_and_errors(rng):
    layer = Linear(3, nobias=True, dtype=np.float64, in_size=2)
    assert layer.b is None and [p.name for p in layer.params()] == ["W"]
    assert layer.W.dtype == np.float64
    with pytest.raises(ValueError, match=r"Linear.forward: expected x of shape \(N, D\)"):
        Linear(3)(np.zeros((2, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"linear: cannot multiply x of shape \(2, 5\)"):
        layer(np.zeros((2, 5)))


def test_conv2d_layer(rng):
    conv = Conv2d(4, kernel_size=3, stride=1, pad=1, rng=rng)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    y = conv(x)
    assert y.shape == (2, 4, 6, 6) and y.dtype == np.float32
    assert conv.W.shape == (4, 3, 3, 3) and conv.in_channels == 3
    F.sum(y).backward()
    assert conv.W.grad.shape == conv.W.shape and conv.b.grad.shape == (4,)
    np.testing.assert_allclose(conv.b.grad.data, 2 * 6 * 6)
    fixed = Conv2d(2, (2, 3), in_channels=3, nobias=True)
    assert fixed.W.shape == (2, 3, 2, 3) and fixed.b is None
    with pytest.raises(ValueError, match=r"Conv2d.forward: expected x of shape \(N, C, H, W\)"):
        Conv2d(2, 3)(np.zeros((2, 3)))


# -- save and load ----------------------------------------------------------------------
def _trained_mlp(rng):
    model = MLP((5, 3), rng=rng)
    model(rng.standard_normal((2, 4)).astype(np.float32))
    return model


def test_save_and_load_round_trip(tmp_path, rng):
    model = _trained_mlp(rng)
    path = tmp_path / "w.npz"
    model.save_weights(path)
    with np.load(path) as data:
        assert sorted(data.files) == ["l0/W", "l0/b", "l1/W", "l1/b"]
    fresh = MLP((5, 3), rng=np.random.default_rng(99))  # not yet sized: takes the file's
    fresh.load_weights(path)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(fresh(x).data, model(x).data)
    other = _trained_mlp(np.random.default_rng(7))
    W_array = other.l0.W.data
    other.load_weights(path)
    assert other.l0.W.data is W_array  # loaded in place
    np.testing.assert_array_equal(other(x).data, model(x).data)


def test_load_checks_everything_before_changing_anything(tmp_path, rng):
    model = _trained_mlp(rng)
    path = tmp_path / "w.npz"
    model.save_weights(path)
    wider = MLP((6, 3), rng=rng)
    wider(np.zeros((1, 4), np.float32))
    before = [p.data.copy() for p in wider.params()]
    with pytest.raises(ValueError, match=r"w.npz does not match this model: l0/W: expected"):
        wider.load_weights(path)
    for p, old in zip(wider.params(), before, strict=True):
        np.testing.assert_array_equal(p.data, old)
    np.savez(path, **{"l0/W": np.zeros((4, 5)), "extra": np.zeros(1)})
    expected = r"missing \['l0/b', 'l1/W', 'l1/b'\]; unexpected \['extra'\]"
    with pytest.raises(ValueError, match=expected):
        model.load_weights(path)
    with pytest.raises(ValueError, match=r"l0/W: expected \(4, 5\) float32, got \(4, 5\) float64"):
        model.load_weights(path)


def test_load_rejects_corrupt_and_pickled_files(tmp_path, rng):
    model = _trained_mlp(rng)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match=r"bad.npz is not a readable .npz weights file"):
        model.load_weights(bad)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{"l0/W": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ValueError, match="not a readable .npz"):
        model.load_weights(pickled)
    with pytest.raises(FileNotFoundError):
        model.load_weights(tmp_path / "absent.npz")


def test_a_failed_save_leaves_the_old_file(tmp_path, rng, monkeypatch):
    model = _trained_mlp(rng)
    path = tmp_path / "w.npz"
    model.save_weights(path)
    old = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["w.npz"]  # no temporary file left behind


def test_variables_and_parameters_accept_only_arrays():
    with pytest.raises(TypeError, match="numpy.ndarray, a cupy.ndarray or None"):
        Parameter([1.0, 2.0])
    assert Variable(None).data is None
