"""DeZero's ``datasets``: a ``Dataset`` base class and the sets DeZero's steps train on.

A dataset holds ``data`` and ``label`` arrays; ``dataset[i]`` returns the pair
``(transform(data[i]), target_transform(label[i]))`` and ``len(dataset)`` the number
of examples.  A subclass fills ``data`` and ``label`` in ``prepare()``.

=========================  ======================================================
``Spiral``, ``get_spiral``  three interleaved spirals (DeZero's numbers, exactly)
``SinCurve``                a noisy sine wave for the RNNs of steps 59-60
``MNIST``                   digits, over :func:`framework.datasets.load_mnist`
``FashionMNIST``            clothes, over :func:`framework.datasets.load_fashion_mnist`;
                            works offline with the bundled sample
``CIFAR10``, ``CIFAR100``   colour images, downloaded with ``utils.get_file``
``Shakespear``              characters of Shakespeare (DeZero's spelling), downloaded
``ImageNet``                only ``ImageNet.labels()`` (a download)
=========================  ======================================================

Randomness: ``get_spiral`` draws from a local ``RandomState`` seeded as DeZero
seeds the global one, so the points are DeZero's but NumPy's global state is left
alone (DeZero's ``get_spiral`` reseeds it).  ``SinCurve``'s noise comes from the
global state, as in DeZero, so ``np.random.seed`` repeats it.
"""

from __future__ import annotations

import os
import pickle
import tarfile

import numpy as np

from .. import datasets as _loaders
from . import utils
from .transforms import Compose, Flatten, Normalize, ToFloat

__all__ = [
    "Dataset",
    "get_spiral",
    "Spiral",
    "MNIST",
    "FashionMNIST",
    "CIFAR10",
    "CIFAR100",
    "ImageNet",
    "SinCurve",
    "Shakespear",
    "load_cache_npz",
    "save_cache_npz",
]


def _identity(x):
    return x


class Dataset:
    """Base class: ``data`` and ``label`` arrays, indexed one example at a time.

    Parameters
    ----------
    train : bool
        The training split (True) or the test split.
    transform, target_transform : callable, optional
        Applied to ``data[i]`` and ``label[i]`` when example ``i`` is read.
    """

    def __init__(self, train: bool = True, transform=None, target_transform=None):
        self.train = train
        self.transform = _identity if transform is None else transform
        self.target_transform = _identity if target_transform is None else target_transform
        self.data = None
        self.label = None
        self.prepare()

    def __getitem__(self, index):
        if not np.isscalar(index):
            raise TypeError(
                f"{type(self).__name__}[index]: expected one integer index, got "
                f"{type(index).__name__}; use a DataLoader for mini-batches"
            )
        x = self.transform(self.data[index])
        if self.label is None:
            return x, None
        return x, self.target_transform(self.label[index])

    def __len__(self) -> int:
        return len(self.data)

    def prepare(self) -> None:
        """Fill ``self.data`` and ``self.label`` (subclasses override this)."""


# -- toy data sets ------------------------------------------------------------
def get_spiral(train: bool = True, rng=None):
    """Three interleaved spirals of 100 points each: DeZero's toy classification set.

    Point i of arm j: ``r = i / 100``, ``theta = 4 j + 4 r + 0.2 e`` with ``e`` drawn
    from N(0, 1), and ``x = (r sin theta, r cos theta)``; the 300 points are then
    shuffled.  The noise comes from ``RandomState(1984)`` (train) or
    ``RandomState(2020)`` (test), so the points equal DeZero's exactly, but NumPy's
    global state is left untouched.  DeZero's ``get_spiral`` reseeds the global
    state instead, so the weights drawn *after* it in a DeZero script depend on
    it; to get those numbers too, seed the global state and pass ``rng=np.random``::

        np.random.seed(1984)
        x, t = get_spiral(rng=np.random)   # leaves np.random where DeZero leaves it

    Parameters
    ----------
    train : bool
    rng : numpy.random.RandomState, numpy.random.Generator or np.random, optional
        Draws the noise (``standard_normal``) and the shuffle (``permutation``).

    Returns
    -------
    x : ndarray, float32, shape (300, 2)
    t : ndarray, int64, shape (300,)
    """
    if rng is None:
        rng = np.random.RandomState(1984 if train else 2020)  # noqa: NPY002 (DeZero's stream)
    num_data, num_class = 100, 3
    rate = np.arange(num_data) / num_data
    noise = rng.standard_normal((num_class, num_data))  # DeZero's order: arm by arm
    theta = np.arange(num_class)[:, None] * 4.0 + 4.0 * rate + noise * 0.2  # (3, 100)
    x = np.stack([rate * np.sin(theta), rate * np.cos(theta)], axis=-1)
    x = x.reshape(-1, 2).astype(np.float32)
    t = np.repeat(np.arange(num_class), num_data)
    indices = rng.permutation(num_data * num_class)
    return x[indices], t[indices]


class Spiral(Dataset):
    """``get_spiral`` as a ``Dataset``: 300 points (float32, 2 values) and labels 0-2."""

    def prepare(self):
        self.data, self.label = get_spiral(self.train)


class SinCurve(Dataset):
    """999 steps of a sine wave for next-value prediction (DeZero steps 59-60).

    ``y = sin(x) + noise`` on 1000 points of [0, 2 pi] (noise uniform in
    [-0.05, 0.05] from NumPy's global state) for training, ``cos(x)`` for testing;
    ``data[i] = y[i]`` and ``label[i] = y[i + 1]``, each of shape (1,), float64.
    """

    def prepare(self):
        x = np.linspace(0, 2 * np.pi, 1000)
        noise = np.random.uniform(-0.05, 0.05, size=x.shape)  # noqa: NPY002 (global state)
        y = np.sin(x) + noise if self.train else np.cos(x)
        self.data = y[:-1][:, np.newaxis]
        self.label = y[1:][:, np.newaxis]


# -- MNIST-like data sets -----------------------------------------------------
class MNIST(Dataset):
    """MNIST digits as DeZero serves them: (1, 28, 28) uint8 images, labels 0-9.

    The files come from :func:`framework.datasets.load_mnist` (its search folders,
    cache and mirrors).  The default ``transform`` flattens each image to 784
    float32 values in [0, 1], as DeZero's.

    Parameters
    ----------
    train : bool
    transform, target_transform : callable, optional
    data_dir : str, optional
        Searched first for the four IDX files (keyword only; not in DeZero).
    download : bool
        Download the files when no folder has them (keyword only).
    """

    _load = staticmethod(_loaders.load_mnist)
    _options: tuple = ()

    def __init__(
        self,
        train: bool = True,
        transform=Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)]),  # noqa: B008
        target_transform=None,
        *,
        data_dir=None,
        download: bool = True,
    ):
        self.data_dir = data_dir
        self.download = download
        super().__init__(train, transform, target_transform)

    def prepare(self):
        options = {name: getattr(self, name) for name in self._options}
        train, test = self._load(
            normalize=False,
            flatten=False,
            data_dir=self.data_dir,
            download=self.download,
            verbose=False,
            **options,
        )
        self.data, self.label = train if self.train else test

    def show(self, row: int = 10, col: int = 10):
        """Draw ``row x col`` random images in one matplotlib figure."""
        import matplotlib.pyplot as plt

        H, W = self.data.shape[-2:]
        idx = np.random.randint(0, len(self.data), size=row * col)  # noqa: NPY002
        img = self.data[idx].reshape(row, col, H, W).transpose(0, 2, 1, 3)
        plt.imshow(img.reshape(row * H, col * W), cmap="gray", interpolation="nearest")
        plt.axis("off")
        plt.show()

    @staticmethod
    def labels() -> dict:
        """Class index -> name: the digits '0' to '9'."""
        return {i: str(i) for i in range(10)}


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando's clothes) with ``MNIST``'s interface; works offline.

    Over :func:`framework.datasets.load_fashion_mnist`: the full set where it is
    installed, else the sample bundled with the repository (6,000 training and 1,000
    test images).  ``sample=True`` (keyword only) asks for the sample directly.
    """

    _load = staticmethod(_loaders.load_fashion_mnist)
    _options = ("sample",)

    def __init__(
        self,
        train: bool = True,
        transform=Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)]),  # noqa: B008
        target_transform=None,
        *,
        data_dir=None,
        download: bool = True,
        sample: bool = False,
    ):
        self.sample = sample
        super().__init__(train, transform, target_transform, data_dir=data_dir, download=download)

    @staticmethod
    def labels() -> dict:
        """Class index -> name ('T-shirt/top', 'Trouser', ... 'Ankle boot')."""
        return dict(enumerate(_loaders.fashion_mnist_labels))


# -- data sets that need a download -------------------------------------------
# Each file comes through ``utils.get_file`` into ``utils.cache_dir`` (``~/.dezero``),
# checked against the checksum published for it where one is known.
_CIFAR = {
    10: ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
         "md5:c58f30108f718f92721af3b95e74349a"),
    100: ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
          "md5:eb9058c3a382ffc7106e4002c42a8d85"),
}  # fmt: skip


def _read_cifar_batches(path, names, key):
    """Read ``data`` (N, 3072) and labels ``key`` from the pickled batches ``names``.

    CIFAR ships its batches only as Python pickles; they are read from the
    archive whose checksum ``get_file`` verified.
    """
    data, labels = [], []
    with tarfile.open(path, "r:gz") as archive:
        members = {os.path.basename(m.name): m for m in archive.getmembers() if m.isfile()}
        for name in names:
            if name not in members:
                raise ValueError(
                    f"CIFAR: {path} has no batch {name!r}; delete it to download again"
                )
            batch = pickle.load(archive.extractfile(members[name]), encoding="bytes")
            data.append(np.asarray(batch[b"data"], dtype=np.uint8))
            labels.append(np.asarray(batch[key], dtype=np.int64))
    return np.concatenate(data).reshape(-1, 3, 32, 32), np.concatenate(labels)


class CIFAR10(Dataset):
    """CIFAR-10: 32x32 colour images (3, 32, 32) uint8 of 10 classes; a 163 MB download.

    The parsed arrays are cached as ``.npz`` next to the archive.  The default
    ``transform`` is DeZero's: float32, then ``(x - 0.5) / 0.5``.
    """

    def __init__(
        self,
        train: bool = True,
        transform=Compose([ToFloat(), Normalize(mean=0.5, std=0.5)]),  # noqa: B008
        target_transform=None,
    ):
        super().__init__(train, transform, target_transform)

    def prepare(self):
        url, known_hash = _CIFAR[10]
        self.data, self.label = load_cache_npz(url, self.train)
        if self.data is not None:
            return
        path = utils.get_file(url, known_hash=known_hash)
        names = [f"data_batch_{i}" for i in range(1, 6)] if self.train else ["test_batch"]
        self.data, self.label = _read_cifar_batches(path, names, b"labels")
        save_cache_npz(self.data, self.label, url, self.train)

    @staticmethod
    def labels() -> dict:
        """Class index -> name."""
        names = "airplane automobile bird cat deer dog frog horse ship truck".split()
        return dict(enumerate(names))


class CIFAR100(CIFAR10):
    """CIFAR-100: as ``CIFAR10`` with 100 fine classes, or 20 coarse ones.

    Parameters
    ----------
    label_type : {'fine', 'coarse'}
    """

    def __init__(
        self,
        train: bool = True,
        transform=Compose([ToFloat(), Normalize(mean=0.5, std=0.5)]),  # noqa: B008
        target_transform=None,
        label_type: str = "fine",
    ):
        if label_type not in ("fine", "coarse"):
            raise ValueError(
                f"CIFAR100: expected label_type 'fine' or 'coarse', got {label_type!r}"
            )
        self.label_type = label_type
        super().__init__(train, transform, target_transform)

    def prepare(self):
        url, known_hash = _CIFAR[100]
        cache_name = f"{url}.{self.label_type}"
        self.data, self.label = load_cache_npz(cache_name, self.train)
        if self.data is not None:
            return
        path = utils.get_file(url, known_hash=known_hash)
        names = ["train"] if self.train else ["test"]
        key = b"fine_labels" if self.label_type == "fine" else b"coarse_labels"
        self.data, self.label = _read_cifar_batches(path, names, key)
        save_cache_npz(self.data, self.label, cache_name, self.train)


class ImageNet(Dataset):
    """ImageNet's 1000 class names only (``ImageNet.labels()``), as in DeZero.

    The images are not freely downloadable, so the class cannot be instantiated;
    ``labels()`` downloads the index -> name table once (VGG16's predictions
    are indices into it).
    """

    LABELS_URL = (
        "https://gist.githubusercontent.com/yrevar/942d3a0ac09ec9e5eb3a/raw/"
        "238f720ff059c1f82f368259d1ca4ffa5dd8f9f5/imagenet1000_clsidx_to_labels.txt"
    )

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "ImageNet: the images are not distributed with DeZero or this framework; "
            "only ImageNet.labels() (the 1000 class names) is available"
        )

    @staticmethod
    def labels() -> dict:
        """Class index -> name, read from the downloaded table (a Python dict literal)."""
        import ast

        with open(utils.get_file(ImageNet.LABELS_URL), encoding="utf-8") as f:
            return ast.literal_eval(f.read())  # DeZero uses eval; a literal is enough


class Shakespear(Dataset):
    """Shakespeare's plays as character ids, for next-character prediction.

    ``data[i]`` is the id of character ``i`` and ``label[i]`` that of character
    ``i + 1``; ``char_to_id`` / ``id_to_char`` translate (ids in order of first
    appearance).  The text (1 MB, Karpathy's tinyshakespeare) is downloaded.
    The misspelt name is DeZero's.
    """

    URL = (
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
    )

    def prepare(self):
        with open(utils.get_file(self.URL, "shakespear.txt"), encoding="utf-8") as f:
            text = f.read()
        self.char_to_id = {}
        for c in text:
            self.char_to_id.setdefault(c, len(self.char_to_id))
        self.id_to_char = {i: c for c, i in self.char_to_id.items()}
        indices = np.array([self.char_to_id[c] for c in text])
        self.data = indices[:-1]
        self.label = indices[1:]


# -- cache of parsed arrays ---------------------------------------------------
def _cache_path(url: str, train: bool) -> str:
    name = url[url.rfind("/") + 1 :]
    return os.path.join(utils.cache_dir, name + (".train.npz" if train else ".test.npz"))


def load_cache_npz(url: str, train: bool = False):
    """Return ``(data, label)`` saved by ``save_cache_npz`` for ``url``, or ``(None, None)``."""
    path = _cache_path(url, train)
    if not os.path.exists(path):
        return None, None
    with np.load(path, allow_pickle=False) as loaded:
        return loaded["data"], loaded["label"]


def save_cache_npz(data, label, url: str, train: bool = False) -> str:
    """Save ``data`` and ``label`` as ``<cache_dir>/<file of url>.{train,test}.npz``.

    Written under a temporary name and renamed, so an interrupted save leaves no
    half-written cache.  An existing cache is kept.
    """
    path = _cache_path(url, train)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".part.npz"
        try:
            np.savez_compressed(tmp, data=data, label=label)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return path
