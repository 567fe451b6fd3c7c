"""Robustness of every entry point that writes or reads a file (issue 11), by entry point.

Faults while writing: a read-only folder, a full disk (writes failing with ENOSPC,
by monkeypatching), a write interrupted halfway (Ctrl-C), a failing fsync or
rename.  Each must leave the previous good file as it was, no half-written file
and no temporary file, and the error must name the function and the path asked for.

Hostile files while reading: a zip bomb, a ``.npy`` header declaring 10**12
elements, a FIFO, a pickle inside an ``.npz``, wrong names, shapes and dtypes, and
random corruptions of a valid file (hypothesis): always a ``ValueError`` that names
the function, never another exception, a hang or gigabytes of memory.
"""

from __future__ import annotations

import errno
import io
import os
import re
import struct
import threading
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framework import datasets, npzfile
from framework.autograd.models import MLP
from framework.datasets import FILES, load_fashion_mnist, read_idx, write_idx
from framework.layers import Affine, Relu
from framework.net import Sequential

# ------------------------------------------------------------------------ entry points


def small_net(value=None):
    """A Sequential 4-5-3; with ``value``, every parameter set to it."""
    rng = np.random.default_rng(0)
    net = Sequential([Affine(4, 5, rng=rng), Relu(), Affine(5, 3, rng=rng)])
    if value is not None:
        for p in net.params.values():
            p[...] = value
    return net


def small_model(value=None, sized=True):
    """An autograd MLP 4-5-3 (sized by one call unless ``sized=False``)."""
    model = MLP((5, 3), rng=np.random.default_rng(0))
    if sized:
        model(np.zeros((2, 4), np.float32))
    if value is not None:
        for p in model.params():
            p.data[...] = value
    return model


def write_text(path, value):
    with npzfile.atomic_file(path, "Owner.write", "w") as f:
        for _ in range(100):
            f.write(f"{value} " * 100)


# name -> (file name, write(path, value), owner named in the error)
WRITERS = {
    "save_arrays": (
        "w.npz",
        lambda path, v: npzfile.save_arrays(path, {"a": np.full(5000, v, np.float32)}),
        r"save_arrays",
    ),
    "Sequential.save": (
        "net.npz",
        lambda path, v: small_net(v).save(path),
        r"(Sequential\.save|save_arrays)",
    ),
    "Layer.save_weights": (
        "mlp.npz",
        lambda path, v: small_model(v).save_weights(path),
        r"(MLP\.save_weights|save_arrays)",
    ),
    "write_idx": (
        "x.gz",
        lambda path, v: write_idx(path, np.random.default_rng(v).integers(0, 256, 8000, np.uint8)),
        r"write_idx",
    ),
    "atomic_file": ("h.json", write_text, r"Owner\.write"),
}


class _FailingFile:
    """Wraps a file; after ``budget`` bytes a write writes part of its data, then raises."""

    def __init__(self, f, budget, error):
        self._f, self._left, self._error = f, budget, error

    def write(self, data):
        data = data if isinstance(data, str) else bytes(data)
        if len(data) > self._left:
            self._f.write(data[: self._left])
            self._left = 0
            raise self._error
        self._left -= len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def _fail_writes_after(monkeypatch, budget, error):
    real = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: _FailingFile(real(*a, **k), budget, error))


def _deny_new_files(monkeypatch):
    """A read-only folder, for a root user too: creating a file fails with EACCES."""
    real = os.open

    def deny(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)


def _raise_in(monkeypatch, name, error):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(os, name, fail)


FAULTS = {  # name -> (inject(monkeypatch, size of a good file), exception type, its text)
    "read-only folder": (lambda m, n: _deny_new_files(m), PermissionError, "Permission denied"),
    "disk full at once": (
        lambda m, n: _fail_writes_after(m, 0, OSError(errno.ENOSPC, "No space left on device")),
        OSError,
        "No space left on device",
    ),
    "disk full halfway": (
        lambda m, n: _fail_writes_after(
            m, n // 2, OSError(errno.ENOSPC, "No space left on device")
        ),
        OSError,
        "No space left on device",
    ),
    "fsync fails": (
        lambda m, n: _raise_in(m, "fsync", OSError(errno.EIO, "Input/output error")),
        OSError,
        "Input/output error",
    ),
    "rename fails": (
        lambda m, n: _raise_in(m, "replace", OSError(errno.EXDEV, "Invalid cross-device link")),
        OSError,
        "Invalid cross-device link",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("writer", list(WRITERS))
def test_failed_write_keeps_the_previous_file_and_names_the_path(tmp_path, writer, fault):
    fname, write, owner = WRITERS[writer]
    inject, kind, why = FAULTS[fault]
    path = tmp_path / fname
    write(path, 1)
    good = path.read_bytes()
    with pytest.MonkeyPatch.context() as m:
        inject(m, len(good))
        with pytest.raises(kind) as info:
            write(path, 2)
    message = str(info.value)
    assert re.match(rf"{owner}: could not write {re.escape(str(path))} \({why}\)", message), (
        message
    )
    assert ".tmp" not in message  # the path asked for, not the hidden temporary file
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == [fname]


@pytest.mark.parametrize("writer", list(WRITERS))
def test_failed_first_write_leaves_no_file_at_all(tmp_path, writer, monkeypatch):
    fname, write, _ = WRITERS[writer]
    _fail_writes_after(monkeypatch, 100, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(OSError, match="No space left on device"):
        write(tmp_path / fname, 1)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("part", [0.0, 0.01, 0.5, 0.99])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_write_interrupted_by_ctrl_c_keeps_the_previous_file(tmp_path, writer, part):
    fname, write, _ = WRITERS[writer]
    path = tmp_path / fname
    write(path, 1)
    good = path.read_bytes()
    with pytest.MonkeyPatch.context() as m:
        _fail_writes_after(m, int(part * len(good)), KeyboardInterrupt())
        with pytest.raises(KeyboardInterrupt):
            write(path, 2)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == [fname]
    write(path, 3)  # and the next save works
    assert path.read_bytes() != good


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes in read-only folders"
)
@pytest.mark.parametrize("writer", list(WRITERS))
def test_really_read_only_folder(tmp_path, writer):
    fname, write, owner = WRITERS[writer]
    folder = tmp_path / "ro"
    folder.mkdir()
    write(folder / fname, 1)
    good = (folder / fname).read_bytes()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=rf"{owner}: could not write .*{fname}"):
            write(folder / fname, 2)
    finally:
        folder.chmod(0o755)
    assert (folder / fname).read_bytes() == good
    assert os.listdir(folder) == [fname]


@pytest.mark.parametrize("writer", list(WRITERS))
def test_written_files_get_the_permissions_of_any_other_output(tmp_path, writer):
    fname, write, _ = WRITERS[writer]
    old = os.umask(0o022)
    try:
        write(tmp_path / fname, 1)
    finally:
        os.umask(old)
    assert (tmp_path / fname).stat().st_mode & 0o777 == 0o644


def test_atomic_file_rejects_other_modes(tmp_path):
    with pytest.raises(ValueError, match=r"Owner\.write: expected mode 'wb' or 'w', got 'a'"):
        with npzfile.atomic_file(tmp_path / "x", "Owner.write", "a"):
            pass
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------- the data-set cache


def test_dataset_cache_that_cannot_be_written_is_skipped_and_leaves_nothing(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FRAMEWORK_DATA", raising=False)
    folder = tmp_path / "data"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for fname, key in FILES.items():
        shape = (10, 28, 28) if key.startswith("x") else (10,)
        write_idx(folder / fname, rng.integers(0, 10, shape, dtype=np.uint8))
    with pytest.MonkeyPatch.context() as m:
        _fail_writes_after(m, 5000, OSError(errno.ENOSPC, "No space left on device"))
        (x, _), _ = load_fashion_mnist(data_dir=folder, verbose=True)
    assert x.shape == (10, 784)
    out = capsys.readouterr().out
    assert f"could not write the cache {folder / 'fashion-mnist.npz'}" in out
    assert "No space left on device" in out
    assert sorted(os.listdir(folder)) == sorted(FILES)  # no half cache, no temporary file
    load_fashion_mnist(data_dir=folder, verbose=False)
    assert (folder / "fashion-mnist.npz").is_file()  # written by the next load


def test_cli_data_dir_that_does_not_exist_is_an_error(tmp_path, monkeypatch, capsys):
    from framework.__main__ import main

    monkeypatch.delenv("FRAMEWORK_DATA", raising=False)
    typo = tmp_path / "fashoin"
    argv = ["train", "--data-dir", str(typo), "--out", str(tmp_path / "run"), "--quiet"]
    try:
        code = main(argv)
    except ValueError as err:
        message = str(err)
    else:  # the CLI may catch the error and print it instead
        assert code != 0
        message = capsys.readouterr().err
    # The CLI checks --data-dir before it loads anything (and before training).
    assert f"--data-dir {typo}: no such folder" in message
    assert not typo.exists()


# ------------------------------------------------------------------ hostile files

# name -> (load(path), owner named in the error)
LOADERS = {
    "load_arrays": (lambda path: npzfile.load_arrays(path, "Owner.load"), r"Owner\.load"),
    "Sequential.load": (lambda path: small_net().load(path), r"Sequential\.load"),
    "Layer.load_weights": (lambda path: small_model().load_weights(path), r"MLP\.load_weights"),
}


def npy_header(shape, descr="<f4"):
    """The bytes of a version 1.0 ``.npy`` header for ``shape`` and ``descr``."""
    f = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(f, header)
    return f.getvalue()


def one_member_zip(name, data, file_size, crc, method=zipfile.ZIP_DEFLATED):
    """A zip archive of one member, written by hand so its declared sizes can lie."""
    n = name.encode()
    head = (0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), file_size, len(n), 0)
    local = struct.pack("<IHHHHHIIIHH", *head) + n
    entry = (0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data), file_size, len(n))
    central = struct.pack("<IHHHHHHIIIHHHHHII", *entry, 0, 0, 0, 0, 0, 0) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    return local + data + central + end


def deflated_zeros(head, n_blocks, block=1 << 24):
    """Raw deflate of ``head`` + ``n_blocks * block`` zero bytes, from one repeated block.

    After a full flush the compressor forgets its history, so the same block
    compresses to the same bytes every time: 2 GiB of zeros in 2 MB, built in
    well under a second.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    piece = c.compress(bytes(block)) + c.flush(zlib.Z_FULL_FLUSH)
    return first + piece * n_blocks + c.flush()


def test_deflated_zeros_is_a_valid_stream():
    data = zlib.decompress(deflated_zeros(b"head", 3, block=1000), -15)
    assert data == b"head" + bytes(3000)


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory):
    """A 2 MB ``.npz`` whose member ``0.W.npy`` inflates to 2 GiB (float32 zeros)."""
    n = 1 << 31
    head = npy_header((n // 4,))
    path = tmp_path_factory.mktemp("bomb") / "bomb.npz"
    # its CRC is not computed: a loader must refuse it before reading any of its data
    path.write_bytes(one_member_zip("0.W.npy", deflated_zeros(head, n >> 24), len(head) + n, 0))
    assert path.stat().st_size < 3_000_000
    return path


def _peak_memory(call):
    """Run ``call``; return (its exception, the peak of traced memory in bytes)."""
    tracemalloc.start()
    try:
        call()
    except Exception as err:  # noqa: BLE001 - the caller checks what it is
        return err, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    raise AssertionError("no exception raised")


@pytest.mark.parametrize("loader", list(LOADERS))
def test_zip_bomb_is_refused_before_it_is_inflated(zip_bomb, loader):
    load, owner = LOADERS[loader]
    start = time.monotonic()
    err, peak = _peak_memory(lambda: load(zip_bomb))
    assert isinstance(err, ValueError), repr(err)
    assert re.match(
        rf"{owner}: .*bomb\.npz is not a readable \.npz weights file \(with member '0\.W\.npy' "
        r"its arrays declare 2147483776 bytes, more than max_bytes=1073741824",
        str(err),
    ), str(err)
    assert peak < 20_000_000 and time.monotonic() - start < 5


def test_zip_bomb_without_a_cap_is_still_refused_by_the_expected_shapes(zip_bomb):
    expected = {"0.W": np.zeros((4, 5), np.float32)}
    err, peak = _peak_memory(
        lambda: npzfile.load_arrays(zip_bomb, "Owner.load", expected=expected, max_bytes=None)
    )
    assert isinstance(err, ValueError)
    assert re.search(
        r"does not match what Owner\.load expects: 0\.W: expected \(4, 5\) float32, "
        r"got \(536870912,\) float32",
        str(err),
    ), str(err)
    assert peak < 20_000_000


def test_zip_bomb_that_lies_about_its_size_stops_at_the_declared_size(tmp_path):
    head = npy_header((100,))
    data = deflated_zeros(head, 64)  # inflates to 1 GiB but declares 400 bytes of data
    path = tmp_path / "liar.npz"
    path.write_bytes(one_member_zip("a.npy", data, len(head) + 400, 0))
    err, peak = _peak_memory(lambda: npzfile.load_arrays(path, "Owner.load"))
    assert isinstance(err, ValueError)
    assert re.match(r"Owner\.load: .*liar\.npz is not a readable .*Bad CRC-32", str(err))
    assert peak < 20_000_000


@pytest.mark.parametrize("loader", list(LOADERS))
def test_header_declaring_10_to_the_12_elements_is_a_clear_error(tmp_path, loader):
    load, owner = LOADERS[loader]
    data = npy_header((10**12,)) + bytes(16)
    path = tmp_path / "huge.npz"
    path.write_bytes(one_member_zip("0.W.npy", data, len(data), zlib.crc32(data), 0))
    err, peak = _peak_memory(lambda: load(path))
    assert isinstance(err, ValueError), repr(err)  # not a MemoryError
    assert re.match(
        rf"{owner}: .*huge\.npz is not a readable \.npz weights file \(member '0\.W\.npy' "
        r"declares shape \(1000000000000,\) float32 \(4000000000000 bytes\) but the archive "
        r"says it holds 16 bytes of data\)",
        str(err),
    ), str(err)
    assert peak < 1_000_000
    with pytest.raises(ValueError, match="declares shape"):  # with no cap as well
        npzfile.load_arrays(path, "Owner.load", max_bytes=None)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("loader", list(LOADERS))
def test_fifo_is_refused_without_blocking(tmp_path, loader):
    load, owner = LOADERS[loader]
    path = tmp_path / "w.npz"
    os.mkfifo(path)
    err = _error_without_blocking(load, path)
    assert isinstance(err, ValueError)
    assert re.match(rf"{owner}: .*w\.npz is not a regular file \(it is a FIFO\)", str(err))


def _error_without_blocking(load, fifo, seconds=5):
    """Call ``load(fifo)`` in a thread; return its exception, fail if it blocks."""
    outcome = []

    def run():
        try:
            load(fifo)
        except Exception as err:  # noqa: BLE001 - the caller checks it
            outcome.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():  # unblock it (a writer opens the FIFO), then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"{load} blocked on a FIFO")
    assert outcome, "no error raised"
    return outcome[0]


class _Evil:
    """Unpickling this would run code: it must never be unpickled."""

    ran = False

    def __reduce__(self):
        return (_Evil._run, ())

    @staticmethod
    def _run():
        _Evil.ran = True


@pytest.mark.parametrize("loader", list(LOADERS))
def test_npz_holding_a_pickle_is_refused_without_unpickling(tmp_path, loader):
    load, owner = LOADERS[loader]
    path = tmp_path / "evil.npz"
    np.savez(path, **{"0.W": np.array([_Evil()], dtype=object)})
    _Evil.ran = False
    with pytest.raises(
        ValueError, match=rf"{owner}: .*member '0\.W\.npy' holds Python objects \(dtype object\)"
    ):
        load(path)
    assert not _Evil.ran


def _archive(path, members, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members:
            zf.writestr(name, data)


def _npy(array):
    f = io.BytesIO()
    np.save(f, array)
    return f.getvalue()


ODD_ARCHIVES = {  # name -> (members, compression, what the message says)
    "not an npy": ([("0.W.npy", _npy(np.zeros(3))), ("notes.txt", b"hi")], 0, "is not a .npy"),
    "twice": ([("a.npy", _npy(np.zeros(3))), ("a.npy", _npy(np.ones(3)))], 0, "appears twice"),
    "bzip2": ([("a.npy", _npy(np.zeros(3)))], zipfile.ZIP_BZIP2, "compression method 12"),
    "lzma": ([("a.npy", _npy(np.zeros(3)))], zipfile.ZIP_LZMA, "compression method 14"),
    "format 3": ([("a.npy", b"\x93NUMPY\x03\x00" + bytes(8))], 0, r"\.npy format \(3, 0\)"),
}


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("case", list(ODD_ARCHIVES))
def test_odd_archives_are_refused_naming_the_member(tmp_path, case):
    members, method, why = ODD_ARCHIVES[case]
    path = tmp_path / "odd.npz"
    _archive(path, members, method)
    with pytest.raises(ValueError, match=rf"Owner\.load: .*odd\.npz is not a readable .*{why}"):
        npzfile.load_arrays(path, "Owner.load")


def test_encrypted_member_is_refused(tmp_path):
    path = tmp_path / "enc.npz"
    _archive(path, [("a.npy", _npy(np.zeros(3)))])
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set "encrypted"
        i = raw.find(signature)
        raw[i + offset] |= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"member 'a\.npy' is encrypted"):
        npzfile.load_arrays(path, "Owner.load")


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"0.W": np.zeros((4, 5), np.float64)},
            r"0\.W: expected \(4, 5\) float32, got \(4, 5\) float64",
        ),
        (
            {"0.W": np.zeros((5, 4), np.float32)},
            r"0\.W: expected \(4, 5\) float32, got \(5, 4\) float32",
        ),
        (
            {"0.W": np.zeros(20, np.float32)},
            r"0\.W: expected \(4, 5\) float32, got \(20,\) float32",
        ),
        ({"9.W": np.zeros(1, np.float32)}, r"unexpected \['9\.W'\]"),
    ],
)
def test_sequential_load_refuses_wrong_shapes_and_dtypes_and_keeps_the_net(
    tmp_path, change, message
):
    path = tmp_path / "w.npz"
    net = small_net(1.0)
    npzfile.save_arrays(path, {**small_net(2.0).params, **change})
    with pytest.raises(ValueError, match=rf"Sequential\.load: .*w\.npz does not match.*{message}"):
        net.load(path)
    assert all((p == 1.0).all() for p in net.params.values())


def test_lazily_sized_autograd_model_refuses_weights_of_another_width_or_dtype(tmp_path):
    path = tmp_path / "w.npz"
    arrays = {k: p.data for k, p in _flat(small_model())}
    arrays["l0/W"] = np.zeros((4, 7), np.float64)  # the model's l0 has 5 outputs, float32
    npzfile.save_arrays(path, arrays)
    with pytest.raises(
        ValueError, match=r"MLP\.load_weights: .*l0/W: expected \(\?, 5\) float32, got \(4, 7\)"
    ):
        small_model(sized=False).load_weights(path)


def _flat(model):
    params = {}
    model._flatten_params(params)
    return params.items()


# ---------------------------------------------------------------- hostile IDX files


def _gzip_member(raw_deflate, crc=0, size=0):
    """A gzip file around a raw deflate stream (CRC and size as given: they may lie)."""
    return (
        b"\x1f\x8b\x08\x00" + bytes(4) + b"\x02\xff" + raw_deflate + struct.pack("<II", crc, size)
    )


def test_idx_header_declaring_too_much_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.gz"
    with open(path, "wb") as f:
        f.write(
            _gzip_member(zlib.compress(bytes.fromhex("00000803 3b9aca00 0000001c 0000001c"))[2:-4])
        )
    err, peak = _peak_memory(lambda: read_idx(path, datasets.IMAGES_MAGIC))
    assert isinstance(err, ValueError)
    assert re.match(
        r"read_idx: .*huge\.gz: header declares shape \(1000000000, 28, 28\) "
        r"\(784000000000 bytes of data\), more than max_bytes=1073741824",
        str(err),
    ), str(err)
    assert peak < 1_000_000


def test_idx_gzip_bomb_is_read_no_further_than_its_header_declares(tmp_path):
    header = bytes.fromhex("00000803 00000002 0000001c 0000001c")
    path = tmp_path / "bomb.gz"
    path.write_bytes(_gzip_member(deflated_zeros(header, 1024, block=1 << 20)))  # 1 GiB
    assert path.stat().st_size < 2_000_000
    start = time.monotonic()
    err, peak = _peak_memory(lambda: read_idx(path, datasets.IMAGES_MAGIC))
    assert isinstance(err, ValueError)
    assert re.match(
        r"read_idx: .*bomb\.gz: header declares shape \(2, 28, 28\) \(1568 bytes of data\) "
        r"but the file holds more than 1050144; it is truncated or corrupt",
        str(err),
    ), str(err)
    assert peak < 20_000_000 and time.monotonic() - start < 5


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_idx_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "x.gz"
    os.mkfifo(path)
    err = _error_without_blocking(read_idx, path)
    assert isinstance(err, ValueError)
    assert re.match(r"read_idx: .*x\.gz is not a regular file \(it is a FIFO\)", str(err))


# -------------------------------------------------------- random corruptions (hypothesis)


def _valid_file(tmp_path):
    arrays = {
        "0.W": np.arange(12, dtype=np.float32).reshape(3, 4),
        "0.b": np.array([1.5, -2.0, 0.25], np.float64),
        "1.k": np.arange(5, dtype=np.int16),
    }
    path = tmp_path / "valid.npz"
    npzfile.save_arrays(path, arrays)
    return arrays, path.read_bytes()


corruptions = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
)


def corrupt(raw, edits):
    raw = bytearray(raw)
    for kind, where, value in edits:
        i = where % (len(raw) + 1)
        if kind == "flip" and i < len(raw):
            raw[i] ^= value
        elif kind == "truncate":
            del raw[i:]
        elif kind == "insert":
            raw[i:i] = bytes([value])
    return bytes(raw)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(corruptions, min_size=1, max_size=3))
def test_a_corrupted_weights_file_gives_value_error_or_the_same_arrays(tmp_path, edits):
    arrays, raw = _valid_file(tmp_path)
    path = tmp_path / "bad.npz"
    path.write_bytes(corrupt(raw, edits))
    try:
        loaded = npzfile.load_arrays(path, "Owner.load")
    except ValueError as err:
        assert str(err).startswith(f"Owner.load: {path} ")
        return
    # the zip CRC guards the data; only metadata the loader ignores may have changed
    assert set(loaded) == set(arrays)
    for k, v in arrays.items():
        assert loaded[k].dtype == v.dtype and loaded[k].shape == v.shape
        np.testing.assert_array_equal(loaded[k], v)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(corruptions, min_size=1, max_size=3))
def test_sequential_load_of_a_corrupted_file_leaves_the_net_or_loads_it_exactly(tmp_path, edits):
    path = tmp_path / "net.npz"
    small_net(2.0).save(path)
    path.write_bytes(corrupt(path.read_bytes(), edits))
    net = small_net(1.0)
    try:
        net.load(path)
    except ValueError as err:
        assert str(err).startswith("Sequential.load: ")
        assert all((p == 1.0).all() for p in net.params.values())  # nothing changed
    else:
        assert all((p == 2.0).all() for p in net.params.values())


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(corruptions, min_size=1, max_size=3))
def test_a_corrupted_idx_file_gives_value_error_or_the_same_array(tmp_path, edits):
    array = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / "x.gz", array)
    path = tmp_path / "bad.gz"
    path.write_bytes(corrupt((tmp_path / "x.gz").read_bytes(), edits))
    try:
        got = read_idx(path, datasets.IMAGES_MAGIC)
    except ValueError as err:
        assert str(err).startswith(f"read_idx: {path}")
    else:
        np.testing.assert_array_equal(got, array)  # gzip's CRC guards the data


dtypes = st.sampled_from(["float16", "float32", "float64", "int8", "int64", "uint8", "bool"])
shapes = st.lists(st.integers(0, 4), max_size=3).map(tuple)


@given(want_shape=shapes, want_dtype=dtypes, got_shape=shapes, got_dtype=dtypes)
def test_mismatches_law(want_shape, want_dtype, got_shape, got_dtype):
    want, got = np.zeros(want_shape, want_dtype), np.zeros(got_shape, got_dtype)
    problems = npzfile.mismatches({"p": want}, {"p": got})
    assert (problems == []) == (want_shape == got_shape and want_dtype == got_dtype)
    lazy = npzfile.ArraySpec((None, *want_shape[1:]), want_dtype) if want_shape else None
    if lazy is not None:
        fits = len(got_shape) == len(want_shape) and got_shape[1:] == want_shape[1:]
        fits = fits and got_dtype == want_dtype
        assert (npzfile.mismatches({"p": lazy}, {"p": got}) == []) == fits


def test_a_damaged_directory_that_hides_a_member_is_refused(tmp_path):
    # Found by the hypothesis test above: one flipped byte in the central directory made
    # zipfile list two of three members, and the file loaded with an array missing.
    arrays, raw = _valid_file(tmp_path)
    assert len(arrays) == 3
    path = tmp_path / "bad.npz"
    path.write_bytes(corrupt(raw, [("flip", 3998, 53)]))
    with pytest.raises(ValueError, match=r"Owner\.load: .* lists 2 member\(s\) but declares 3"):
        npzfile.load_arrays(path, "Owner.load")
