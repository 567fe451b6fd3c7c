"""Command line: the shopping demo's numbers and a short training run on the sample."""

from __future__ import annotations

import json
import os
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


# -- robustness: nothing lost, nothing silently wrong ------------------------

QUICK = ["train", "--sample", "--epochs", "1", "--hidden", "8", "--quiet"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--lr", "-0.001", "expected a finite number > 0"),
        ("--lr", "0", "expected a finite number > 0"),
        ("--lr", "nan", "expected a finite number > 0"),
        ("--lr", "inf", "expected a finite number > 0"),
        ("--lr", "fast", "expected a number"),
        ("--weight-decay", "-5", "expected a finite number >= 0"),
        ("--weight-decay", "nan", "expected a finite number >= 0"),
        ("--epochs", "-1", "expected a positive integer"),
        ("--epochs", "1.5", "expected a positive integer"),
        ("--batch-size", "0", "expected a positive integer"),
        ("--hidden", "-3", "expected a positive integer"),
        ("--seed", "-1", "expected an integer >= 0"),
    ],
)
def test_bad_values_stop_before_any_data_is_loaded(option, value, message, monkeypatch, capsys):
    import framework.datasets

    def no_loading(*args, **kwargs):
        raise AssertionError("data loaded before the options were checked")

    monkeypatch.setattr(framework.datasets, "load_fashion_mnist", no_loading)
    with pytest.raises(SystemExit) as info:
        main(["train", option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert option in err and message in err


def test_out_that_is_a_file_is_refused_before_training(tmp_path, monkeypatch, capsys):
    import framework.datasets

    monkeypatch.setattr(framework.datasets, "load_fashion_mnist", None)  # never reached
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    assert main([*QUICK, "--out", str(target)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_out_that_cannot_be_written_is_refused_before_training(tmp_path, monkeypatch, capsys):
    import tempfile

    import framework.datasets

    monkeypatch.setattr(framework.datasets, "load_fashion_mnist", None)  # never reached

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    assert main([*QUICK, "--out", str(tmp_path / "run")]) == 2
    assert "cannot write there (Permission denied)" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_out_folder_is_refused_before_training(tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert main([*QUICK, "--out", str(folder)]) == 2
    finally:
        folder.chmod(0o755)
    err = capsys.readouterr().err
    assert "cannot write there" in err
    assert "bundled" not in capsys.readouterr().out


def test_data_dir_that_does_not_exist_is_refused(tmp_path, capsys):
    assert main([*QUICK, "--data-dir", str(tmp_path / "typo"), "--out", str(tmp_path)]) == 2
    assert "--data-dir" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


def interrupt_at_call(n):
    """A Trainer.step that raises KeyboardInterrupt on its n-th call."""
    from framework.trainer import Trainer

    real = Trainer.step
    calls = []

    def step(self, x, t):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(self, x, t)

    return step


def test_ctrl_c_during_training_saves_the_net_then_evaluates(tmp_path, monkeypatch, capsys):
    from framework.trainer import Trainer

    monkeypatch.setattr(Trainer, "step", interrupt_at_call(5))
    assert main([*QUICK, "--out", str(tmp_path)]) == 130
    out = capsys.readouterr().out
    assert out.index("interrupted") < out.index("weights ") < out.index("test accuracy")
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["loss"]) == 4 and history["test_acc"] == []
    net = mlp(hidden_sizes=(8,))
    net.load(tmp_path / "weights.npz")


def test_second_ctrl_c_during_evaluation_keeps_the_saved_net(tmp_path, monkeypatch, capsys):
    from framework.net import Sequential
    from framework.trainer import Trainer

    monkeypatch.setattr(Trainer, "step", interrupt_at_call(3))

    def second_ctrl_c(self, x, t, batch_size=1000):
        raise KeyboardInterrupt

    monkeypatch.setattr(Sequential, "accuracy", second_ctrl_c)
    assert main([*QUICK, "--out", str(tmp_path)]) == 130
    assert "the net is saved in" in capsys.readouterr().out
    for name in ("weights.npz", "history.json", "curves.png"):
        assert (tmp_path / name).stat().st_size > 0
    mlp(hidden_sizes=(8,)).load(tmp_path / "weights.npz")


def test_a_failed_write_keeps_the_previous_good_files(tmp_path, monkeypatch, capsys):
    from matplotlib.figure import Figure

    assert main([*QUICK, "--out", str(tmp_path)]) == 0
    good = {n: (tmp_path / n).read_bytes() for n in ("history.json", "curves.png")}

    def full_disk(self, f, **kwargs):
        f.write(b"\x89PNG half a picture")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    assert main([*QUICK, "--seed", "1", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "could not save the run" in err and "No space left on device" in err
    assert (tmp_path / "curves.png").read_bytes() == good["curves.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "curves.png",
        "history.json",
        "weights.npz",
    ]  # no temporary file left behind


def test_history_json_is_written_atomically(tmp_path, monkeypatch):
    from framework.__main__ import _save_run

    (tmp_path / "history.json").write_text('{"loss": [1.0]}')

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json, "dumps", broken)
    with pytest.raises(OSError, match="No space"):
        _save_run(mlp(hidden_sizes=(4,)), {"loss": [0.5]}, str(tmp_path))
    assert json.loads((tmp_path / "history.json").read_text()) == {"loss": [1.0]}
    monkeypatch.undo()

    import framework.plot

    def half_written(f):
        f.write(b'{"loss": [0.')
        raise KeyboardInterrupt

    real = framework.plot.write_atomically
    monkeypatch.setattr(framework.plot, "write_atomically", lambda p, w: real(p, half_written))
    with pytest.raises(KeyboardInterrupt):
        _save_run(mlp(hidden_sizes=(4,)), {"loss": [0.5]}, str(tmp_path))
    assert json.loads((tmp_path / "history.json").read_text()) == {"loss": [1.0]}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_output_to_a_file_gets_one_line_per_epoch_not_a_bar(tmp_path, capsys):
    argv = ["train", "--sample", "--epochs", "2", "--hidden", "8", "--out", str(tmp_path)]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "\r" not in out + err
    assert [line[:9] for line in out.splitlines() if line.startswith("epoch ")] == [
        "epoch 1/2",
        "epoch 2/2",
    ]
