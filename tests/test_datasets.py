"""Tests for framework.datasets: search order, downloads, cache, sample, spirals.

The IDX reader and writer (framework.idx) are tested in tests/test_idx.py.

Loaders download for real from the HTTP server of tests/test_downloads.py on
127.0.0.1; the internet is never touched.  The mirror loop and the deadline
(framework.downloads) are tested there.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from framework import datasets, downloads
from framework.datasets import (
    FILES,
    fashion_mnist_labels,
    load_fashion_mnist,
    load_mnist,
    load_spiral,
    write_idx,
)
from tests import test_downloads as mirrors
from tests.test_downloads import FAST, sha256_of

# SHA-256 of the *decompressed* upstream Fashion-MNIST files, as published e.g. in
# Zalando-derived loaders that check raw IDX bytes; the Debian package re-gzips the
# files (so its .gz hashes differ from tensorflow/datasets' ones) but must match these.
FASHION_RAW_SHA256 = [  # in the order of FILES
    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
]


# ---------------------------------------------------------------- helpers and fixtures


def make_set(folder, n_train=20, n_test=10, seed=0):
    """Write four tiny IDX files (28x28 random images, labels cycling 0..9) to ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "t_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t_test": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for fname, key in FILES.items():
        write_idx(folder / fname, arrays[key])
    return arrays


server = mirrors.server  # the local HTTP server fixture (and a refusing URL), shared
dead_url = mirrors.dead_url


@pytest.fixture
def private_cache(monkeypatch, tmp_path):
    """Caches go under tmp_path, not into the real ~/.cache/framework."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "framework"


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $FRAMEWORK_DATA, no repo or system folder, a private user cache, no proxy."""
    for var in ("FRAMEWORK_DATA", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(datasets, "_REPO_DATA", tmp_path / "repo" / "datasets")
    for source in datasets._SOURCES.values():
        monkeypatch.setitem(source, "system_dirs", [])
    return tmp_path


@pytest.fixture
def served_set(server, tmp_path):
    """A tiny set served under ``/good/``; returns the arrays and the name -> sha256 table."""
    arrays = make_set(tmp_path / "upstream", n_train=30, n_test=10, seed=7)
    hashes = {}
    for fname in FILES:
        server.files[f"/good/{fname}"] = (tmp_path / "upstream" / fname).read_bytes()
        hashes[fname] = sha256_of(tmp_path / "upstream" / fname)
    return arrays, hashes


# ------------------------------------------------------------------ loaders


def test_loader_names_the_corrupt_file(isolated):
    folder = isolated / "data"
    make_set(folder)
    data = (folder / "t10k-images-idx3-ubyte.gz").read_bytes()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(data[:-100])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz is not a readable gzip"):
        load_fashion_mnist(data_dir=folder, verbose=False)


def test_loader_checks_counts_label_range_and_image_size(isolated, rng):
    folder = isolated / "data"
    make_set(folder, n_train=20)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(19, dtype=np.uint8))
    with pytest.raises(ValueError, match="20 images in x_train but 19 labels in t_train"):
        load_fashion_mnist(data_dir=folder, verbose=False)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.full(20, 10, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz: expected labels 0..9"):
        load_fashion_mnist(data_dir=folder, verbose=False)
    make_set(folder)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((10, 32, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"expected 28x28 images, got shape \(10, 32, 32\)"):
        load_fashion_mnist(data_dir=folder, verbose=False)


# ----------------------------------------------------------------------- downloads


def test_load_downloads_into_data_dir_then_reuses_it(isolated, server, served_set, monkeypatch):
    arrays, hashes = served_set
    source = datasets._SOURCES["fashion-mnist"]
    monkeypatch.setitem(source, "sha256", tuple(hashes[fname] for fname in FILES))
    monkeypatch.setitem(source, "mirrors", [f"{server.url}/good/"])
    monkeypatch.setattr(downloads, "TIMEOUT", FAST)
    (isolated / "data").mkdir()  # an explicit data_dir must exist (a typo is never created)
    (x, t), (x_test, t_test) = load_fashion_mnist(
        normalize=False, data_dir=isolated / "data", verbose=False
    )
    np.testing.assert_array_equal(x, arrays["x_train"].reshape(30, 784))
    np.testing.assert_array_equal(t_test, arrays["t_test"])
    assert sorted(os.listdir(isolated / "data" / "fashion-mnist")) == sorted(
        [*FILES, "fashion-mnist.npz"]
    )
    server.log.clear()
    load_fashion_mnist(data_dir=isolated / "data", verbose=False)
    assert server.log == []  # found on disk: no second download


def test_load_without_data_dir_downloads_into_the_user_cache(isolated, server, served_set,
                                                             monkeypatch):  # fmt: skip
    _, hashes = served_set
    source = datasets._SOURCES["mnist"]
    monkeypatch.setitem(source, "sha256", tuple(hashes[fname] for fname in FILES))
    monkeypatch.setitem(source, "mirrors", [f"{server.url}/good/"])
    (x, _), _ = load_mnist(verbose=False)
    assert x.shape == (30, 784)
    assert (isolated / "xdg" / "framework" / "mnist" / "train-images-idx3-ubyte.gz").is_file()


def test_fashion_falls_back_to_the_sample_and_says_so(isolated, dead_url, monkeypatch, capsys):
    monkeypatch.setitem(datasets._SOURCES["fashion-mnist"], "mirrors", [dead_url])
    monkeypatch.setattr(downloads, "TIMEOUT", FAST)
    with pytest.warns(UserWarning, match="Using the bundled SAMPLE instead") as record:
        (x, t), (x_test, t_test) = load_fashion_mnist()
    message = str(record[0].message)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "FRAMEWORK_DATA" in message
    assert dead_url in message  # the failed mirror is named
    assert "Using the bundled SAMPLE instead" in capsys.readouterr().out
    assert x.shape == (6000, 784) and x_test.shape == (1000, 784)
    with pytest.warns(UserWarning, match="download=False"):
        load_fashion_mnist(download=False, verbose=False)


def test_mnist_failure_lists_places_and_mirrors(isolated, dead_url, monkeypatch):
    monkeypatch.setitem(datasets._SOURCES["mnist"], "mirrors", [dead_url])
    monkeypatch.setattr(downloads, "TIMEOUT", FAST)
    (isolated / "mine").mkdir()
    with pytest.raises(FileNotFoundError, match="load_mnist: MNIST is not installed here") as info:
        load_mnist(data_dir=isolated / "mine", verbose=False)
    message = str(info.value)
    assert str(isolated / "mine" / "mnist") in message
    assert str(isolated / "xdg" / "framework" / "mnist") in message
    assert f"{dead_url}train-images-idx3-ubyte.gz" in message
    with pytest.raises(ValueError, match=r"no MNIST sample is bundled.*load_fashion_mnist"):
        load_mnist(sample=True)


def test_mnist_offline_says_it_is_not_installed_and_points_to_fashion(isolated, dead_url,
                                                                   monkeypatch):  # fmt: skip
    monkeypatch.setitem(datasets._SOURCES["mnist"], "mirrors", [dead_url])
    monkeypatch.setattr(downloads, "TIMEOUT", FAST)
    for download in (False, True):
        with pytest.raises(FileNotFoundError) as info:
            load_mnist(download=download, verbose=False)
        message = str(info.value)
        assert message.startswith("load_mnist: MNIST is not installed here")
        assert "load_fashion_mnist takes the same arguments and works offline" in message
        assert "FRAMEWORK_DATA" in message
    assert dead_url in message  # the mirror tried is named
    # ... and the advice holds: the same call on Fashion-MNIST works with no network
    with pytest.warns(UserWarning, match="bundled SAMPLE"):
        (x, t), _ = load_fashion_mnist(download=False, verbose=False)
    assert x.shape == (6000, 784)


def test_import_does_not_need_pooch():
    code = "import sys, framework.datasets; sys.exit('pooch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# -------------------------------------------------------------------- search order


def test_search_order(isolated, monkeypatch):
    system = isolated / "system"
    monkeypatch.setitem(datasets._SOURCES["fashion-mnist"], "system_dirs", [system])
    monkeypatch.setenv("FRAMEWORK_DATA", str(isolated / "env"))
    places = [  # (folder, number of training images it holds), highest priority first
        (isolated / "arg" / "fashion-mnist", 11),
        (isolated / "arg", 12),
        (isolated / "env" / "fashion-mnist", 13),
        (isolated / "env", 14),
        (isolated / "repo" / "datasets" / "fashion-mnist", 15),
        (system, 16),
        (isolated / "xdg" / "framework" / "fashion-mnist", 17),
    ]
    for folder, n in places:
        make_set(folder, n_train=n)
    for folder, n in places:
        (x, _), _ = load_fashion_mnist(data_dir=isolated / "arg", verbose=False)
        assert len(x) == n, f"expected the set in {folder}"
        for fname in FILES:
            (folder / fname).unlink()


@pytest.mark.parametrize("where", ["data_dir", "env"])
def test_explicit_folder_that_does_not_exist_is_an_error_not_created(isolated, monkeypatch, where):
    typo = isolated / "dtaa"
    make_set(isolated / "xdg" / "framework" / "fashion-mnist")  # a valid set elsewhere
    kwargs = {"data_dir": typo} if where == "data_dir" else {}
    if where == "env":
        monkeypatch.setenv("FRAMEWORK_DATA", str(typo))
    origin = "data_dir" if where == "data_dir" else r"\$FRAMEWORK_DATA"
    with pytest.raises(
        ValueError, match=rf"load_fashion_mnist: {origin} {re.escape(str(typo))} does not exist"
    ):
        load_fashion_mnist(verbose=False, **kwargs)
    assert not typo.exists()
    typo.write_text("a file, not a folder")
    with pytest.raises(ValueError, match=r"dtaa is not a folder; expected a folder holding"):
        load_fashion_mnist(verbose=False, **kwargs)


@pytest.mark.parametrize("download", [False, True])
def test_explicit_folder_with_only_some_files_is_an_error(
    isolated, monkeypatch, download, dead_url
):
    monkeypatch.setitem(datasets._SOURCES["fashion-mnist"], "mirrors", [dead_url])
    make_set(isolated / "xdg" / "framework" / "fashion-mnist")  # a valid set elsewhere
    folder = isolated / "data"
    make_set(folder)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    (folder / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(
        ValueError,
        match=rf"load_fashion_mnist: the folder {re.escape(str(folder))} \(from data_dir\) holds "
        r"only some of the Fashion-MNIST files: missing \['train-images-idx3-ubyte\.gz', "
        r"'t10k-labels-idx1-ubyte\.gz'\]",
    ):
        load_fashion_mnist(data_dir=folder, download=download, verbose=False)
    monkeypatch.setenv("FRAMEWORK_DATA", str(folder))
    with pytest.raises(ValueError, match=r"\(from \$FRAMEWORK_DATA\) holds only some"):
        load_mnist(download=download, verbose=False)


def test_partial_download_folder_is_completed_by_the_download(isolated, server, served_set,
                                                              monkeypatch):  # fmt: skip
    arrays, hashes = served_set
    source = datasets._SOURCES["fashion-mnist"]
    monkeypatch.setitem(source, "sha256", tuple(hashes[fname] for fname in FILES))
    monkeypatch.setitem(source, "mirrors", [f"{server.url}/good/"])
    folder = isolated / "data" / "fashion-mnist"  # where an interrupted download left 1 file
    folder.mkdir(parents=True)
    first = next(iter(FILES))
    (folder / first).write_bytes(server.files[f"/good/{first}"])
    with pytest.raises(ValueError, match=r"holds only some"):
        load_fashion_mnist(data_dir=isolated / "data", download=False, verbose=False)
    (x, _), _ = load_fashion_mnist(normalize=False, data_dir=isolated / "data", verbose=False)
    np.testing.assert_array_equal(x, arrays["x_train"].reshape(30, 784))
    assert f"/good/{first}" not in server.log  # only the missing files were fetched


def test_system_folder_is_cached_in_the_user_cache(isolated, monkeypatch):
    system = isolated / "system"
    make_set(system)
    monkeypatch.setitem(datasets._SOURCES["fashion-mnist"], "system_dirs", [system])
    load_fashion_mnist(verbose=False)
    assert sorted(os.listdir(system)) == sorted(FILES)  # nothing written next to the data
    assert len(list((isolated / "xdg" / "framework").glob("fashion-mnist-*.npz"))) == 1


# --------------------------------------------------------------------------- cache


def test_cache_is_used_and_a_corrupt_cache_is_rebuilt(isolated, monkeypatch):
    folder = isolated / "data"
    arrays = make_set(folder)
    first = load_fashion_mnist(normalize=False, data_dir=folder, verbose=False)
    cache = folder / "fashion-mnist.npz"
    assert cache.is_file()

    def no_parsing(*args, **kwargs):
        raise AssertionError("the IDX files were parsed again instead of using the cache")

    with monkeypatch.context() as m:
        m.setattr(datasets, "read_idx", no_parsing)
        second = load_fashion_mnist(normalize=False, data_dir=folder, verbose=False)
    np.testing.assert_array_equal(second[0][0], first[0][0])
    np.testing.assert_array_equal(second[1][1], arrays["t_test"])

    cache.write_bytes(b"PK\x03\x04 this is not a zip archive any more")
    third = load_fashion_mnist(normalize=False, data_dir=folder, verbose=False)
    np.testing.assert_array_equal(third[0][0], first[0][0])
    with np.load(cache, allow_pickle=False) as z:  # rebuilt: a valid archive again
        np.testing.assert_array_equal(z["x_train"], first[0][0])


def test_cache_is_rebuilt_when_the_files_change(isolated):
    folder = isolated / "data"
    make_set(folder, n_train=20)
    load_fashion_mnist(data_dir=folder, verbose=False)
    make_set(folder, n_train=25, seed=1)
    (x, _), _ = load_fashion_mnist(data_dir=folder, verbose=False)
    assert x.shape == (25, 784)


def test_cache_with_wrong_arrays_is_ignored(isolated):
    folder = isolated / "data"
    make_set(folder)
    load_fashion_mnist(data_dir=folder, verbose=False)
    cache = folder / "fashion-mnist.npz"
    with np.load(cache, allow_pickle=False) as z:
        arrays = dict(z)
    arrays["x_train"] = arrays["x_train"][:, :100]  # right stamp, wrong shape
    with open(cache, "wb") as f:
        np.savez(f, **arrays)
    (x, _), _ = load_fashion_mnist(data_dir=folder, verbose=False)
    assert x.shape == (20, 784)


def test_cache_with_labels_out_of_range_is_ignored(isolated):
    folder = isolated / "data"
    arrays = make_set(folder)
    load_fashion_mnist(data_dir=folder, verbose=False)
    cache = folder / "fashion-mnist.npz"
    with np.load(cache, allow_pickle=False) as z:
        cached = dict(z)
    cached["t_test"] = np.full_like(cached["t_test"], 12)  # right stamp, labels out of 0..9
    with open(cache, "wb") as f:
        np.savez(f, **cached)
    _, (_, t_test) = load_fashion_mnist(data_dir=folder, verbose=False)
    np.testing.assert_array_equal(t_test, arrays["t_test"])  # rebuilt from the IDX files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_cache_that_is_a_fifo_is_ignored_without_blocking(isolated):
    folder = isolated / "data"
    make_set(folder)
    os.mkfifo(folder / "fashion-mnist.npz")  # reading it would block for ever
    (x, _), _ = load_fashion_mnist(data_dir=folder, verbose=False)
    assert x.shape == (20, 784)


# -------------------------------------------------------------------------- sample


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("one_hot_label", [True, False])
def test_sample_shapes_dtypes_and_ranges(normalize, flatten, one_hot_label, private_cache):
    (x, t), (x_test, t_test) = load_fashion_mnist(
        normalize=normalize, flatten=flatten, one_hot_label=one_hot_label, sample=True,
        verbose=False,
    )  # fmt: skip
    image_shape = (784,) if flatten else (1, 28, 28)
    assert x.shape == (6000, *image_shape) and x_test.shape == (1000, *image_shape)
    for images in (x, x_test):
        if normalize:
            assert images.dtype == np.float32
            assert images.min() == 0.0 and images.max() == 1.0
        else:
            assert images.dtype == np.uint8
            assert images.min() == 0 and images.max() == 255
    for labels, n in ((t, 6000), (t_test, 1000)):
        if one_hot_label:
            assert labels.dtype == np.float32 and labels.shape == (n, 10)
            np.testing.assert_array_equal(labels.sum(axis=1), np.ones(n))
            counts = labels.sum(axis=0)
        else:
            assert labels.dtype == np.int64 and labels.shape == (n,)
            counts = np.bincount(labels, minlength=10)
        np.testing.assert_array_equal(counts, np.full(10, n // 10))


def test_sample_flags_agree_with_each_other(private_cache):
    (x8, t), _ = load_fashion_mnist(normalize=False, sample=True, verbose=False)
    (x, t1), _ = load_fashion_mnist(flatten=False, one_hot_label=True, sample=True, verbose=False)
    np.testing.assert_array_equal(x.reshape(6000, 784), x8.astype(np.float32) / 255.0)
    np.testing.assert_array_equal(t1.argmax(axis=1), t)


def test_labels_names():
    assert len(fashion_mnist_labels) == 10
    assert fashion_mnist_labels[0] == "T-shirt/top" and fashion_mnist_labels[9] == "Ankle boot"


# -------------------------------------------------------------------------- spiral


def test_spiral_shape_dtype_and_geometry():
    x, t = load_spiral()
    assert x.shape == (300, 2) and x.dtype == np.float32
    assert t.shape == (300,) and t.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(t), [100, 100, 100])
    for c in range(3):  # the radii of each arm are exactly 0, 1/100, ..., 99/100
        radius = np.sort(np.linalg.norm(x[t == c].astype(np.float64), axis=1))
        np.testing.assert_allclose(radius, np.arange(100) / 100, atol=1e-6)
    assert not np.all(np.diff(t) >= 0)  # shuffled
    x5, t5 = load_spiral(num_per_class=7, num_classes=5)
    assert x5.shape == (35, 2)
    np.testing.assert_array_equal(np.bincount(t5), np.full(5, 7))


def test_spiral_is_deterministic_and_leaves_the_global_rng_alone():
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global RNG)
    x1, t1 = load_spiral()
    x2, t2 = load_spiral()
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(t1, t2)
    x3, _ = load_spiral(rng=np.random.default_rng(5))
    x4, _ = load_spiral(rng=5)
    np.testing.assert_array_equal(x3, x4)
    assert not np.array_equal(x1, x3)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_spiral_rejects_bad_sizes():
    with pytest.raises(ValueError, match="load_spiral: expected num_per_class a positive int"):
        load_spiral(num_per_class=0)
    with pytest.raises(ValueError, match="expected num_classes a positive int, got 2.5"):
        load_spiral(num_classes=2.5)


# ------------------------------------------------------------------ full data (slow)


@pytest.mark.slow
def test_full_fashion_mnist(fashion_mnist_dir, isolated):
    for fname, expected in zip(FILES, FASHION_RAW_SHA256, strict=True):
        with gzip.open(fashion_mnist_dir / fname) as f:
            assert hashlib.sha256(f.read()).hexdigest() == expected, fname
    (x, t), (x_test, t_test) = load_fashion_mnist(data_dir=fashion_mnist_dir, verbose=False)
    assert x.shape == (60000, 784) and x.dtype == np.float32
    assert x_test.shape == (10000, 784) and x_test.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert t.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(t), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(t_test), np.full(10, 1000))
    # the bundled sample is drawn from exactly these images and labels
    (xs, ts), _ = load_fashion_mnist(sample=True, verbose=False)
    index = {row.tobytes(): label for row, label in zip(x, t, strict=True)}
    assert all(index.get(row.tobytes()) == label for row, label in zip(xs, ts, strict=True))
