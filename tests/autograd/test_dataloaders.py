"""DataLoader and SeqDataLoader: DeZero's iteration protocol, reproducible shuffles."""

from __future__ import annotations

import numpy as np
import pytest

from framework.autograd import DataLoader, SeqDataLoader
from framework.autograd.datasets import Dataset, Spiral
from framework.backend import gpu_available


class Numbers(Dataset):
    def __init__(self, n, **kwargs):
        self.n = n
        super().__init__(**kwargs)

    def prepare(self):
        self.data = np.arange(self.n, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
        self.label = np.arange(self.n)


def epoch(loader):
    return [(x.copy(), t.copy()) for x, t in loader]


def test_one_epoch_covers_every_example_once_and_then_resets():
    loader = DataLoader(Numbers(10), batch_size=3)
    assert loader.max_iter == 4
    batches = epoch(loader)
    assert [len(t) for _, t in batches] == [3, 3, 3, 1]  # the last batch is smaller
    seen = np.concatenate([t for _, t in batches])
    assert sorted(seen.tolist()) == list(range(10))
    for x, t in batches:
        assert x.shape == (len(t), 2) and x.dtype == np.float32
        np.testing.assert_array_equal(x[:, 0], t)  # examples stay paired with labels
    assert loader.iteration == 0  # reset when StopIteration was raised
    assert len(epoch(loader)) == 4  # so the next for loop is the next epoch


def test_shuffle_uses_the_global_state_so_a_seed_repeats_it():
    np.random.seed(0)  # noqa: NPY002
    first = [t.tolist() for _, t in DataLoader(Numbers(10), 4)]
    np.random.seed(0)  # noqa: NPY002
    again = [t.tolist() for _, t in DataLoader(Numbers(10), 4)]
    assert first == again
    np.random.seed(0)  # noqa: NPY002
    assert np.concatenate(first).tolist() == np.random.permutation(10).tolist()  # noqa: NPY002


def test_each_epoch_has_a_new_order():
    np.random.seed(1)  # noqa: NPY002
    loader = DataLoader(Numbers(50), 50)
    orders = [epoch(loader)[0][1].tolist() for _ in range(3)]
    assert orders[0] != orders[1] != orders[2]


def test_an_explicit_generator_wins_over_the_global_state():
    a = [t.tolist() for _, t in DataLoader(Numbers(8), 8, rng=np.random.default_rng(3))]
    np.random.seed(9)  # noqa: NPY002
    b = [t.tolist() for _, t in DataLoader(Numbers(8), 8, rng=np.random.default_rng(3))]
    assert a == b
    assert a[0] == np.random.default_rng(3).permutation(8).tolist()


def test_without_shuffle_the_order_is_kept_and_next_works():
    loader = DataLoader(Numbers(5), 2, shuffle=False)
    x, t = loader.next()
    assert t.tolist() == [0, 1]
    assert next(loader)[1].tolist() == [2, 3]
    assert loader.next()[1].tolist() == [4]
    with pytest.raises(StopIteration):
        loader.next()
    assert loader.next()[1].tolist() == [0, 1]


def test_spiral_loader_as_in_dezero_step49():
    loader = DataLoader(Spiral(), batch_size=30)
    x, t = next(loader)
    assert x.shape == (30, 2) and x.dtype == np.float32
    assert t.shape == (30,) and t.dtype == np.int64
    assert sum(1 for _ in loader) == 9  # the rest of the epoch


@pytest.mark.parametrize(
    ("batch_size", "error", "match"),
    [
        (0, ValueError, "batch_size >= 1"),
        (2.5, TypeError, "batch_size an int"),
        (True, TypeError, "batch_size an int, got True"),
    ],
)
def test_bad_batch_sizes(batch_size, error, match):
    with pytest.raises(error, match=f"DataLoader: expected {match}"):
        DataLoader(Numbers(4), batch_size)


def test_an_empty_dataset_is_refused():
    with pytest.raises(ValueError, match="DataLoader: the dataset is empty"):
        DataLoader(Numbers(0), 2)


@pytest.mark.skipif(gpu_available(), reason="checks the message given without a GPU")
def test_gpu_without_cupy_fails_early_and_clearly():
    with pytest.raises(RuntimeError, match="cupy-cuda12x"):
        DataLoader(Numbers(4), 2, gpu=True)
    loader = DataLoader(Numbers(4), 2)
    with pytest.raises(RuntimeError, match="cupy-cuda12x"):
        loader.to_gpu()
    assert loader.gpu is False
    loader.to_cpu()
    assert isinstance(next(loader)[0], np.ndarray)


@pytest.mark.gpu
def test_to_gpu_returns_cupy_arrays():
    if not gpu_available():
        pytest.skip("CuPy with a CUDA device is not available")
    import cupy

    loader = DataLoader(Numbers(4), 2, shuffle=False)
    loader.to_gpu()
    x, t = next(loader)
    assert isinstance(x, cupy.ndarray) and isinstance(t, cupy.ndarray)
    loader.to_cpu()
    assert isinstance(next(loader)[0], np.ndarray)


def test_seq_loader_walks_the_series_from_evenly_spaced_starts():
    loader = SeqDataLoader(Numbers(10), batch_size=2)  # jump = 5
    assert loader.max_iter == 5
    batches = [t.tolist() for _, t in loader]
    assert batches == [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]]
    assert [t.tolist() for _, t in loader] == batches  # the same order every epoch


def test_seq_loader_wraps_around_when_batch_size_does_not_divide():
    loader = SeqDataLoader(Numbers(7), batch_size=3)  # jump = 2, 3 batches
    assert [t.tolist() for _, t in loader] == [[0, 2, 4], [1, 3, 5], [2, 4, 6]]
