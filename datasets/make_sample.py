"""Regenerate the bundled Fashion-MNIST sample from the full set.

Run from the repository root::

    python datasets/make_sample.py                      # reads the Debian package's files
    python datasets/make_sample.py /path/to/fashion-mnist

It draws 600 training and 100 test images of each class with a seeded generator,
keeps them in their original order, and writes the four IDX .gz files (with no time
stamp in the gzip header) to ``datasets/fashion-mnist-sample/``.  The same source
files always give the same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from framework.datasets import IMAGES_MAGIC, LABELS_MAGIC, read_idx, write_idx

SEED = 0
PER_CLASS = {"train": 600, "t10k": 100}
OUT_DIR = Path(__file__).resolve().parent / "fashion-mnist-sample"


def draw(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Return sorted indices of ``per_class`` examples of each label, drawn without replacement."""
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picks))


def main(source: Path, out_dir: Path = OUT_DIR) -> None:
    """Write the sample's four files to ``out_dir``."""
    rng = np.random.default_rng(SEED)
    out_dir.mkdir(parents=True, exist_ok=True)
    for split, per_class in PER_CLASS.items():
        images = read_idx(source / f"{split}-images-idx3-ubyte.gz", IMAGES_MAGIC)
        labels = read_idx(source / f"{split}-labels-idx1-ubyte.gz", LABELS_MAGIC)
        keep = draw(labels, per_class, rng)
        write_idx(out_dir / f"{split}-images-idx3-ubyte.gz", images[keep])
        write_idx(out_dir / f"{split}-labels-idx1-ubyte.gz", labels[keep])
        print(f"{split}: {len(keep)} of {len(labels)} images, {per_class} per class")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=Path("/usr/share/datasets/fashion-mnist"),
        help="folder with the four full Fashion-MNIST .gz files",
    )
    main(parser.parse_args().source)
