"""Data sets: MNIST and Fashion-MNIST with the book's ``load_mnist`` signature, and spirals.

``load_fashion_mnist`` and ``load_mnist`` return ``((x_train, t_train), (x_test, t_test))``.
The four IDX files of a set are looked for, in order, in

1. ``data_dir`` (the files in ``data_dir/<name>/`` or in ``data_dir`` itself),
2. ``$FRAMEWORK_DATA`` (the same two places),
3. the repository's ``datasets/<name>/`` folder,
4. ``/usr/share/datasets/fashion-mnist`` (Debian package ``dataset-fashion-mnist``;
   Fashion-MNIST only), then ``~/.cache/framework/<name>/``.

A folder asked for explicitly (``data_dir``, ``$FRAMEWORK_DATA``) must exist, and
the first of its two places that holds any of the four files must hold all four:
otherwise a ``ValueError`` names the folder and the missing files (a typo is never
ignored, nor created as an empty folder).

When none has them they are downloaded (``framework.downloads``: each file from the
first mirror that works within a deadline, checked against its SHA-256).  If that
fails too, Fashion-MNIST falls back to the small sample bundled in
``datasets/fashion-mnist-sample/`` and says so.  Parsed arrays are cached as ``.npz``
(never pickle) so the next load takes a fraction of a second.

The IDX reader and writer (``read_idx``, ``write_idx``) live in ``framework.idx``
and are re-exported here.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from .downloads import DownloadError, fetch
from .idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, write_idx
from .npzfile import ArraySpec, load_arrays, save_arrays

__all__ = [
    "load_fashion_mnist",
    "load_mnist",
    "load_spiral",
    "fashion_mnist_labels",
    "read_idx",
    "write_idx",
]

fashion_mnist_labels = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

FILES = {  # file name -> what it holds, in the order of the returned tuples
    "train-images-idx3-ubyte.gz": "x_train",
    "train-labels-idx1-ubyte.gz": "t_train",
    "t10k-images-idx3-ubyte.gz": "x_test",
    "t10k-labels-idx1-ubyte.gz": "t_test",
}

_REPO_ROOT = Path(__file__).resolve().parent.parent
_REPO_DATA = _REPO_ROOT / "datasets"  # only a real folder in a source checkout
_SAMPLE_DIR = _REPO_DATA / "fashion-mnist-sample"

# Mirrors are tried in turn.  The SHA-256 of each .gz file comes from
# tensorflow/datasets, tensorflow_datasets/url_checksums/{mnist,fashion_mnist}.txt.
# Debian's dataset-fashion-mnist re-gzips the files, so its .gz hashes differ, but
# the decompressed bytes equal upstream's (tests/test_datasets.py checks this).
_SOURCES = {
    "mnist": {
        "title": "MNIST",
        "mirrors": [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
        "sha256": (  # of the .gz files, in the order of FILES
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
        "system_dirs": [],
    },
    "fashion-mnist": {
        "title": "Fashion-MNIST",
        "mirrors": [
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ],
        "sha256": (  # of the .gz files, in the order of FILES
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
        "system_dirs": [Path("/usr/share/datasets/fashion-mnist")],
    },
}

_FULL_SET_HINT = (
    "For the full set: `sudo apt-get install dataset-fashion-mnist`, or put the four "
    ".gz files in a folder and set FRAMEWORK_DATA to it (or pass data_dir=...)."
)


def load_fashion_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    data_dir: str | os.PathLike | None = None,
    sample: bool = False,
    download: bool = True,
    verbose: bool = True,
):
    """Load Fashion-MNIST (Zalando's 28x28 clothing images) like the book's ``load_mnist``.

    Parameters
    ----------
    normalize : bool
        True: pixels as float32 in [0, 1]; False: the raw uint8 values 0..255.
    flatten : bool
        True: images of shape (N, 784); False: (N, 1, 28, 28).
    one_hot_label : bool
        True: labels as float32 one-hot rows (N, 10); False: int64 class indices (N,).
    data_dir : str or path, optional
        A folder searched first (and where a download goes); it must exist.
    sample : bool
        Load the bundled sample (6,000 training and 1,000 test images) directly.
    download : bool
        Download the files when no folder has them.
    verbose : bool
        Print where the data come from (and a download's progress).

    Returns
    -------
    ((x_train, t_train), (x_test, t_test)) : tuple of arrays
        60,000 training and 10,000 test images (fewer for the sample); the class
        names are in ``fashion_mnist_labels``.
    """
    return _load(
        "fashion-mnist", normalize, flatten, one_hot_label, data_dir, sample, download, verbose
    )


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    data_dir: str | os.PathLike | None = None,
    sample: bool = False,
    download: bool = True,
    verbose: bool = True,
):
    """Load MNIST (handwritten digits 0-9); arguments and returns as ``load_fashion_mnist``.

    No MNIST sample is bundled: ``sample=True`` raises ``ValueError``, and when the
    files are neither found nor downloadable a ``FileNotFoundError`` says that MNIST
    is not installed, lists the places searched and the mirrors tried, and points
    to ``load_fashion_mnist`` (same signature, works offline).
    """
    return _load("mnist", normalize, flatten, one_hot_label, data_dir, sample, download, verbose)


def load_spiral(num_per_class: int = 100, num_classes: int = 3, rng=None):
    """Interleaved spirals, one arm per class: DeZero's toy set that no line separates.

    Point i of arm j: r = i / n, theta = 4 j + 4 r + 0.2 e with e ~ N(0, 1), and
    x = (r sin theta, r cos theta).  The points are returned shuffled.

    Parameters
    ----------
    num_per_class : int
        Points per arm (n).
    num_classes : int
        Number of arms.
    rng : numpy.random.Generator or int, optional
        Source of the noise and the shuffle; None means the fixed seed 1984 (as
        DeZero's training spiral), so calls repeat exactly.  The global NumPy RNG is
        never touched.

    Returns
    -------
    x : ndarray, float32, shape (num_classes * num_per_class, 2)
    t : ndarray, int64, shape (num_classes * num_per_class,)
    """
    for name, value in (("num_per_class", num_per_class), ("num_classes", num_classes)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"load_spiral: expected {name} a positive int, got {value!r}")
    rng = np.random.default_rng(1984 if rng is None else rng)
    r = np.arange(num_per_class) / num_per_class  # (n,)
    arm = np.arange(num_classes)[:, None]  # (C, 1)
    theta = arm * 4.0 + r * 4.0 + rng.standard_normal((num_classes, num_per_class)) * 0.2
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=-1).reshape(-1, 2)
    t = np.repeat(np.arange(num_classes, dtype=np.int64), num_per_class)
    order = rng.permutation(t.size)
    return x[order].astype(np.float32), t[order]


def _load(name, normalize, flatten, one_hot_label, data_dir, sample, download, verbose):
    """Find (or fetch) the files, read them through the cache, convert as asked."""
    title = _SOURCES[name]["title"]
    if sample:
        if name != "fashion-mnist":
            raise ValueError(
                f"load_{name.replace('-', '_')}: no {title} sample is bundled; "
                "use load_fashion_mnist(sample=True)"
            )
        folder = _sample_dir()
    else:
        folder = _find(name, data_dir, download) or _download_or_fallback(
            name, data_dir, download, verbose
        )
    raw = _read_cached(name, folder, verbose)
    if verbose:
        n_train, n_test = len(raw["x_train"]), len(raw["x_test"])
        print(f"{title}: {n_train} training and {n_test} test images from {folder}")
    out = []
    for x, t in ((raw["x_train"], raw["t_train"]), (raw["x_test"], raw["t_test"])):
        if normalize:
            x = x.astype(np.float32)  # a new array, so dividing in place is safe
            x /= 255.0
        if not flatten:
            x = x.reshape(-1, 1, 28, 28)
        t = np.eye(10, dtype=np.float32)[t] if one_hot_label else t.astype(np.int64)
        out.append((x, t))
    return tuple(out)


def _search_dirs(name, data_dir):
    """Folders that may hold the four files of ``name``, in the order they are tried."""
    dirs = [d for _, root in _explicit_roots(name, data_dir) for d in (root / name, root)]
    return dirs + [_REPO_DATA / name, *_SOURCES[name]["system_dirs"], _user_cache() / name]


def _explicit_roots(name, data_dir):
    """``[(origin, folder)]`` for ``data_dir`` and ``$FRAMEWORK_DATA``; each must exist."""
    roots = [("data_dir", data_dir)] if data_dir is not None else []
    if os.environ.get("FRAMEWORK_DATA"):
        roots.append(("$FRAMEWORK_DATA", os.environ["FRAMEWORK_DATA"]))
    for origin, root in roots:
        root = Path(root)
        if not root.is_dir():
            what = "does not exist" if not root.exists() else "is not a folder"
            raise ValueError(
                f"{_caller(name)}: {origin} {root} {what}; expected a folder holding the four "
                f"files {list(FILES)} (directly or in {name}/), or an empty folder to "
                "download them into; check the spelling, or create the folder first"
            )
    return [(origin, Path(root)) for origin, root in roots]


def _find(name, data_dir, download=False):
    """Return the first folder that holds all four files, or None.

    In a folder asked for explicitly, a partial set is an error, unless the download
    goes there and will complete it (an interrupted download leaves such a set).
    """
    explicit = {d: origin for origin, root in _explicit_roots(name, data_dir)
                for d in (root / name, root)}  # fmt: skip
    for d in _search_dirs(name, data_dir):
        present = [f for f in FILES if (d / f).is_file()]
        if len(present) == len(FILES):
            return d
        if present and d in explicit and not (download and d == _download_target(name, data_dir)):
            missing = [f for f in FILES if f not in present]
            raise ValueError(
                f"{_caller(name)}: the folder {d} (from {explicit[d]}) holds only some of the "
                f"{_SOURCES[name]['title']} files: missing {missing}; put all four files "
                "there, or delete the others"
            )
    return None


def _caller(name):
    """Name the public loader of ``name`` in error messages: ``load_fashion_mnist``."""
    return f"load_{name.replace('-', '_')}"


def _user_cache():
    """``$XDG_CACHE_HOME/framework``, by default ``~/.cache/framework``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "framework"


def _sample_dir():
    """Return the bundled Fashion-MNIST sample folder (it ships with a source checkout)."""
    if not all((_SAMPLE_DIR / fname).is_file() for fname in FILES):
        raise FileNotFoundError(
            f"load_fashion_mnist: the bundled Fashion-MNIST sample is missing from {_SAMPLE_DIR} "
            f"(it ships with the repository, not with an installed package). {_FULL_SET_HINT}"
        )
    return _SAMPLE_DIR


def _download_target(name, data_dir):
    """Where a download goes: ``<root>/<name>`` of the first writable root, or None.

    Roots: data_dir, $FRAMEWORK_DATA, the repository's datasets/ (in a source
    checkout), the user cache.  Nothing is created here.
    """
    roots = [root for _, root in _explicit_roots(name, data_dir)]
    if (_REPO_ROOT / "setup.cfg").is_file() and _REPO_DATA.is_dir():
        roots.append(_REPO_DATA)
    for folder in [root / name for root in [*roots, _user_cache()]]:
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        if existing.is_dir() and os.access(existing, os.W_OK):
            return folder
    return None


def _download_or_fallback(name, data_dir, download, verbose):
    """Download the set; failing that, fall back to the sample (Fashion) or raise (MNIST)."""
    source, why = _SOURCES[name], "download=False"
    if download:
        try:
            folder = _download_target(name, data_dir)
            if folder is None:
                raise DownloadError("no writable folder to download into")
            files = dict(zip(FILES, source["sha256"], strict=True))
            return fetch(name, files, source["mirrors"], folder, verbose)
        except DownloadError as err:
            why = f"the download failed: {err}"
    searched = "".join(f"\n  {d}" for d in _search_dirs(name, data_dir))
    if name == "fashion-mnist" and _SAMPLE_DIR.is_dir():
        message = (
            f"load_fashion_mnist: Fashion-MNIST was not found (searched:{searched}) and {why}.\n"
            "Using the bundled SAMPLE instead: 6,000 training and 1,000 test images, "
            f"not the full 60,000 / 10,000. {_FULL_SET_HINT}"
        )
        if verbose:
            print(message)
        warnings.warn(message, UserWarning, stacklevel=4)
        return _sample_dir()
    raise FileNotFoundError(
        f"{_caller(name)}: {source['title']} is not installed here: not found (searched:"
        f"{searched}) and {why}.\nload_fashion_mnist takes the same arguments and works "
        "offline (it falls back to a bundled sample): `from framework.datasets import "
        f"load_fashion_mnist as load_mnist`.\nFor {source['title']}, put the four files "
        f"{list(FILES)} in one of these folders or set FRAMEWORK_DATA."
    )


def _read_cached(name, folder, verbose):
    """Return the four uint8 arrays of ``folder``, from its .npz cache if up to date."""
    paths = [(folder / fname).resolve() for fname in FILES]
    stamp = "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in paths)
    cache = _cache_path(name, folder)
    arrays = _load_cache(cache, stamp)
    if arrays is not None:
        return arrays
    arrays = _read_folder(folder, _caller(name))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        save_arrays(cache, {"stamp": np.array(stamp), **arrays}, owner=_caller(name))  # atomic
    except OSError as err:
        if verbose:
            print(f"(could not write the cache {cache}: {err}; continuing without it)")
    return arrays


def _cache_path(name, folder):
    """Next to the data if that folder is ours to write, else in the user cache."""
    read_only = [*_SOURCES[name]["system_dirs"], _SAMPLE_DIR]
    if folder not in read_only and os.access(folder, os.W_OK):
        return folder / f"{name}.npz"
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    return _user_cache() / f"{name}-{key}.npz"


_CACHE_SPECS = {  # what a cache must hold (``load_arrays`` checks it from the headers)
    "stamp": None,
    "x_train": ArraySpec((None, 784), np.uint8),
    "t_train": ArraySpec((None,), np.uint8),
    "x_test": ArraySpec((None, 784), np.uint8),
    "t_test": ArraySpec((None,), np.uint8),
}


def _load_cache(cache, stamp):
    """Return the arrays of a valid cache of the same files, else None (rebuild it).

    Valid: a regular, readable ``.npz`` of the right names, shapes and dtypes (all
    checked before its arrays are read), the same stamp, as many labels as
    images, and labels 0..9.
    """
    try:
        arrays = load_arrays(cache, "_load_cache", expected=_CACHE_SPECS)
    except (OSError, ValueError):  # missing, truncated, not a zip, wrong arrays: rebuild
        return None
    if "stamp" not in arrays or str(arrays.pop("stamp")) != stamp:
        return None
    counts_ok = all(
        len(arrays[x]) == len(arrays[t]) for x, t in (("x_train", "t_train"), ("x_test", "t_test"))
    )
    labels_ok = all(arrays[t].max(initial=0) <= 9 for t in ("t_train", "t_test"))
    return arrays if counts_ok and labels_ok else None


def _read_folder(folder, caller="_read_folder"):
    """Parse the four IDX files; check 28x28 images, matching counts and labels 0..9."""
    arrays = {}
    for fname, key in FILES.items():
        is_images = key.startswith("x")
        a = read_idx(folder / fname, IMAGES_MAGIC if is_images else LABELS_MAGIC)
        if is_images and a.shape[1:] != (28, 28):
            raise ValueError(
                f"{caller}: {folder / fname}: expected 28x28 images, got shape {a.shape}"
            )
        if not is_images and a.size and a.max() > 9:
            raise ValueError(f"{caller}: {folder / fname}: expected labels 0..9, found {a.max()}")
        arrays[key] = a.reshape(len(a), -1) if is_images else a
    for x, t in (("x_train", "t_train"), ("x_test", "t_test")):
        if len(arrays[x]) != len(arrays[t]):
            raise ValueError(
                f"{caller}: {folder}: {len(arrays[x])} images in {x} but {len(arrays[t])} "
                f"labels in {t}"
            )
    return arrays
