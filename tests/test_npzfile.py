"""Weights files: atomic save, checked load, readable mismatch reports."""

from __future__ import annotations

import numpy as np
import pytest

from framework import npzfile


def test_round_trip_and_no_temp_file_left(tmp_path):
    arrays = {"0.W": np.arange(6.0).reshape(2, 3), "l1/b": np.ones(3, np.float32)}
    npzfile.save_arrays(tmp_path / "w.npz", arrays)
    loaded = npzfile.load_arrays(tmp_path / "w.npz", "Owner.load")
    assert set(loaded) == set(arrays)
    for k, v in arrays.items():
        np.testing.assert_array_equal(loaded[k], v)
        assert loaded[k].dtype == v.dtype
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    npzfile.save_arrays(path, {"a": np.zeros(2)})
    before = path.read_bytes()

    def boom(f, **arrays):
        f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(npzfile.np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        npzfile.save_arrays(path, {"a": np.ones(2)})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]


@pytest.mark.parametrize(
    "content, why",
    [(b"not a zip", "not a readable .npz"), (b"PK\x03\x04broken", "not a readable .npz")],
)
def test_unreadable_files_name_the_owner_and_the_path(tmp_path, content, why):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"Owner.load: .*bad.npz is {why}"):
        npzfile.load_arrays(path, "Owner.load")


def test_bare_npy_and_pickled_objects_are_refused(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        npzfile.load_arrays(tmp_path / "one.npy", "Owner.load")
    np.savez(tmp_path / "obj.npz", a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable .npz"):
        npzfile.load_arrays(tmp_path / "obj.npz", "Owner.load")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        npzfile.load_arrays(tmp_path / "nope.npz", "Owner.load")


def test_mismatches_lists_every_difference():
    targets = {"W": np.zeros((2, 3), np.float32), "b": np.zeros(3, np.float32), "lazy": None}
    loaded = {"W": np.zeros((3, 2), np.float32), "extra": np.zeros(1)}
    problems = npzfile.mismatches(targets, loaded)
    assert problems == [
        "missing ['b']",
        "unexpected ['extra']",
        "W: expected (2, 3) float32, got (3, 2) float32",
    ]
    assert npzfile.mismatches({"W": np.zeros(2), "lazy": None}, {"W": np.ones(2)}) == []
