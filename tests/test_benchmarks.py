"""Tests for benchmarks/: the shared helpers, the implementations agreeing, the script running."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH_DIR))

import _common  # noqa: E402
import bench_mlp  # noqa: E402


def run_script(*args, timeout=600):
    return subprocess.run(
        [sys.executable, str(BENCH_DIR / "bench_mlp.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- _common ------------------------------------------------------------------------------


def test_format_table_aligns_numbers_right_and_text_left():
    text = _common.format_table(
        [["floor", "1.5", "1.00"], ["ours", "12.25", "0.95"]], ["a", "b", "c"]
    )
    lines = text.splitlines()
    assert lines[0].split() == ["a", "b", "c"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2] == "floor    1.5  1.00"
    assert lines[3] == "ours   12.25  0.95"


def test_time_interleaved_rotates_the_order_and_discards_warmup():
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    res = _common.time_interleaved(fns, repeats=3, warmup=1)
    assert calls == list("abc" + "bca" + "cab" + "abc")
    for name in "abc":
        assert len(res[name]["times"]) == 3
        assert res[name]["min"] <= res[name]["median"] <= res[name]["max"]


def test_time_interleaved_measures_sleep():
    res = _common.time_interleaved({"sleep": lambda: time.sleep(0.01)}, repeats=3, warmup=0)
    assert 0.009 < res["sleep"]["median"] < 0.5


def test_tracemalloc_peak_sees_numpy_arrays_freed_before_return():
    def work():
        a = np.ones(1_000_000)  # 8 MB, freed at return
        return float(a[0])

    peak = _common.tracemalloc_peak(work)
    assert 8_000_000 <= peak < 9_000_000


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_peak_rss_rises_with_a_touched_array_and_resets():
    assert _common.reset_peak_rss()
    base = _common.rss_kib()
    a = np.ones(50_000_000 // 8)  # 50 MB, every page written
    assert _common.peak_rss_kib() - base > 40_000
    del a
    assert _common.reset_peak_rss()
    assert _common.peak_rss_kib() - _common.rss_kib() < 5_000


def test_run_worker_parses_the_result_line_and_reports_failures(tmp_path):
    ok = tmp_path / "ok.py"
    ok.write_text(
        f"import sys\nsys.path.insert(0, {str(BENCH_DIR)!r})\n"
        "from _common import emit_worker_result\nprint('noise')\nemit_worker_result({'x': 3})\n"
    )
    assert _common.run_worker([ok]) == {"x": 3}
    bad = tmp_path / "bad.py"
    bad.write_text("raise SystemExit('broken on purpose')\n")
    with pytest.raises(RuntimeError, match="broken on purpose"):
        _common.run_worker([bad])


def test_load_data_falls_back_to_random_data(tmp_path, monkeypatch, rng):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    x, t, source = _common.load_data(50, rng, image_shape=(1, 28, 28))
    assert source == "random"
    assert x.shape == (50, 1, 28, 28) and x.dtype == np.float32 and x.flags.c_contiguous
    assert t.shape == (50,) and t.dtype == np.uint8 and t.max() < 10
    assert 0 <= x.min() and x.max() < 1


def test_load_data_reads_fashion_mnist_when_present(rng):
    if not os.path.exists(os.path.join(_common.FASHION_DIR, "train-labels-idx1-ubyte.gz")):
        pytest.skip("Fashion-MNIST is not installed")
    x, t, source = _common.load_data(100, rng)
    assert source == "Fashion-MNIST"
    assert x.shape == (100, 784) and x.dtype == np.float32
    assert x.max() == pytest.approx(1.0) and x.min() == 0.0
    assert set(np.unique(t)) <= set(range(10)) and len(np.unique(t)) > 5


def test_run_steps_walks_consecutive_batches_and_wraps():
    X, T = np.arange(10), np.arange(10) * 10
    seen = []
    losses = _common.run_steps(lambda x, t: seen.append(x.tolist()) or float(t[0]), X, T, 3, 2, 3)
    assert seen == [[6, 7, 8], [0, 1, 2], [3, 4, 5]]  # the 10th sample is never used
    assert losses == [60.0, 0.0, 30.0]


def test_machine_report_names_numpy_and_flags_slow_env(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    lines = _common.machine_report()
    assert any(f"numpy {np.__version__}" in line for line in lines)
    assert any("OPENBLAS_CORETYPE=Haswell" in line and "WARNING" in line for line in lines)
    assert any("-u OPENBLAS_CORETYPE" in line for line in lines)


# -- the implementations compute the same training steps ------------------------------------

SMALL = {
    "sgd": dict(sizes=(20, 8, 5), batch=4, optimizer="sgd", lr=0.1),
    "adam": dict(sizes=(20, 8, 8, 5), batch=4, optimizer="adam", lr=1e-2),
}


def small_losses(name, cfg, rng, steps=6):
    x = rng.random((12, cfg["sizes"][0]), dtype=np.float32)
    t = rng.integers(0, cfg["sizes"][-1], 12).astype(np.uint8)
    weights = bench_mlp.init_weights(cfg["sizes"], rng)
    X, T = bench_mlp.prepare(name, x, t)
    return _common.run_steps(bench_mlp.BUILDERS[name](weights, cfg), X, T, cfg["batch"], 0, steps)


@pytest.mark.parametrize("opt", list(SMALL))
@pytest.mark.parametrize("name", ["ours", "book"])
def test_implementation_matches_the_floor(name, opt):
    cfg = SMALL[opt]
    floor = small_losses("floor", cfg, np.random.default_rng(7))
    other = small_losses(name, cfg, np.random.default_rng(7))
    assert len(set(np.round(floor, 4))) > 1  # the losses change: the net trains
    np.testing.assert_allclose(other, floor, rtol=2e-6)


@pytest.mark.slow  # importing torch alone takes seconds
@pytest.mark.reference
@pytest.mark.parametrize("opt", list(SMALL))
@pytest.mark.parametrize("name", ["dezero", "torch"])
def test_reference_implementation_matches_the_floor(name, opt):
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed")
    cfg = SMALL[opt]
    floor = small_losses("floor", cfg, np.random.default_rng(7))
    other = small_losses(name, cfg, np.random.default_rng(7))
    np.testing.assert_allclose(other, floor, rtol=2e-6)


# -- the script ---------------------------------------------------------------------------


def test_quick_run_prints_the_table_for_ours_and_the_floor():
    proc = run_script("--quick", "--threads", "1", "--settings", "A", "--impls", "ours",
                      "--no-memory")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Setting A: 784-50-10, batch 100, SGD lr 0.1" in out
    assert "implementation  ms/step" in out
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line[:5] in ("floor", "ours ")
    }
    assert rows["floor"][3] == "1.00" and float(rows["ours"][1]) > 0
    assert "goal ours <= 1.15x floor" in out
    assert f"numpy {np.__version__}" in out


@pytest.mark.slow
def test_quick_run_of_every_implementation_with_memory():
    proc = run_script("--quick", "--threads", "both")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    names = ["floor", "ours", "book"]
    names += [name for name in ("dezero", "torch") if importlib.util.find_spec(name)]
    for name in names:  # 4 timing tables and 2 memory tables
        assert len(re.findall(rf"^{name} {{2,}}(\d|n/a)", out, re.MULTILINE)) == 6, name
    assert out.count("implementation  ms/step") == 4  # A and B, 1 and default threads
    assert out.count("tracemalloc MiB") == 2
    assert "goal ours <= 1.5x floor memory" in out
    assert "MISMATCH" not in out


# -- the benchmarks are entry points too: bad options fail at once, saying what is expected


@pytest.mark.parametrize(
    "script, args, expected",
    [
        ("bench_mlp.py", ["--steps", "-2"], "--steps: expected a whole number >= 0"),
        ("bench_mlp.py", ["--settings", "C"], "--settings: expected a comma-separated subset"),
        ("bench_mlp.py", ["--impls", "ours,tf"], "(tf unknown)"),
        ("bench_cnn.py", ["--repeats", "x"], "--repeats: expected a whole number >= 0"),
        ("bench_gpu.py", ["--batches", "100,0"], "--batches: expected a whole number >= 1"),
        ("bench_autograd.py", ["--threads", "0"], "--threads: expected a whole number >= 1"),
    ],
)
def test_bad_options_exit_2_with_what_was_expected(script, args, expected):
    result = subprocess.run(
        [sys.executable, str(BENCH_DIR / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_argument_types_accept_what_the_defaults_use():
    assert _common.count_arg("0") == 0 and _common.positive_arg("3") == 3
    assert _common.names_arg(("A", "B"))("A,B") == ["A", "B"]
