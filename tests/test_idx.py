"""Tests for framework.idx: the gzipped IDX format of MNIST, read and written safely."""

from __future__ import annotations

import gzip
import os
import tempfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra.numpy import array_shapes, arrays

import framework.datasets
import framework.idx
from framework.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, write_idx


def write_gz(path, payload):
    with gzip.open(path, "wb") as f:
        f.write(payload)


def test_datasets_re_exports_the_same_objects():
    for name in ("read_idx", "write_idx", "IMAGES_MAGIC", "LABELS_MAGIC"):
        assert getattr(framework.datasets, name) is getattr(framework.idx, name), name
    assert {"read_idx", "write_idx"} <= set(framework.datasets.__all__)


def test_write_then_read_idx_round_trips(tmp_path, rng):
    images = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "a.gz", images)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz", IMAGES_MAGIC), images)
    labels = np.array([3, 1, 4], dtype=np.uint8)
    write_idx(tmp_path / "b.gz", labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "b.gz", LABELS_MAGIC), labels)
    with gzip.open(tmp_path / "a.gz") as f:  # the header is the MNIST one
        assert f.read(16) == bytes.fromhex("00000803 00000003 0000001c 0000001c")


@given(arrays(np.uint8, array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6)))
def test_idx_round_trip_law(array):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "a.gz")
        write_idx(path, array)
        back = read_idx(path, 0x0800 + array.ndim)
    assert back.dtype == np.uint8 and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_write_idx_is_deterministic_and_rejects_other_dtypes(tmp_path):
    write_idx(tmp_path / "a.gz", np.arange(10, dtype=np.uint8))
    write_idx(tmp_path / "b.gz", np.arange(10, dtype=np.uint8))
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    with pytest.raises(TypeError, match="write_idx: expected an array of dtype uint8, got int64"):
        write_idx(tmp_path / "c.gz", np.arange(10))


def test_read_idx_rejects_a_file_that_is_not_gzip(tmp_path):
    (tmp_path / "x.gz").write_bytes(b"\x00\x00\x08\x03 plain bytes, never compressed")
    with pytest.raises(ValueError, match=r"x\.gz is not a readable gzip file"):
        read_idx(tmp_path / "x.gz")


def test_read_idx_rejects_a_truncated_gzip(tmp_path, rng):
    write_idx(tmp_path / "x.gz", rng.integers(0, 256, (50, 28, 28), dtype=np.uint8))
    data = (tmp_path / "x.gz").read_bytes()
    (tmp_path / "x.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ValueError, match=r"x\.gz is not a readable gzip file.*corrupt or truncated"
    ):
        read_idx(tmp_path / "x.gz")


def test_read_idx_rejects_the_wrong_magic_number(tmp_path):
    write_idx(tmp_path / "labels.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"labels\.gz: expected magic number 2051 .*got 2049"):
        read_idx(tmp_path / "labels.gz", IMAGES_MAGIC)
    write_gz(tmp_path / "junk.gz", b"\x12\x34\x56\x78" + bytes(8))
    with pytest.raises(ValueError, match=r"junk\.gz: not an IDX file of unsigned bytes"):
        read_idx(tmp_path / "junk.gz")


def test_read_idx_rejects_data_shorter_or_longer_than_declared(tmp_path):
    header = bytes.fromhex("00000803 00000002 0000001c 0000001c")
    write_gz(tmp_path / "short.gz", header + bytes(2 * 784 - 1))
    with pytest.raises(ValueError, match=r"short\.gz: header declares shape \(2, 28, 28\) "
                       r"\(1568 bytes of data\) but the file holds 1567"):  # fmt: skip
        read_idx(tmp_path / "short.gz")
    write_gz(tmp_path / "long.gz", header + bytes(2 * 784 + 1))
    with pytest.raises(ValueError, match="but the file holds 1569"):
        read_idx(tmp_path / "long.gz")
    write_gz(tmp_path / "head.gz", header[:10])
    with pytest.raises(ValueError, match=r"head\.gz: truncated inside its 16-byte header"):
        read_idx(tmp_path / "head.gz")
