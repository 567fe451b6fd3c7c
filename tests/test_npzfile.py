"""Weights files: atomic save, checked load, readable mismatch reports."""

from __future__ import annotations

import errno
import os
import re
import stat

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
    with pytest.raises(OSError, match=r"save_arrays: could not write .*w\.npz \(disk full\)"):
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
    with pytest.raises(ValueError, match=r"not a readable .npz.*'a\.npy' holds Python objects"):
        npzfile.load_arrays(tmp_path / "obj.npz", "Owner.load")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Owner\.load: cannot read .*nope\.npz \(No such"):
        npzfile.load_arrays(tmp_path / "nope.npz", "Owner.load")


def test_a_file_larger_than_max_bytes_is_refused_before_it_is_opened(tmp_path, monkeypatch):
    path = tmp_path / "big.npz"
    npzfile.save_arrays(path, {"a": np.zeros(300_000)})  # 2.4 MB
    with pytest.raises(
        ValueError, match=r"Owner\.load: .*big\.npz is \d+ bytes, more than max_bytes=1000"
    ):
        npzfile.load_arrays(path, "Owner.load", max_bytes=1000)


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


def test_lazy_specs_take_any_size_where_unknown_and_may_be_absent():
    lazy = npzfile.ArraySpec((None, 10), np.float32)
    targets = {"W": lazy, "b": np.zeros(10, np.float32)}
    assert (
        npzfile.mismatches(
            targets, {"W": np.zeros((3, 10), np.float32), "b": np.ones(10, np.float32)}
        )
        == []
    )
    assert npzfile.mismatches(targets, {"b": np.ones(10, np.float32)}) == []  # saved before sizing
    assert npzfile.mismatches(targets, {"W": np.zeros((3, 7)), "b": np.ones(10, np.float32)}) == [
        "W: expected (?, 10) float32, got (3, 7) float64"
    ]
    assert npzfile.mismatches({"W": lazy}, {"W": np.zeros(10, np.float32)}) == [
        "W: expected (?, 10) float32, got (10,) float32"
    ]
    known = npzfile.ArraySpec((4,), "float64")
    assert npzfile.mismatches({"v": known}, {}) == ["missing ['v']"]
    assert npzfile.mismatches({"v": npzfile.ArraySpec((None,), "f4")}, {"v": np.ones(1)}) == [
        "v: expected (?,) float32, got (1,) float64"
    ]


def test_expected_is_checked_from_the_headers_before_any_array_is_read(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    npzfile.save_arrays(path, {"W": np.zeros((3, 7)), "b": np.zeros(7)})
    expected = {"W": npzfile.ArraySpec((None, 10), np.float32), "b": np.zeros(10, np.float32)}

    def no_reading(*args, **kwargs):
        raise AssertionError("an array was read before the headers were checked")

    monkeypatch.setattr(npzfile, "_read_data", no_reading)
    with pytest.raises(
        ValueError,
        match=r"Net\.load: .*w\.npz does not match what Net\.load expects: "
        r"W: expected \(\?, 10\) float32, got \(3, 7\) float64; "
        r"b: expected \(10,\) float32, got \(7,\) float64",
    ):
        npzfile.load_arrays(path, "Net.load", expected=expected)


def test_target_names_what_the_file_must_match(tmp_path):
    path = tmp_path / "w.npz"
    npzfile.save_arrays(path, {"W": np.zeros(3)})
    with pytest.raises(ValueError, match=r"Net\.load: .*w\.npz does not match this net: W: "):
        npzfile.load_arrays(path, "Net.load", expected={"W": np.zeros(4)}, target="this net")


def test_expected_matching_file_loads(tmp_path):
    path = tmp_path / "w.npz"
    arrays = {"W": np.ones((3, 10), np.float32), "b": np.arange(10.0, dtype=np.float32)}
    npzfile.save_arrays(path, arrays)
    expected = {"W": npzfile.ArraySpec((None, 10), np.float32), "b": np.zeros(10, np.float32)}
    loaded = npzfile.load_arrays(path, "Net.load", expected=expected)
    np.testing.assert_array_equal(loaded["b"], arrays["b"])
    assert loaded["W"].flags.writeable  # a lazily sized parameter may take it as it is


def test_max_bytes_caps_the_declared_size(tmp_path):
    path = tmp_path / "w.npz"
    npzfile.save_arrays(path, {"a": np.zeros(1000), "b": np.zeros(1000)})  # 2 x 8 kB
    assert set(npzfile.load_arrays(path, "Owner.load", max_bytes=20_000)) == {"a", "b"}
    assert set(npzfile.load_arrays(path, "Owner.load", max_bytes=None)) == {"a", "b"}
    with pytest.raises(
        ValueError,
        match=r"Owner\.load: .*with member 'b\.npy' its arrays declare \d+ bytes, "
        r"more than max_bytes=10000; pass a larger max_bytes",
    ):
        npzfile.load_arrays(path, "Owner.load", max_bytes=10_000)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_saved_file_has_the_usual_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        npzfile.save_arrays(tmp_path / "w.npz", {"a": np.zeros(2)})
        (tmp_path / "other.txt").write_text("x")  # what open() gives any other output
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "w.npz").stat().st_mode)
    assert mode == 0o666 & ~umask == stat.S_IMODE((tmp_path / "other.txt").stat().st_mode)


def test_save_errors_name_the_path_asked_for_not_the_temporary_file(tmp_path):
    target = tmp_path / "no-such-folder" / "w.npz"
    with pytest.raises(FileNotFoundError) as info:
        npzfile.save_arrays(target, {"a": np.zeros(2)}, owner="Net.save")
    message = str(info.value)
    assert f"Net.save: could not write {target}" in message
    assert ".tmp" not in message
    assert info.value.errno == errno.ENOENT

    folder = tmp_path / "w-is-a-folder.npz"
    folder.mkdir()
    with pytest.raises(
        IsADirectoryError, match=rf"Net\.save: could not write {re.escape(str(folder))}"
    ):
        npzfile.save_arrays(folder, {"a": np.zeros(2)}, owner="Net.save")
    assert os.listdir(tmp_path) == ["w-is-a-folder.npz"]  # no temporary file left


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_load_refuses_what_is_not_a_regular_file(tmp_path, kind):
    path = tmp_path / "w.npz"
    if kind == "directory":
        path.mkdir()
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs on this system")
        os.mkfifo(path)
    with pytest.raises(ValueError, match=r"Owner\.load: .*w\.npz is not a regular file \(it is a"):
        npzfile.load_arrays(path, "Owner.load")
