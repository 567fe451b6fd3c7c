"""IDX files: the gzipped format MNIST and Fashion-MNIST ship in, read and written safely.

An IDX file of unsigned bytes is a magic number ``0x0000 08 D`` (``D`` dimensions),
then ``D`` big-endian 32-bit sizes, then ``prod(sizes)`` bytes of data.
``read_idx`` checks the header before it decompresses anything and never
decompresses more than the header declares (at most ``max_bytes``), so a gzip bomb
or a truncated download is refused with a message naming the file; ``write_idx``
writes the same format atomically and reproducibly (no time stamp in the gzip
header).  ``framework.datasets`` reads the four files of a set with these and
re-exports both names.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from .npzfile import DEFAULT_MAX_BYTES, _open_regular, atomic_file

__all__ = ["read_idx", "write_idx", "IMAGES_MAGIC", "LABELS_MAGIC"]

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # 0x0803: 3-d unsigned bytes; 0x0801: 1-d


def read_idx(
    path: str | os.PathLike, magic: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes (the MNIST format) into a uint8 array.

    The header is the magic number 0x0000 08 D (D dimensions), then D big-endian
    32-bit sizes; the data are the prod(sizes) bytes that follow.  The header is
    checked before the data are decompressed, and no more than it declares (at
    most ``max_bytes``) is ever decompressed into memory: a gzip bomb is refused.

    Raises
    ------
    ValueError
        Naming the file, when it is not a regular file or not gzip, has another
        magic number than ``magic`` (2051 for images, 2049 for labels), declares
        more than ``max_bytes``, or holds more or fewer bytes than its header
        declares (a truncated download, say).
    """
    path = Path(path)
    with _open_regular(path, "read_idx") as raw:  # a missing file: FileNotFoundError
        try:
            with gzip.GzipFile(fileobj=raw) as gz:
                return _read_idx_stream(gz, path, magic, max_bytes)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(
                f"read_idx: {path} is not a readable gzip file ({err}); it is corrupt or "
                "truncated: delete it and download it again"
            ) from err


def _read_idx_stream(gz, path, magic, max_bytes):
    """Check the IDX header of the open gzip stream ``gz``, then read its data."""
    head = gz.read(4)
    found = int.from_bytes(head, "big") if len(head) == 4 else None
    if magic is not None and found != magic:
        kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(magic, "IDX")
        raise ValueError(
            f"read_idx: {path}: expected magic number {magic} ({kind} file), got {found}; "
            "the file is corrupt or is not what its name says"
        )
    if found is None or found >> 8 != 0x08 or found & 0xFF == 0:
        raise ValueError(f"read_idx: {path}: not an IDX file of unsigned bytes (magic {found})")
    ndim = head[3]
    sizes = gz.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise ValueError(f"read_idx: {path}: truncated inside its {4 + 4 * ndim}-byte header")
    shape = tuple(int.from_bytes(sizes[4 * i : 4 * i + 4], "big") for i in range(ndim))
    expected = math.prod(shape)
    if expected > max_bytes:
        raise ValueError(
            f"read_idx: {path}: header declares shape {shape} ({expected} bytes of data), "
            f"more than max_bytes={max_bytes}; the file is corrupt or not an IDX file"
        )
    data = gz.read(expected)
    actual = len(data)
    while actual >= expected and actual <= expected + (1 << 20):  # count a surplus, bounded
        more = len(gz.read(1 << 16))
        if not more:
            break
        actual += more
    if actual != expected:
        held = actual if actual <= expected + (1 << 20) else f"more than {expected + (1 << 20)}"
        raise ValueError(
            f"read_idx: {path}: header declares shape {shape} ({expected} bytes of data) "
            f"but the file holds {held}; it is truncated or corrupt"
        )
    return np.frombuffer(data, dtype=np.uint8).reshape(shape).copy()


def write_idx(path: str | os.PathLike, array) -> None:
    """Write a uint8 array as a gzipped IDX file that ``read_idx`` reads back.

    The gzip header carries no time stamp or name, so equal arrays give equal bytes.
    Atomic (``npzfile.atomic_file``): a failed write leaves an old file intact.
    """
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise TypeError(f"write_idx: expected an array of dtype uint8, got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: expected 1 to 255 dimensions, got {array.ndim}")
    header = (0x0800 + array.ndim).to_bytes(4, "big")
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with atomic_file(path, "write_idx") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as f:
        f.write(header + np.ascontiguousarray(array).tobytes())
