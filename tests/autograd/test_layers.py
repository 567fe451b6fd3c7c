"""Autograd layers: registration and order, Linear, Conv2d, Deconv2d, RNN, LSTM, EmbedID,
BatchNorm, save/load weights."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import framework.autograd.functions as F
from framework.autograd import Layer, Parameter, Variable
from framework.autograd.layers import (
    LSTM,
    RNN,
    BatchNorm,
    Conv2d,
    Deconv2d,
    EmbedID,
    Linear,
)
from framework.autograd.models import MLP
from tests.helpers import check_backward


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


# -- DeZero's other layers ------------------------------------------------------------
def _names(layer):
    names = {}
    layer._flatten_params(names)
    return names


def _to_float64(layer):
    for p in layer.params():
        p.data = p.data.astype(np.float64)
    return layer


def test_weights_without_rng_come_from_numpys_global_state():
    # The books' legacy global RNG, on purpose.
    np.random.seed(0)  # noqa: NPY002
    a, b = Linear(3, in_size=4), Linear(3, in_size=4)
    np.random.seed(0)  # noqa: NPY002
    expected = np.random.randn(4, 3).astype(np.float32) * np.sqrt(1 / 4)  # noqa: NPY002 (DeZero's)
    np.testing.assert_allclose(a.W.data, expected, rtol=1e-7)
    assert a.W.dtype == np.float32 and not np.array_equal(a.W.data, b.W.data)


def test_deconv2d_layer_upsamples(rng):
    layer = Deconv2d(5, kernel_size=4, stride=2, pad=1, rng=rng)
    y = layer(rng.standard_normal((2, 3, 6, 7)).astype(np.float32))
    assert y.shape == (2, 5, 12, 14) and y.dtype == np.float32
    assert layer.W.shape == (3, 5, 4, 4) and list(_names(layer)) == ["W", "b"]


def test_conv2d_layer_takes_pairs(rng):
    layer = Conv2d(2, kernel_size=(3, 2), stride=(3, 1), pad=(1, 0), rng=rng)
    assert layer(rng.standard_normal((1, 1, 7, 5))).shape == (1, 2, 3, 4)


def test_rnn_steps_and_parameter_names(rng):
    rnn = _to_float64(RNN(4, in_size=3))  # in_size != hidden_size works (DeZero's fails)
    assert list(_names(rnn)) == ["x2h/W", "x2h/b", "h2h/W"]
    xs = rng.standard_normal((3, 2, 3))
    Wx, bx, Wh = rnn.x2h.W.data, rnn.x2h.b.data, rnn.h2h.W.data
    h = np.tanh(xs[0] @ Wx + bx)
    np.testing.assert_allclose(rnn(xs[0]).data, h, rtol=1e-12)
    h = np.tanh(xs[1] @ Wx + bx + h @ Wh)
    np.testing.assert_allclose(rnn(xs[1]).data, h, rtol=1e-12)
    rnn.reset_state()
    assert rnn.h is None


def test_rnn_infers_sizes_lazily():
    rnn = RNN(5)
    assert rnn.x2h.W.data is None and rnn.h2h.W.data is None
    rnn(np.ones((1, 2), dtype=np.float32))
    rnn(np.ones((1, 2), dtype=np.float32))
    assert rnn.x2h.W.shape == (2, 5) and rnn.h2h.W.shape == (5, 5)


def test_lstm_parameter_names_and_first_step():
    lstm = LSTM(3, in_size=2)
    gates = ["x2f", "x2i", "x2o", "x2u"]
    expected = [f"{g}/{p}" for g in gates for p in ("W", "b")]
    expected += [f"{g}/W" for g in ["h2f", "h2i", "h2o", "h2u"]]
    assert list(_names(lstm)) == expected
    _to_float64(lstm)
    x = np.array([[0.5, -1.0]])

    def sig(a):
        return 1 / (1 + np.exp(-a))

    i = sig(x @ lstm.x2i.W.data + lstm.x2i.b.data)
    o = sig(x @ lstm.x2o.W.data + lstm.x2o.b.data)
    u = np.tanh(x @ lstm.x2u.W.data + lstm.x2u.b.data)
    np.testing.assert_allclose(lstm(x).data, o * np.tanh(i * u), rtol=1e-12)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_recurrent_backprop_through_time_matches_numerical_gradient(cls, rng):
    layer = _to_float64(cls(3, in_size=2))
    xs = rng.standard_normal((4, 2, 2))
    params = [p.data for p in layer.params()]

    def forward():
        layer.reset_state()
        return np.stack([layer(x).data for x in xs])

    def backward(g):
        layer.reset_state()
        layer.cleargrads()
        hs = [layer(x) for x in xs]
        sum(F.sum(h * gi) for h, gi in zip(hs, g, strict=True)).backward()
        return [p.grad.data for p in layer.params()]

    check_backward(forward, backward, params, rng)


def _torch_cell(torch, layer, xs):
    """Run ``xs`` through PyTorch's RNNCell/LSTMCell holding ``layer``'s weights."""
    nn = torch.nn
    T = torch.tensor
    if isinstance(layer, RNN):
        cell = nn.RNNCell(2, 3).double()
        weights = [layer.x2h.W.data.T, layer.h2h.W.data.T, layer.x2h.b.data, np.zeros(3)]
    else:
        cell = nn.LSTMCell(2, 3).double()
        order = ["i", "f", "u", "o"]  # PyTorch's gate order (i, f, g, o)
        weights = [
            np.concatenate([getattr(layer, f"x2{g}").W.data.T for g in order]),
            np.concatenate([getattr(layer, f"h2{g}").W.data.T for g in order]),
            np.concatenate([getattr(layer, f"x2{g}").b.data for g in order]),
            np.zeros(12),
        ]
    with torch.no_grad():
        params = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
        for p, w in zip(params, weights, strict=True):
            p.copy_(T(w))
    tx = T(xs, requires_grad=True)
    state, hs = None, []
    for t in range(len(xs)):
        state = cell(tx[t], state)
        hs.append(state if isinstance(layer, RNN) else state[0])
    return tx, torch.stack(hs)


@pytest.mark.reference
@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_recurrent_layers_match_pytorch_cells(cls, rng):
    torch = pytest.importorskip("torch")
    layer = _to_float64(cls(3, in_size=2))
    xs = rng.standard_normal((4, 5, 2))
    g = rng.standard_normal((4, 5, 3))
    vx = [Variable(x) for x in xs]
    hs = [layer(x) for x in vx]
    sum(F.sum(h * gi) for h, gi in zip(hs, g, strict=True)).backward()
    tx, ths = _torch_cell(torch, layer, xs)
    (ths * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(np.stack([h.data for h in hs]), ths.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.stack([x.grad.data for x in vx]), tx.grad.numpy(), rtol=1e-9)


def test_unchain_backward_truncates_the_history(rng):
    lstm = LSTM(3, in_size=2)
    x0 = Variable(rng.standard_normal((1, 2)).astype(np.float32))
    lstm(x0)
    h = lstm(rng.standard_normal((1, 2)).astype(np.float32))
    h.unchain_backward()
    lstm.c.unchain_backward()
    F.sum(lstm(rng.standard_normal((1, 2)).astype(np.float32))).backward()
    assert x0.grad is None  # the graph behind the cut is gone
    assert lstm.x2f.W.grad is not None


def test_embed_id_rows_and_gradients(rng):
    np.random.seed(3)  # noqa: NPY002 (DeZero draws W from the global state)
    emb = EmbedID(5, 3)
    np.random.seed(3)  # noqa: NPY002
    np.testing.assert_array_equal(emb.W.data, np.random.randn(5, 3).astype(np.float32))  # noqa: NPY002
    ids = np.array([[1, 4], [1, 0]])
    y = emb(ids)
    assert y.shape == (2, 2, 3)
    np.testing.assert_array_equal(y.data, emb.W.data[ids])
    g = rng.standard_normal((2, 2, 3)).astype(np.float32)
    y.backward(grad=g)
    expected = np.zeros((5, 3), dtype=np.float32)
    np.add.at(expected, ids, g)  # id 1 twice: both rows add up
    np.testing.assert_allclose(emb.W.grad.data, expected, rtol=1e-6)
    assert EmbedID(4, 2, dtype=np.float64, rng=rng).W.dtype == np.float64


def test_batchnorm_layer_infers_sizes_and_switches_mode(rng):
    from framework.autograd import test_mode

    bn = BatchNorm()
    x = rng.normal(2.0, 3.0, (50, 4, 3, 3)).astype(np.float32)
    y = bn(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert list(_names(bn)) == ["avg_mean", "avg_var", "gamma", "beta"]
    np.testing.assert_allclose(y.data.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(bn.avg_mean.data, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-5)
    with test_mode():
        y_test = bn(x[:2]).data
    inv_std = 1 / np.sqrt(bn.avg_var.data + 2e-5)
    expected = (x[:2] - bn.avg_mean.data[:, None, None]) * inv_std[:, None, None]
    np.testing.assert_allclose(y_test, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"BatchNorm.forward: expected x of shape \(N, C\)"):
        BatchNorm()(np.zeros(3))


def test_batchnorm_trains_on_a_batch_of_one():
    y = BatchNorm()(np.array([[1.0, -2.0]]))
    assert np.isfinite(y.data).all()


def test_a_layer_keeps_weak_references_to_its_last_inputs_and_outputs(rng):
    """DeZero's Grad-CAM example reads ``model.conv5_3.outputs[0]()``."""
    import gc

    conv = Conv2d(2, kernel_size=3, pad=1, rng=rng)
    x = Variable(rng.standard_normal((1, 1, 4, 4)))
    y = conv(x)
    assert conv.outputs[0]() is y and conv.inputs[0]() is x
    assert list(_names(conv)) == ["W", "b"]  # the references are not parameters
    del y
    gc.collect()
    assert conv.outputs[0]() is None  # weak: the layer keeps no graph alive
    emb = EmbedID(3, 2, rng=rng)
    assert emb(1).shape == (2,) and emb.inputs[0]() == 1  # an int has no weak reference
