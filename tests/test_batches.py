"""minibatches: one epoch, every sample once, shuffled by an explicit rng or the global state."""

# ruff: noqa: NPY002 (the legacy global RNG is what the book seeds)

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import framework.batches
import framework.experiments
import framework.trainer
from framework.batches import minibatches


def test_the_trainer_and_the_experiments_use_the_same_iterator():
    assert framework.trainer.minibatches is framework.batches.minibatches
    assert framework.experiments.minibatches is framework.batches.minibatches
    assert "minibatches" in framework.trainer.__all__
    assert framework.batches.__all__ == ["minibatches"]


def test_batches_depends_only_on_numpy_and_the_backend():
    tree = ast.parse(inspect.getsource(framework.batches))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported == {"__future__", "numpy", ".backend"}


def test_minibatches_visit_every_sample_once():
    x = np.arange(23, dtype=np.float32).reshape(23, 1)
    t = np.arange(23)
    batches = list(minibatches(x, t, 5, rng=np.random.default_rng(0)))
    assert [len(xb) for xb, _ in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([tb for _, tb in batches])
    np.testing.assert_array_equal(np.sort(seen), t)
    assert not np.array_equal(seen, t)
    for xb, tb in batches:
        np.testing.assert_array_equal(xb[:, 0], tb)  # pairs stay together
    np.testing.assert_array_equal(seen, np.random.default_rng(0).permutation(23))


def test_minibatches_without_shuffle_keep_the_order_and_draw_nothing():
    x, t = np.arange(10.0).reshape(10, 1), np.arange(10)
    np.random.seed(1)
    batches = list(minibatches(x, t, 4, shuffle=False))
    after = np.random.random()
    np.random.seed(1)
    assert after == np.random.random()
    np.testing.assert_array_equal(np.concatenate([tb for _, tb in batches]), t)
    assert [len(tb) for _, tb in batches] == [4, 4, 2]


def test_minibatches_draw_from_the_global_state_without_rng():
    x, t = np.arange(10.0).reshape(10, 1), np.arange(10)
    np.random.seed(3)
    first = np.concatenate([tb for _, tb in minibatches(x, t, 3)])
    np.random.seed(3)
    np.testing.assert_array_equal(first, np.random.permutation(10))


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((np.zeros((4, 2)), np.zeros(3), 2), ValueError, "x has 4 samples but t has 3"),
        ((np.zeros((4, 2)), np.zeros(4), 0), ValueError, "batch_size >= 1"),
        ((np.zeros((4, 2)), np.zeros(4), 2.0), TypeError, "batch_size to be an int"),
        ((np.zeros((0, 2)), np.zeros(0), 2), ValueError, "holds no samples"),
    ],
)
def test_minibatches_explain_bad_arguments(args, error, message):
    with pytest.raises(error, match=f"minibatches: .*{message}"):
        minibatches(*args)


def test_minibatches_on_each_backend(xp):
    x = xp.arange(12, dtype=xp.float32).reshape(6, 2)
    t = xp.arange(6)
    batches = list(minibatches(x, t, 4, rng=np.random.default_rng(0)))
    assert all(type(xb) is type(x) for xb, _ in batches)
    assert sorted(int(v) for _, tb in batches for v in tb) == list(range(6))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 120), batch_size=st.integers(1, 50), seed=st.integers(0, 2**16))
def test_minibatches_law_every_sample_once_in_ceil_n_over_b_batches(n, batch_size, seed):
    x = np.arange(n, dtype=np.float32).reshape(n, 1)
    t = np.arange(n)
    batches = list(minibatches(x, t, batch_size, rng=seed))
    assert len(batches) == -(-n // batch_size)
    assert all(len(tb) == batch_size for _, tb in batches[:-1])
    assert 1 <= len(batches[-1][1]) <= batch_size
    seen = np.concatenate([tb for _, tb in batches])
    np.testing.assert_array_equal(np.sort(seen), t)
    np.testing.assert_array_equal(np.concatenate([xb[:, 0] for xb, _ in batches]), seen)
