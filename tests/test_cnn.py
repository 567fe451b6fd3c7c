"""Whole convolutional nets: gradient checks, ready-made CNNs, memory, benchmark, training."""

from __future__ import annotations

import importlib.util
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from framework.gradient import gradient_check
from framework.layers import (
    Affine,
    BatchNormalization,
    Convolution,
    Flatten,
    Pooling,
    Relu,
)
from framework.models import MODELS, deep_cnn, simple_cnn
from framework.net import Sequential
from framework.optimizers import Adam

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"


def small_cnn(rng, dtype="float64"):
    """conv - relu - max-pool - BN - conv (3x2, stride 2) - relu - avg-pool - flatten - affine."""
    return Sequential(
        [
            Convolution((4, 2, 3, 3), pad=1, rng=rng, dtype=dtype),
            Relu(),
            Pooling(2, 2, stride=2),
            BatchNormalization(4, dtype=dtype),  # after relu: the bias above still matters
            Convolution((5, 4, 3, 2), stride=2, pad=1, rng=rng, dtype=dtype),
            Relu(),
            Pooling(2, 2, stride=1, mode="average"),
            Flatten(),
            Affine(5 * 1 * 2, 3, rng=rng, dtype=dtype),
        ]
    )


def test_whole_small_cnn_gradient_check(rng):
    net = small_cnn(rng)
    x = rng.standard_normal((4, 2, 6, 8))
    t = np.array([0, 2, 1, 2])
    errors = gradient_check(net, x, t)
    assert set(errors) == set(net.params)
    assert max(errors.values()) < 1e-6, errors
    analytic = {k: g.copy() for k, g in net.gradient(x, t).items()}
    numeric = net.numerical_gradient(x, t)
    for key in analytic:
        np.testing.assert_allclose(analytic[key], numeric[key], rtol=1e-5, atol=1e-7)


def test_whole_small_cnn_input_gradient_by_central_differences(rng):
    # The first layer's dx is skipped in training; check it too, layer by layer backward.
    net = small_cnn(rng)
    x = rng.standard_normal((3, 2, 6, 8))
    g = rng.standard_normal((3, 3))

    def f():
        return float(np.sum(g * net.forward(x, train=True)))

    f()
    dout = g
    for layer in reversed(net.layers):
        dout = layer.backward(dout)
    eps, numeric = 1e-4, np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + eps
        plus = f()
        x[idx] = old - eps
        minus = f()
        x[idx] = old
        numeric[idx] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(dout, numeric, rtol=1e-5, atol=1e-7)


# -- the ready-made nets ------------------------------------------------------------


def test_simple_cnn_is_the_books_net(rng):
    net = simple_cnn(rng=rng)
    kinds = [type(layer).__name__ for layer in net.layers]
    # Pooling's measured fast twin (tests/test_layers_conv.py proves the two equal)
    assert kinds == ["Convolution", "Relu", "PoolingWindowLoop", "Affine", "Relu", "Affine"]
    assert net.params["0.W"].shape == (30, 1, 5, 5)
    assert net.params["3.W"].shape == (30 * 12 * 12, 100)
    assert all(p.dtype == np.float32 for p in net.params.values())
    x = rng.random((3, 1, 28, 28), dtype=np.float32)
    assert net.predict(x).shape == (3, 10)
    assert MODELS["cnn"] is simple_cnn and MODELS["deep_cnn"] is deep_cnn


def test_deep_cnn_is_the_books_chapter_8_net(rng):
    net = deep_cnn(rng=rng)
    kinds = [type(layer).__name__ for layer in net.layers]
    # the fast twins of Convolution (for multi-channel input) and Pooling, tested equal
    conv = ["Convolution"] + ["ConvolutionChannelsLast"] * 5
    block = [None, "Relu", None, "Relu", "PoolingWindowLoop"]
    expected = [k for _ in range(3) for k in block] + ["Affine", "Relu", "Dropout", "Affine"]
    expected = [conv.pop(0) if k is None else k for k in expected]
    assert kinds == expected
    book = deep_cnn(score_dropout=True, rng=rng)
    assert type(book.layers[-1]).__name__ == "Dropout" and len(book.layers) == 20
    filters = [net.layers[i].W.shape[0] for i in (0, 2, 5, 7, 10, 12)]
    assert filters == [16, 16, 32, 32, 64, 64]
    assert net.params["15.W"].shape == (64 * 4 * 4, 50)
    assert sum(p.size for p in net.params.values()) == 123_552
    # He initialisation, as in the book: std sqrt(2 / fan_in)
    assert net.layers[12].W.std() == pytest.approx(np.sqrt(2 / (64 * 9)), rel=0.05)
    x = rng.random((4, 1, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(net.predict(x), net.predict(x))  # no dropout in tests
    assert not np.array_equal(net.forward(x, train=True), net.forward(x, train=True))


def test_cnn_builders_reject_sizes_they_cannot_build():
    with pytest.raises(ValueError, match="simple_cnn: a 4x4 filter on 28x28 images gives 25x25"):
        simple_cnn(filter_size=4)
    with pytest.raises(ValueError, match="deep_cnn: expected 28x28 images"):
        deep_cnn(input_dim=(1, 32, 32))


def test_simple_cnn_learns_a_small_batch(rng):
    net = simple_cnn(rng=rng, hidden_size=20)
    t = np.arange(20) % 4  # four noisy copies of four random images
    templates = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    x = templates[t] + 0.5 * rng.standard_normal((20, 1, 28, 28)).astype(np.float32)
    opt = Adam(lr=0.001)
    first = net.loss(x, t, train=True)
    for _ in range(10):
        opt.update(net.params, net.gradient(x, t))
    assert net.loss(x, t) < 0.05 * first
    assert net.accuracy(x, t) == 1.0
    assert net.params["0.W"] is net.layers[0].W  # updated in place


def test_accuracy_on_10000_images_runs_in_bounded_memory(rng):
    net = simple_cnn(rng=rng, filter_num=8, hidden_size=10)
    x = rng.random((10_000, 1, 28, 28), dtype=np.float32)
    t = rng.integers(0, 10, 10_000)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        acc = net.accuracy(x, t)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert 0.0 <= acc <= 1.0
    # At once, im2col alone would take 10,000 * 576 * 25 * 4 bytes = 576 MB.
    assert peak < 150e6, f"peak {peak / 1e6:.0f} MB"
    np.testing.assert_allclose(net.predict(x[:1500]), net.forward(x[:1500]), rtol=1e-5, atol=1e-5)


# -- the benchmark computes the same steps everywhere ---------------------------------


def bench_losses(name, steps=3):
    sys.path.insert(0, str(BENCH_DIR))
    import bench_cnn

    rng = np.random.default_rng(3)
    x = rng.random((8 * steps, 1, 28, 28), dtype=np.float32)
    t = rng.integers(0, 10, 8 * steps).astype(np.uint8)
    step = bench_cnn.BUILDERS[name](bench_cnn.init_weights(rng))
    X, T = bench_cnn.prepare(name, x, t)
    return [step(X[i : i + 8], T[i : i + 8]) for i in range(0, 8 * steps, 8)]


def test_benchmark_implementations_match_the_floor():
    floor = bench_losses("floor")
    assert len(set(np.round(floor, 4))) > 1  # the losses change: the net trains
    np.testing.assert_allclose(bench_losses("ours"), floor, rtol=1e-5)
    # The book reports -log(y + 1e-7): the same steps, a loss off by up to 1e-7 / y.
    np.testing.assert_allclose(bench_losses("book"), floor, rtol=1e-2)


@pytest.mark.reference
@pytest.mark.parametrize("name", ["dezero", "torch"])
def test_benchmark_references_match_the_floor(name):
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed")
    np.testing.assert_allclose(bench_losses(name), bench_losses("floor"), rtol=1e-5)


# -- training on the full data set ----------------------------------------------------


@pytest.mark.slow
def test_simple_cnn_reaches_088_on_fashion_mnist_in_3_epochs(fashion_mnist_dir):
    from framework.datasets import load_fashion_mnist

    (x_train, t_train), (x_test, t_test) = load_fashion_mnist(
        flatten=False, data_dir=fashion_mnist_dir, download=False, verbose=False
    )
    assert x_train.shape == (60000, 1, 28, 28)
    rng = np.random.default_rng(0)
    net = simple_cnn(rng=rng)
    opt = Adam(lr=0.001)
    for _ in range(3):
        order = rng.permutation(len(x_train))
        for i in range(0, len(x_train), 100):
            idx = order[i : i + 100]
            opt.update(net.params, net.gradient(x_train[idx], t_train[idx]))
    acc = net.accuracy(x_test, t_test)
    print(f"simple CNN, 3 epochs, Adam 0.001: test accuracy {acc:.4f}")
    assert acc >= 0.88


@pytest.mark.slow
def test_cli_trains_the_simple_cnn_and_draws_its_filters(tmp_path, capsys):
    import re

    from framework.__main__ import main

    argv = ["train", "--model", "cnn", "--sample", "--epochs", "1", "--weight-decay", "1e-4",
            "--hidden", "50", "--out", str(tmp_path), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "model: cnn" in out
    assert (tmp_path / "filters.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    test_acc = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert test_acc > 0.7  # one epoch on the 6,000-image sample; chance is 0.1
    net = simple_cnn(hidden_size=50, rng=np.random.default_rng(5))
    net.load(tmp_path / "weights.npz")
    assert net.layers[0].W.shape == (30, 1, 5, 5)


def test_cli_hidden_takes_one_size_for_a_cnn(capsys):
    from framework.__main__ import main

    assert main(["train", "--model", "deep_cnn", "--hidden", "100", "50", "--sample"]) == 2
    assert "--hidden does not apply to --model deep_cnn" in capsys.readouterr().err
