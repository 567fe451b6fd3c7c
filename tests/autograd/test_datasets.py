"""DeZero's datasets: the Dataset protocol, DeZero's spiral numbers, MNIST-like sets."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import tarfile

import numpy as np
import pytest

from framework.autograd import datasets as D
from framework.autograd import utils
from framework.datasets import write_idx


def test_importing_the_autograd_package_needs_only_numpy():
    # DeZero's datasets.py imports matplotlib and its transforms.py Pillow at the top
    heavy = ("matplotlib", "PIL", "pooch", "requests", "cupy", "torch", "graphviz")
    code = f"import sys, framework.autograd\nprint([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class Squares(D.Dataset):
    def prepare(self):
        self.data = np.arange(5)
        self.label = np.arange(5) ** 2


def test_dataset_protocol_with_transforms():
    ds = Squares(transform=lambda x: x * 10, target_transform=lambda t: -t)
    assert len(ds) == 5
    assert ds[3] == (30, -9)
    assert ds.train is True
    assert Squares(train=False).train is False
    assert Squares()[2] == (2, 4)


def test_dataset_without_labels_returns_none():
    class Unlabelled(D.Dataset):
        def prepare(self):
            self.data = np.arange(3)

    assert Unlabelled()[1] == (1, None)


def test_dataset_index_must_be_one_integer():
    with pytest.raises(
        TypeError, match=r"Squares\[index\]: expected one integer index.*DataLoader"
    ):
        Squares()[[0, 1]]


# -- spiral: DeZero's numbers, without touching the global state ---------------
def test_get_spiral_gives_dezeros_training_points():
    # values printed by DeZero 0.0.13's dezero.datasets.get_spiral(train=True)
    x, t = D.get_spiral(train=True)
    assert x.shape == (300, 2) and x.dtype == np.float32
    assert t.shape == (300,) and t.dtype == np.int64
    np.testing.assert_array_equal(
        x[:2], np.array([[-0.13981389, -0.0072165737], [0.37049392, 0.5820947]], np.float32)
    )
    assert t[:12].tolist() == [1, 1, 2, 0, 1, 2, 0, 0, 1, 2, 1, 1]
    assert x.astype(np.float64).sum() == pytest.approx(-13.916731213830644, abs=1e-9)
    assert np.abs(x.astype(np.float64)).sum() == pytest.approx(188.9234966794902, abs=1e-9)
    assert np.bincount(t).tolist() == [100, 100, 100]


def test_get_spiral_gives_dezeros_test_points():
    x, t = D.get_spiral(train=False)
    np.testing.assert_array_equal(
        x[:2], np.array([[0.13246453, 0.13620993], [-0.31427157, 0.24745378]], np.float32)
    )
    assert t[:12].tolist() == [0, 1, 0, 1, 2, 2, 1, 2, 2, 0, 1, 1]
    assert x.astype(np.float64).sum() == pytest.approx(-11.263850776544132, abs=1e-9)


def test_get_spiral_leaves_the_global_state_alone():
    np.random.seed(5)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    D.get_spiral()
    D.Spiral(train=False)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_get_spiral_from_the_global_state_leaves_it_where_dezero_does():
    np.random.seed(1984)  # noqa: NPY002
    x, t = D.get_spiral(rng=np.random)
    np.testing.assert_array_equal(x, D.get_spiral()[0])
    # DeZero's get_spiral(train=True) followed by np.random.randn() prints this
    assert np.random.randn() == 0.24333422293984552  # noqa: NPY002


def test_spiral_dataset():
    ds = D.Spiral()
    x, t = D.get_spiral()
    assert len(ds) == 300
    np.testing.assert_array_equal(ds[7][0], x[7])
    assert ds[7][1] == t[7]


# -- SinCurve -----------------------------------------------------------------
def test_sin_curve_is_next_value_prediction():
    np.random.seed(0)  # noqa: NPY002
    train = D.SinCurve(train=True)
    assert len(train) == 999
    assert train.data.shape == (999, 1) and train.data.dtype == np.float64
    np.testing.assert_array_equal(train.label[:-1], train.data[1:])
    x = np.linspace(0, 2 * np.pi, 1000)
    noise = train.data[:, 0] - np.sin(x[:-1])
    assert np.abs(noise).max() <= 0.05 and np.abs(noise).max() > 0.04
    np.random.seed(0)  # noqa: NPY002
    np.testing.assert_array_equal(D.SinCurve().data, train.data)  # repeats under the seed
    test = D.SinCurve(train=False)
    np.testing.assert_allclose(test.data[:, 0], np.cos(x[:-1]))


# -- MNIST-like sets ----------------------------------------------------------
@pytest.fixture
def fake_mnist(tmp_path, rng):
    folder = tmp_path / "mnist"
    folder.mkdir()
    images = {"train": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)}
    images["t10k"] = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = {"train": rng.integers(0, 10, 20, dtype=np.uint8)}
    labels["t10k"] = rng.integers(0, 10, 5, dtype=np.uint8)
    for split in ("train", "t10k"):
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images[split])
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels[split])
    return tmp_path, images, labels


def test_mnist_serves_uint8_images_and_flattens_them_by_default(fake_mnist):
    root, images, labels = fake_mnist
    ds = D.MNIST(train=True, data_dir=root, download=False)
    assert len(ds) == 20
    assert ds.data.shape == (20, 1, 28, 28) and ds.data.dtype == np.uint8
    x, t = ds[3]
    assert x.shape == (784,) and x.dtype == np.float32
    np.testing.assert_allclose(x, images["train"][3].ravel() / np.float32(255.0), rtol=1e-6)
    assert t == labels["train"][3]
    test = D.MNIST(train=False, transform=None, data_dir=root, download=False)
    assert len(test) == 5
    np.testing.assert_array_equal(test[4][0], images["t10k"][4][None])
    assert D.MNIST.labels()[7] == "7"


def test_mnist_without_files_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="MNIST is not installed"):
        D.MNIST(data_dir=tmp_path, download=False)


def test_fashion_mnist_works_offline_with_the_sample():
    train = D.FashionMNIST(sample=True)
    test = D.FashionMNIST(train=False, sample=True)
    assert (len(train), len(test)) == (6000, 1000)
    x, t = train[0]
    assert x.shape == (784,) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
    assert 0 <= t <= 9
    assert set(np.unique(train.label).tolist()) == set(range(10))
    assert D.FashionMNIST.labels()[9] == "Ankle boot"


# -- sets that need a download: parsing tested on local files ------------------
@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setattr(utils, "cache_dir", str(folder))
    return folder


def test_save_and_load_cache_npz(cache, rng):
    url = "https://example.org/files/set.tar.gz"
    assert D.load_cache_npz(url, train=True) == (None, None)
    data, label = rng.integers(0, 255, (4, 3), dtype=np.uint8), np.arange(4)
    path = D.save_cache_npz(data, label, url, train=True)
    assert path == str(cache / "set.tar.gz.train.npz")
    got = D.load_cache_npz(url, train=True)
    np.testing.assert_array_equal(got[0], data)
    np.testing.assert_array_equal(got[1], label)
    assert D.load_cache_npz(url, train=False) == (None, None)
    assert sorted(p.name for p in cache.iterdir()) == ["set.tar.gz.train.npz"]


def test_cifar_batches_are_read_from_the_archive(tmp_path, rng):
    path = tmp_path / "cifar.tar.gz"
    batches = {}
    with tarfile.open(path, "w:gz") as archive:
        for name in ("data_batch_1", "data_batch_2", "test_batch"):
            batch = {
                b"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8),
                b"labels": [int(v) for v in rng.integers(0, 10, 3)],
            }
            batches[name] = batch
            payload = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    data, label = D._read_cifar_batches(path, ["data_batch_1", "data_batch_2"], b"labels")
    assert data.shape == (6, 3, 32, 32) and data.dtype == np.uint8
    np.testing.assert_array_equal(data[3].ravel(), batches["data_batch_2"][b"data"][0])
    assert (
        label.tolist() == batches["data_batch_1"][b"labels"] + batches["data_batch_2"][b"labels"]
    )
    with pytest.raises(ValueError, match="no batch 'data_batch_5'"):
        D._read_cifar_batches(path, ["data_batch_5"], b"labels")


def test_cifar10_loads_from_its_npz_cache(cache, rng):
    url = D._CIFAR[10][0]
    data = rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    D.save_cache_npz(data, np.arange(4), url, train=False)
    ds = D.CIFAR10(train=False)
    x, t = ds[1]
    assert x.shape == (3, 32, 32) and x.dtype == np.float32
    np.testing.assert_allclose(x, (data[1].astype(np.float32) - 0.5) / 0.5)
    assert t == 1
    assert D.CIFAR10.labels()[0] == "airplane"


def test_cifar100_checks_its_label_type():
    with pytest.raises(ValueError, match="CIFAR100: expected label_type 'fine' or 'coarse'"):
        D.CIFAR100(label_type="medium")


def test_imagenet_has_only_its_labels(cache):
    with pytest.raises(NotImplementedError, match=r"ImageNet.labels\(\)"):
        D.ImageNet()
    name = D.ImageNet.LABELS_URL.rsplit("/", 1)[1]
    (cache / name).write_text("{0: 'tench, Tinca tinca',\n 1: 'goldfish'}")
    assert D.ImageNet.labels() == {0: "tench, Tinca tinca", 1: "goldfish"}


def test_shakespear_reads_characters_as_ids(cache):
    (cache / "shakespear.txt").write_text("abcab")
    ds = D.Shakespear()
    assert ds.char_to_id == {"a": 0, "b": 1, "c": 2}
    assert ds.id_to_char == {0: "a", 1: "b", 2: "c"}
    assert ds.data.tolist() == [0, 1, 2, 0]
    assert ds.label.tolist() == [1, 2, 0, 1]


def test_download_sets_offline_raise_a_clear_error(cache, monkeypatch):
    pytest.importorskip("pooch")
    monkeypatch.setattr(D.Shakespear, "URL", "http://127.0.0.1:9/input.txt")  # nobody listens
    with pytest.raises(ConnectionError, match="get_file: cannot download"):
        D.Shakespear()
