"""benchmarks/bench_gpu.py: its torch twins compute what our nets compute, and it runs anywhere."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_gpu  # noqa: E402

from framework.models import mlp, simple_cnn  # noqa: E402


@pytest.mark.reference
@pytest.mark.parametrize("kind, build", [("mlp", mlp), ("cnn", simple_cnn)])
def test_torch_twin_matches_our_net(kind, build):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    ours = build(rng=np.random.default_rng(7)).predict(x)
    twin = bench_gpu.torch_net(kind, 7)
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-5)


def test_quick_run_prints_a_table_without_a_gpu(capsys):
    assert bench_gpu.main(["--quick", "--batches", "20"]) == 0
    out = capsys.readouterr().out
    assert "ours-cpu" in out and "mlp b20" in out and "cnn b20" in out
    from framework.backend import gpu_available

    if not gpu_available():
        assert "no GPU here" in out and "ours-gpu" not in out
