"""Command line: the shopping demo's numbers and a short training run on the sample."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from framework.__main__ import main, shop
from framework.models import MODELS, mlp

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def printed(out: str, name: str) -> str:
    """The value printed after ``name`` at the start of a table row."""
    match = re.search(rf"^\s+{name}\s+(\S+)", out, flags=re.MULTILINE)
    assert match, f"{name} not printed in:\n{out}"
    return match.group(1)


def test_shop_prints_the_books_numbers(capsys):
    assert main(["shop"]) == 0
    out = capsys.readouterr().out
    assert "Forward pass" in out and "Backward pass" in out
    expected = {
        "price": "715",
        "dApple": "2.2",
        "dApple_num": "110",
        "dOrange": "3.3",
        "dOrange_num": "165",
        "dTax": "650",
        "all fruit": "650",
    }
    for name, value in expected.items():
        assert printed(out, name) == value


def test_shop_returns_the_gradients(capsys):
    grads = shop()
    expected = {"dApple": 2.2, "dApple_num": 110, "dOrange": 3.3, "dOrange_num": 165, "dTax": 650}
    assert grads.keys() == expected.keys()
    for name, value in expected.items():
        assert grads[name] == pytest.approx(value, rel=1e-12)
    grads = shop(apple=100, apple_num=2, orange=150, orange_num=3, tax=1.0)
    assert grads["dApple"] == 2 and grads["dTax"] == 650
    capsys.readouterr()


def test_python_dash_m_framework_runs():
    done = subprocess.run(
        [sys.executable, "-m", "framework", "shop"], capture_output=True, text=True, check=True
    )
    assert "dTax" in done.stdout


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "shop" in out and "train" in out
    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    out = capsys.readouterr().out
    for option in ("--epochs", "--optimizer", "--hidden", "--sample", "adam"):
        assert option in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required"),
        (["train", "--epochs", "0"], "expected a positive integer"),
        (["train", "--optimizer", "lbfgs"], "invalid choice"),
        (["train", "--model", "nope"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_with_usage(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_train_on_the_sample_writes_weights_that_load_back(tmp_path, capsys):
    argv = [
        "train",
        "--sample",
        "--epochs",
        "1",
        "--hidden",
        "32",
        "--seed",
        "3",
        "--out",
        str(tmp_path),
        "--quiet",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "bundled Fashion-MNIST sample" in out
    assert "optimizer: adam (lr 0.001)" in out
    test_acc = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert test_acc > 0.6  # one epoch on 6,000 images; chance is 0.1

    for name in ("weights.npz", "curves.png", "history.json"):
        assert str(tmp_path / name) in out
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG_MAGIC
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["loss"]) == 60 and len(history["test_acc"]) == 1

    from framework.datasets import load_fashion_mnist

    _, (x_test, t_test) = load_fashion_mnist(flatten=False, sample=True, verbose=False)
    net = mlp(hidden_sizes=(32,), rng=np.random.default_rng(99))  # other weights ...
    net.load(tmp_path / "weights.npz")  # ... replaced by the trained ones
    assert net.accuracy(x_test, t_test) == pytest.approx(test_acc, abs=5e-5)
    assert net.accuracy(x_test, t_test) == history["test_acc"][0]


def test_train_defaults_to_runs_model_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--sample", "--epochs", "1", "--hidden", "8", "--optimizer", "sgd", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "optimizer: sgd (lr 0.1)" in out
    assert (tmp_path / "runs" / "mlp" / "weights.npz").is_file()


def test_train_reports_divergence_with_epoch_and_iteration(tmp_path, capsys):
    argv = [
        "train",
        "--sample",
        "--epochs",
        "1",
        "--hidden",
        "8",
        "--optimizer",
        "sgd",
        "--lr",
        "1e39",
        "--out",
        str(tmp_path),
        "--quiet",
    ]
    with np.errstate(over="ignore", invalid="ignore"):
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert re.search(r"training diverged: .*epoch 1, iteration \d+", err)
    assert not (tmp_path / "weights.npz").exists()


def test_hidden_is_refused_for_a_model_without_hidden_sizes(monkeypatch, capsys):
    monkeypatch.setitem(MODELS, "fixed", lambda rng=None, dtype="float32": mlp(rng=rng))
    assert main(["train", "--model", "fixed", "--hidden", "5", "--sample", "--quiet"]) == 2
    assert "--hidden does not apply to --model fixed" in capsys.readouterr().err
