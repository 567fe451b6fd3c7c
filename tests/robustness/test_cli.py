"""Robustness of ``python -m framework``: nothing lost, every fault answered in words.

Where each issue-11 item of the command line is checked:

* ``--lr -0.001`` / ``--weight-decay -5`` exit 2 before any data is loaded:
  ``test_bad_options_exit_2_in_a_real_process`` here, every bad value in
  ``tests/test_main.py::test_bad_values_stop_before_any_data_is_loaded``;
* ``--out`` a file, unwritable or read-only, refused before training:
  ``test_main.py::test_out_that_is_a_file_is_refused_before_training``,
  ``..._cannot_be_written_...``, ``test_read_only_out_folder_...``;
* atomic writes: ``test_main.py::test_a_failed_write_keeps_the_previous_good_files``,
  ``test_history_json_is_written_atomically``, and Ctrl-C while saving here;
* Ctrl-C saves first: ``test_main.py::test_ctrl_c_during_training_saves_the_net_then_evaluates``;
  a second Ctrl-C during the evaluation keeps the saved net:
  ``test_main.py::test_second_ctrl_c_during_evaluation_keeps_the_saved_net``;
* one line per epoch off a terminal: ``test_main.py::test_output_to_a_file_gets_one_line_...``;
* loader errors are printed, not a traceback: here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

import framework.datasets
from framework.__main__ import build_parser, main, shop, train

QUICK = ["train", "--sample", "--epochs", "1", "--hidden", "8", "--quiet"]


def _args(**changes):
    args = build_parser().parse_args(QUICK)
    return argparse.Namespace(**{**vars(args), **changes})


CASES = [
    pytest.param(
        lambda: train(_args(model="resnet")),
        ValueError,
        r"train: unknown model 'resnet'; expected one of \[",
        id="train-unknown-model",
    ),
    pytest.param(
        lambda: train(_args(optimizer="adamw")),
        ValueError,
        r"train: unknown optimizer 'adamw'; expected one of \[.*'sgd'",
        id="train-unknown-optimizer",
    ),
    pytest.param(
        lambda: shop(apple="100"),
        TypeError,
        r"shop: expected apple to be a number, got str",
        id="shop-string-price",
    ),
    pytest.param(
        lambda: shop(tax=None), TypeError, r"shop: expected tax to be a number", id="shop-no-tax"
    ),
]


@pytest.mark.parametrize(("fn", "exc", "regex"), CASES)
def test_case(fn, exc, regex):
    with pytest.raises(exc, match=regex):
        fn()


@pytest.mark.parametrize(
    ("option", "value"), [("--lr", "-0.001"), ("--weight-decay", "-5"), ("--lr", "nan")]
)
def test_bad_options_exit_2_in_a_real_process(option, value, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-m", "framework", "train", option, value, "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert option in proc.stderr and "expected a finite number" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()  # checked before anything was made


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError(2, "load_fashion_mnist: no train-images-idx3-ubyte.gz in /data"),
        ValueError("load_fashion_mnist: /data/train-labels-idx1-ubyte.gz holds label 12"),
        PermissionError(13, "Permission denied"),
    ],
    ids=["missing-file", "bad-file", "unreadable"],
)
def test_a_loader_error_is_printed_with_exit_1_not_a_traceback(
    error, tmp_path, monkeypatch, capsys
):
    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(framework.datasets, "load_fashion_mnist", failing)
    assert main([*QUICK, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: could not load Fashion-MNIST: ")
    assert str(error) in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_ctrl_c_while_loading_exits_130_without_a_traceback(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(framework.datasets, "load_fashion_mnist", interrupted)
    assert main([*QUICK, "--out", str(tmp_path)]) == 130
    assert "interrupted before training" in capsys.readouterr().err


def test_ctrl_c_while_saving_keeps_every_file_whole(tmp_path, monkeypatch, capsys):
    import framework.plot

    assert main([*QUICK, "--out", str(tmp_path)]) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def ctrl_c(history, path=None, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(framework.plot, "plot_history", ctrl_c)
    assert main([*QUICK, "--seed", "1", "--out", str(tmp_path)]) == 130
    assert "interrupted while saving" in capsys.readouterr().out
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(after) == sorted(before)  # no temporary file left
    assert after["curves.png"] == before["curves.png"]  # the old picture, whole
    assert after["weights.npz"] != before["weights.npz"]  # the new net was saved first
    from framework.models import mlp

    mlp(hidden_sizes=(8,)).load(tmp_path / "weights.npz")
