"""Tests for framework.net.Sequential: params, backprop vs numerical, predict, save/load."""

from __future__ import annotations

import os
import pickle
import re

import numpy as np
import pytest

import framework.net
from framework.backend import to_cpu
from framework.gradient import relative_error
from framework.layers import Affine, MeanSquaredError, Relu, Sigmoid, Tanh
from framework.net import Sequential
from framework.optimizers import SGD


def mlp(rng, sizes=(4, 5, 3), dtype="float32"):
    """Affine-Relu-...-Affine with the given layer widths."""
    layers = []
    for i, (d, m) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if i:
            layers.append(Relu())
        layers.append(Affine(d, m, init="xavier", rng=rng, dtype=dtype))
    return Sequential(layers)


def batch(rng, n=6, d=4, classes=3, dtype=np.float32):
    return rng.standard_normal((n, d)).astype(dtype), rng.integers(0, classes, n)


def snapshot(net):
    return {k: v.copy() for k, v in net.params.items()}


def assert_params_equal(net, saved):
    assert set(net.params) == set(saved)
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, saved[k], err_msg=k)


# -- parameters --------------------------------------------------------------------


def test_param_keys_follow_layer_indices(rng):
    net = mlp(rng, (4, 5, 6, 3))
    assert list(net.params) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert list(net.grads) == list(net.params)
    assert net.params["2.W"] is net.layers[2].W
    assert net.grads["0.b"] is net.layers[0].db


def test_nested_sequential_keys(rng):
    inner = Sequential([Affine(5, 5, rng=rng), Relu()])
    net = Sequential([Affine(4, 5, rng=rng), inner, Affine(5, 3, rng=rng)])
    assert list(net.params) == ["0.W", "0.b", "1.0.W", "1.0.b", "2.W", "2.b"]
    assert net.params["1.0.W"] is inner.layers[0].W


def test_nested_sequential_backprop_matches_numerical(rng):
    inner = Sequential([Affine(5, 4, rng=rng, dtype="float64"), Tanh()])
    net = Sequential(
        [Affine(4, 5, rng=rng, dtype="float64"), Sigmoid(), inner, Affine(4, 3, dtype="float64")]
    )
    x, t = batch(rng, dtype=np.float64)
    analytic = {k: g.copy() for k, g in net.gradient(x, t).items()}
    numeric = net.numerical_gradient(x, t)
    assert set(analytic) == {"0.W", "0.b", "2.0.W", "2.0.b", "3.W", "3.b"}
    for k in analytic:
        assert relative_error(analytic[k], numeric[k]) < 1e-7, k


def test_nested_sequential_first(rng):
    inner = Sequential([Affine(4, 5, rng=rng, dtype="float64"), Tanh()])
    net = Sequential([inner, Affine(5, 3, rng=rng, dtype="float64")])
    x, t = batch(rng, dtype=np.float64)
    analytic = {k: g.copy() for k, g in net.gradient(x, t).items()}
    numeric = net.numerical_gradient(x, t)
    for k in analytic:
        assert relative_error(analytic[k], numeric[k]) < 1e-7, k


def test_params_stay_the_layers_arrays_after_an_optimizer_step(rng):
    net = mlp(rng)
    before = snapshot(net)
    assert net.params["0.W"] is net.layers[0].W
    x, t = batch(rng)
    SGD(lr=0.1).update(net.params, net.gradient(x, t))
    assert net.params["0.W"] is net.layers[0].W
    assert net.params["2.b"] is net.layers[2].b
    assert not np.array_equal(net.layers[0].W, before["0.W"])


# -- backprop against numerical gradients ------------------------------------------


@pytest.mark.parametrize("loss", [None, MeanSquaredError()])
def test_gradient_equals_numerical_gradient(loss, rng):
    layers = [Affine(4, 5, rng=rng, dtype="float64"), Relu(), Affine(5, 3, dtype="float64")]
    layers[2].W[...] = rng.standard_normal((5, 3))
    layers[2].b[...] = rng.standard_normal(3)
    net = Sequential(layers, loss=loss)
    x, t = batch(rng, dtype=np.float64)
    if loss is not None:
        t = rng.standard_normal((6, 3))
    analytic = {k: g.copy() for k, g in net.gradient(x, t).items()}
    numeric = net.numerical_gradient(x, t)
    assert list(numeric) == list(net.params)
    for k in analytic:
        assert numeric[k].shape == net.params[k].shape
        assert relative_error(analytic[k], numeric[k]) < 1e-7, k


def test_backward_after_loss_returns_none_and_float32_grads(rng):
    net = mlp(rng)
    x, t = batch(rng)
    net.loss(x, t, train=True)
    assert net.backward() is None  # the first Affine skips dx
    assert all(g.dtype == np.float32 for g in net.grads.values())


def test_train_flag_reaches_layers_that_take_it(rng):
    class Recorder:
        def __init__(self):
            self.modes = []

        def forward(self, x, train=True):
            self.modes.append(train)
            return x

        def backward(self, dout):
            return dout

    rec = Recorder()
    net = Sequential([Affine(4, 3, rng=rng), rec])
    x, t = batch(rng)
    net.gradient(x, t)
    net.predict(x)
    net.loss(x, t)
    assert rec.modes == [True, False, False]


# -- predict and accuracy ----------------------------------------------------------


def test_predict_in_batches_equals_one_go(rng):
    net = mlp(rng, dtype="float64")
    x = rng.standard_normal((25, 4))
    whole = net.predict(x)
    batched = net.predict(x, batch_size=7)
    assert batched.shape == (25, 3)
    np.testing.assert_allclose(batched, whole, rtol=1e-12, atol=1e-14)


def test_accuracy_labels_one_hot_and_batched():
    # An identity net: the prediction is the argmax of x itself.
    net = Sequential([Affine(np.eye(3), np.zeros(3))])
    x = np.array([[3.0, 0, 0], [0, 2, 0], [0, 0, 1], [1, 0, 0], [0, 5, 0]])
    t = np.array([0, 1, 0, 0, 2])  # rows 2 and 4 are wrong
    assert net.accuracy(x, t) == pytest.approx(0.6)
    assert net.accuracy(x, np.eye(3)[t]) == pytest.approx(0.6)
    assert net.accuracy(x, t, batch_size=2) == pytest.approx(0.6)
    assert net.accuracy(x, np.eye(3)[t], batch_size=3) == pytest.approx(0.6)


def test_accuracy_reads_a_column_of_labels_as_class_indices():
    net = Sequential([Affine(np.eye(3), np.zeros(3))])
    x = np.array([[3.0, 0, 0], [0, 2, 0], [0, 0, 1], [1, 0, 0], [0, 5, 0]])
    t = np.array([0, 1, 0, 0, 2])
    assert net.accuracy(x, t.reshape(-1, 1)) == pytest.approx(0.6)
    assert net.accuracy(x, t.reshape(-1, 1), batch_size=2) == pytest.approx(0.6)
    with pytest.raises(ValueError, match=r"Sequential.accuracy: expected t as class indices"):
        net.accuracy(x, np.zeros((5, 2)))


def test_gradient_returns_arrays_the_next_call_leaves_intact(rng):
    net = mlp(rng)
    a, b = batch(rng), batch(rng)
    g1 = net.gradient(*a)
    kept = {k: v.copy() for k, v in g1.items()}
    g2 = net.gradient(*b)
    for k in g1:
        np.testing.assert_array_equal(g1[k], kept[k])  # not overwritten by the second call
        assert not np.array_equal(g1[k], g2[k])
        assert net.grads[k] is g2[k]  # grads are the layers' arrays of the moment


def test_book_habit_float64_weights_and_float32_images_give_float64_numbers(rng):
    W1, W2 = 0.01 * rng.standard_normal((4, 5)), 0.01 * rng.standard_normal((5, 3))
    net = Sequential([Affine(W1, np.zeros(5)), Relu(), Affine(W2, np.zeros(3))])
    x, t = batch(rng)  # float32 images
    ref = Sequential([Affine(W1, np.zeros(5)), Relu(), Affine(W2, np.zeros(3))])
    assert net.loss(x, t) == ref.loss(x.astype(np.float64), t)
    grads = net.gradient(x, t)
    assert all(g.dtype == np.float64 for g in grads.values())


def test_float32_net_stays_float32_with_float64_input(rng):
    net = mlp(rng)
    x, t = batch(rng, dtype=np.float64)
    assert net.predict(x).dtype == np.float32
    assert all(g.dtype == np.float32 for g in net.gradient(x, t).values())


def test_accuracy_rejects_mismatched_lengths(rng):
    net = mlp(rng)
    with pytest.raises(
        ValueError, match=r"Sequential\.accuracy: x has 5 samples but t has 4; they must"
    ):
        net.accuracy(np.zeros((5, 4), np.float32), np.zeros(4, int))
    with pytest.raises(ValueError, match=r"Sequential\.accuracy: x holds no samples"):
        net.accuracy(np.zeros((0, 4), np.float32), np.zeros(0, int))


def test_sequential_rejects_a_non_layer(rng):
    with pytest.raises(TypeError, match=r"Sequential: layer 1 \(int\) has no forward/backward"):
        Sequential([Affine(4, 3, rng=rng), 3])


def test_net_on_the_xp_backend(xp, rng):
    net = mlp(rng, dtype="float64")
    x_host, t_host = batch(rng, dtype=np.float64)
    want = net.predict(x_host)
    for layer in net.layers:
        for name, p in getattr(layer, "params", {}).items():
            setattr(layer, name, xp.asarray(p))
        if hasattr(layer, "W"):
            layer.dW, layer.db = xp.zeros_like(layer.W), xp.zeros_like(layer.b)
    np.testing.assert_allclose(to_cpu(net.predict(xp.asarray(x_host))), want, rtol=1e-10)
    grads = net.gradient(xp.asarray(x_host), xp.asarray(t_host))
    assert all(to_cpu(g).shape == to_cpu(net.params[k]).shape for k, g in grads.items())


# -- summary -------------------------------------------------------------------------


def test_summary_lists_layers_shapes_and_counts(rng):
    net = mlp(rng, (4, 5, 3))
    printed = []
    text = net.summary(print_fn=printed.append)
    assert printed == [text]
    lines = text.splitlines()
    assert re.search(r"^0\s+Affine\s+\(N, 5\)\s+25$", text, re.M), text
    assert re.search(r"^1\s+Relu\s+\(N, 5\)\s+0$", text, re.M), text
    assert re.search(r"^2\s+Affine\s+\(N, 3\)\s+18$", text, re.M), text
    assert re.search(r"input\s+\(N, 4\)", text), text
    assert "SoftmaxWithLoss" in text
    assert lines[-1] == "total parameters: 43"


def test_summary_with_input_shape_and_big_counts(rng):
    net = Sequential([Affine(784, 1000, rng=rng)])
    text = net.summary((1, 28, 28), print_fn=lambda s: None)
    assert re.search(r"input\s+\(N, 1, 28, 28\)", text)
    assert "785,000" in text and text.endswith("total parameters: 785,000")


def test_summary_needs_input_shape_without_a_first_affine():
    with pytest.raises(ValueError, match=r"Sequential\.summary: cannot guess the input shape"):
        Sequential([Relu()]).summary(print_fn=lambda s: None)


# -- save and load -------------------------------------------------------------------


def test_save_load_round_trip(rng, tmp_path):
    net = mlp(rng)
    path = tmp_path / "weights.npz"
    net.save(path)
    other = mlp(np.random.default_rng(99))
    ids = {k: id(v) for k, v in other.params.items()}
    other.load(path)
    assert_params_equal(other, snapshot(net))
    assert {k: id(v) for k, v in other.params.items()} == ids  # loaded in place
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == sorted(net.params)
    assert os.listdir(tmp_path) == ["weights.npz"]


def test_save_and_load_never_pickle(rng, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    for name in ("dump", "dumps", "load", "loads"):
        monkeypatch.setattr(pickle, name, refuse)
    net = mlp(rng)
    kept = snapshot(net)
    net.save(tmp_path / "w.npz")
    net.load(tmp_path / "w.npz")
    assert_params_equal(net, kept)


def test_save_is_atomic(rng, tmp_path, monkeypatch):
    net = mlp(rng)
    path = tmp_path / "weights.npz"
    net.save(path)
    old_bytes = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(framework.net.np, "savez", broken_savez)
    for p in net.params.values():
        p += 1.0
    with pytest.raises(OSError, match="disk full"):
        net.save(path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["weights.npz"]


BAD_FILES = {
    "shape": r"2\.W: expected \(5, 3\) float32, got \(5, 4\) float32",
    "dtype": r"0\.b: expected \(5,\) float32, got \(5,\) float64",
    "missing": r"missing \['2\.b'\]",
    "extra": r"unexpected \['4\.W'\]",
    "pickle": r"not a readable \.npz weights file \(Object arrays cannot be loaded",
    "truncated": r"not a readable \.npz weights file.*truncated or corrupt",
    "noise": r"not a readable \.npz weights file",
    "npy": r"not a readable \.npz weights file \(it holds a single array",
}


def write_bad_file(case, good, tmp_path, rng):
    """Write a weights file that differs from ``good`` as ``case`` says; return its path."""
    path = tmp_path / f"{case}.npz"
    changed = {
        "shape": {**good, "2.W": np.zeros((5, 4), np.float32)},
        "dtype": {**good, "0.b": good["0.b"].astype(np.float64)},
        "missing": {k: v for k, v in good.items() if k != "2.b"},
        "extra": {**good, "4.W": np.zeros((3, 3), np.float32)},
        "pickle": {**good, "0.W": np.array([1, "a"], dtype=object)},
    }
    if case in changed:
        np.savez(path, **changed[case])
    elif case == "truncated":
        np.savez(path, **good)
        path.write_bytes(path.read_bytes()[:-40])
    elif case == "noise":
        path.write_bytes(rng.integers(0, 256, 2000, dtype=np.uint8).tobytes())
    elif case == "npy":
        path = tmp_path / "single.npy"
        np.save(path, good["0.W"])
    return path


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_load_rejects_bad_files_and_leaves_the_net_unchanged(case, rng, tmp_path):
    net = mlp(rng)
    good = snapshot(net)
    for p in net.params.values():  # make the net differ from the file's arrays
        p += 2.0
    kept = snapshot(net)
    path = write_bad_file(case, good, tmp_path, rng)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + BAD_FILES[case]):
        net.load(path)
    assert_params_equal(net, kept)


def test_load_missing_file(rng, tmp_path):
    with pytest.raises(FileNotFoundError):
        mlp(rng).load(tmp_path / "nope.npz")
