"""Weights files: ``.npz`` written atomically and read back with every array checked.

Both kinds of net use these functions: ``Sequential.save``/``load`` and the
autograd ``Layer.save_weights``/``load_weights``; the data-set cache too.
``atomic_file`` is the all-or-nothing write underneath, for any other output.

Saving: the arrays go to a temporary file next to the target, which then
replaces it in one step (``os.replace``).  A save that fails (full disk,
read-only folder, Ctrl-C halfway) leaves the previous file intact and no
temporary file behind; the error names the path asked for.

Loading treats the file as untrusted.  Before a single array byte is
decompressed it checks that the path is a regular file (a FIFO would block),
that every member is an uncompressed or deflated ``.npy`` whose header
(shape, dtype) agrees with the size the archive declares, that no member holds
Python objects (nothing here uses pickle), that the total stays under
``max_bytes``, and, when the caller says what it expects, every name, shape and
dtype.  A crafted archive (a zip bomb, a header declaring 10^12 elements) is
thus refused with a ``ValueError`` instead of filling the memory, and the zip
CRC of every member is checked as it is read.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import stat
import struct
import zipfile
import zlib
from typing import NamedTuple

import numpy as np

from .backend import to_cpu

__all__ = [
    "ArraySpec",
    "DEFAULT_MAX_BYTES",
    "atomic_file",
    "save_arrays",
    "load_arrays",
    "mismatches",
]

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB of arrays: VGG16's float32 weights (553 MB) fit
_NPY_MAGIC = b"\x93NUMPY"
_CHUNK = 1 << 18  # bytes read at a time, as numpy's BUFFER_SIZE
# What a damaged archive can raise while it is parsed: all of it means "unreadable".
_READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    NotImplementedError,  # zipfile: an unknown compression method
    RuntimeError,  # zipfile: "File ... is encrypted"
    OverflowError,
    SyntaxError,  # a .npy header that is not a Python literal
)


class ArraySpec(NamedTuple):
    """What an array must look like: ``shape`` (``None`` for "any size") and ``dtype``.

    Used as a value of ``load_arrays(..., expected=)`` or ``mismatches`` targets for a
    parameter whose shape is only partly known, e.g. the ``W`` of a lazily sized
    ``Linear(10)``: ``ArraySpec((None, 10), np.float32)``.
    """

    shape: tuple
    dtype: object


class _RefusedError(ValueError):
    """A file that parses but must not be loaded; the text is the reason."""


class _MismatchError(ValueError):
    """A readable file whose names, shapes or dtypes differ from the expected ones."""


def save_arrays(path, arrays: dict, owner: str = "save_arrays") -> None:
    """Write ``arrays`` (name -> array, CuPy ones copied to the host) to ``path`` atomically.

    The arrays go to a temporary file in the same folder (created with the usual
    permissions, ``0o666`` less the umask, like any other output), which then
    replaces ``path`` in one step: a crash never leaves a half-written file.

    Raises
    ------
    OSError
        Of the same kind (``PermissionError``, ...) as the failure, naming ``owner``
        and ``path``; a previous file at ``path`` is then unchanged and no temporary
        file is left.
    """
    arrays = {k: to_cpu(v) for k, v in arrays.items()}
    with atomic_file(path, owner) as f:
        np.savez(f, **arrays)


@contextlib.contextmanager
def atomic_file(path, owner: str = "atomic_file", mode: str = "wb"):
    """Open a new file that replaces ``path`` only if the ``with`` block ends without error.

    The file is created next to ``path`` (same file system) with the usual
    permissions (``0o666`` less the umask), flushed to disk at the end, then
    renamed over ``path`` in one step (``os.replace``).  On any error, Ctrl-C
    included, the temporary file is removed and ``path`` is left as it was.
    ``mode`` is ``"wb"`` or ``"w"`` (text, UTF-8)::

        with atomic_file("history.json", "Trainer.save", "w") as f:
            json.dump(history, f)

    Raises
    ------
    OSError
        Of the same kind as the failure (``PermissionError``, a full disk's
        ``OSError`` with ``errno.ENOSPC``, ...), naming ``owner`` and ``path``
        (not the temporary file).
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"{owner}: expected mode 'wb' or 'w', got {mode!r}")
    path = os.fspath(path)
    tmp = None
    try:
        fd, tmp = _create_temp(path)
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None and os.path.lexists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError):
            why = err.strerror or str(err)
            message = (
                f"{owner}: could not write {path} ({why}); any previous file there is unchanged"
            )
            raise _renamed(err, message) from err
        raise


def _renamed(err, message):
    """Make an OSError of the kind of ``err`` (PermissionError, ...) with the text ``message``."""
    kind = type(OSError(err.errno, "")) if err.errno else OSError  # EACCES -> PermissionError
    new = kind(message)
    new.errno = err.errno  # str() stays ``message``: no strerror, no filename
    return new


def _create_temp(path):
    """Create a new, empty hidden file next to ``path``; return ``(fd, name)``."""
    folder, base = os.path.split(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp  # the umask applies, as for open()
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue


def load_arrays(
    path,
    owner: str,
    expected: dict | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    target: str | None = None,
) -> dict:
    """Read every array of the ``.npz`` file ``path``; ``owner`` names the caller in errors.

    Parameters
    ----------
    path : str or path
    owner : str
        The function to name in error messages, e.g. ``"Sequential.load"``.
    expected : dict, optional
        Name -> array, ``ArraySpec`` or ``None`` (anything, may be absent).  When
        given, the file's names, shapes and dtypes are compared (see
        ``mismatches``) from the headers, before any array is read.
    max_bytes : int or None
        Refuse a file whose arrays declare more bytes than this in all (None: no cap).
    target : str, optional
        What ``expected`` describes, for the message (``"this net"``); by default
        ``"what <owner> expects"``.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        When the path is not a regular file, or not a readable ``.npz`` of named
        arrays (truncated, corrupt, a bare ``.npy``, holding pickled objects, or
        declaring more than ``max_bytes``), or does not match ``expected``:
        ``"<owner>: <path> does not match <target>: W: expected (?, 10) float32, got
        (3, 7) float64; ..."``.
    """
    path = os.fspath(path)
    f = _open_regular(path, owner, max_bytes)
    try:
        with f:
            if f.read(len(_NPY_MAGIC)) == _NPY_MAGIC:  # np.save wrote one bare array
                raise _RefusedError("it holds a single array (.npy), not named arrays")
            f.seek(0)
            with zipfile.ZipFile(f) as zf, contextlib.ExitStack() as members:
                _check_member_count(f, zf)
                headers = _read_headers(zf, max_bytes, members)
                if expected is not None:
                    specs = {k: ArraySpec(h[2], h[3]) for k, h in headers.items()}
                    problems = mismatches(expected, specs)
                    if problems:
                        raise _MismatchError("; ".join(problems))
                return {k: _read_data(*h) for k, h in headers.items()}
    except _MismatchError as err:
        target = target or f"what {owner} expects"
        raise ValueError(f"{owner}: {path} does not match {target}: {err}") from None
    except _RefusedError as err:
        raise ValueError(f"{owner}: {path} is not a readable .npz weights file ({err})") from None
    except _READ_ERRORS as err:
        raise _unreadable(owner, path, err) from err


def _unreadable(owner, path, err):
    return ValueError(
        f"{owner}: {path} is not a readable .npz weights file ({type(err).__name__}: {err}); "
        "it may be truncated or corrupt, save it again"
    )


def _open_regular(path, owner, max_bytes=None):
    """Open ``path`` for reading if it is a regular file; never block on a FIFO.

    A missing or unreadable file raises ``FileNotFoundError``/``PermissionError``
    naming ``owner``; a file larger than ``max_bytes`` (plus 1 MiB of room for the
    archive's own records) raises ``ValueError``.
    """
    try:
        info = os.stat(path)
    except OSError as err:
        raise _renamed(err, f"{owner}: cannot read {path} ({err.strerror or err})") from None
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        raise ValueError(
            f"{owner}: {path} is not a regular file (it is {_kind(mode)}); expected a file "
            "written by the framework (a FIFO or device would block or never end)"
        )
    if max_bytes is not None and info.st_size > max_bytes + (1 << 20):
        raise ValueError(
            f"{owner}: {path} is {info.st_size} bytes, more than max_bytes={max_bytes}; "
            "pass a larger max_bytes if you trust this file"
        )
    # O_NONBLOCK: should a FIFO replace the file after the check, open() still returns
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise _renamed(err, f"{owner}: cannot read {path} ({err.strerror or err})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{owner}: {path} is not a regular file (it is {_kind(mode)})")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode):
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ]
    return next((text for test, text in kinds if test(mode)), "not a plain file")


def _check_member_count(f, zf) -> None:
    """Refuse an archive whose central directory lists fewer members than its end record.

    ``zipfile`` stops reading a damaged central directory early without a word, so a
    corrupt file could otherwise load with an array silently missing.
    """
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(max(0, size - (1 << 16) - 22))
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _RefusedError("its end-of-archive record is missing")
    declared = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    if declared != 0xFFFF and declared != len(zf.infolist()):  # 0xFFFF: a zip64 count
        raise _RefusedError(
            f"its directory lists {len(zf.infolist())} member(s) but declares {declared}"
        )


def _read_headers(zf, max_bytes, members):
    """Check every member from the central directory and its ``.npy`` header alone.

    Returns name -> (open member, its quoted name, shape, dtype, fortran_order),
    each member left open (in the ExitStack ``members``) just after its header:
    only the first bytes of each member are decompressed here.
    """
    headers, total = {}, 0
    for info in zf.infolist():
        member = repr(info.filename)
        if not info.filename.endswith(".npy"):
            raise _RefusedError(f"member {member} is not a .npy array")
        key = info.filename[: -len(".npy")]
        if key in headers:
            raise _RefusedError(f"member {member} appears twice")
        if info.flag_bits & 0x1:
            raise _RefusedError(f"member {member} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _RefusedError(f"member {member} uses compression method {info.compress_type}")
        total += info.file_size
        if max_bytes is not None and total > max_bytes:
            raise _RefusedError(
                f"with member {member} its arrays declare {total} bytes, more than "
                f"max_bytes={max_bytes}; pass a larger max_bytes if you trust this file"
            )
        m = members.enter_context(zf.open(info))
        version = np.lib.format.read_magic(m)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(m)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(m)
        else:
            raise _RefusedError(f"member {member} is .npy format {version}, expected 1.0 or 2.0")
        if dtype.hasobject:
            raise _RefusedError(
                f"Object arrays cannot be loaded: member {member} holds Python objects "
                f"(dtype {dtype}), which only pickle could read, and pickle is never used"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if m.tell() + nbytes != info.file_size:
            raise _RefusedError(
                f"member {member} declares shape {shape} {dtype} ({nbytes} bytes) but the "
                f"archive says it holds {info.file_size - m.tell()} bytes of data"
            )
        headers[key] = (m, member, shape, dtype, fortran_order)
    return headers


def _read_data(m, member, shape, dtype, fortran_order):
    """Read the array that follows the header; its size was checked, its CRC is at the end.

    As ``numpy.lib.format.read_array`` does for a file that is not a real file:
    in chunks, into an array allocated once from the checked header.
    """
    array = np.ndarray(math.prod(shape), dtype=dtype)  # np.empty turns "S0" into "S1"
    if array.nbytes:
        buffer = memoryview(array.view(np.uint8))
        pos = 0
        while pos < array.nbytes:
            n = m.readinto(buffer[pos : pos + _CHUNK])  # the last read checks the zip CRC
            if not n:
                raise _RefusedError(f"member {member} ends before its data does")
            pos += n
    if fortran_order:
        return array.reshape(shape[::-1]).transpose()
    return array.reshape(shape)


def mismatches(targets: dict, loaded: dict) -> list:
    """Describe how ``loaded`` differs from ``targets`` (names, shapes, dtypes); [] if it fits.

    ``loaded`` values are arrays or anything with ``shape`` and ``dtype``.  A target
    is an array (same shape and dtype wanted), an ``ArraySpec`` (``None`` in its
    shape takes any size), or ``None`` (a parameter not sized yet, whose layer gives
    no spec: it may be absent and takes anything).  A target not sized yet (None,
    or a spec with a ``None`` size) may be absent: a model saved before its first
    call has no such array.
    """
    problems = []
    missing = sorted(k for k, v in targets.items() if k not in loaded and not _lazy(v))
    unexpected = sorted(set(loaded) - set(targets))
    if missing:
        problems.append(f"missing {missing}")
    if unexpected:
        problems.append(f"unexpected {unexpected}")
    for k in sorted(set(targets) & set(loaded)):
        want, got = targets[k], loaded[k]
        if want is not None and not _fits(want, got):
            problems.append(
                f"{k}: expected {_shape_text(want.shape)} {np.dtype(want.dtype)}, "
                f"got {tuple(got.shape)} {got.dtype}"
            )
    return problems


def _lazy(target):
    """Tell whether ``target`` is not sized yet (None, or a spec with a None size)."""
    return target is None or (isinstance(target, ArraySpec) and None in tuple(target.shape))


def _fits(want, got):
    if np.dtype(want.dtype) != got.dtype or len(want.shape) != len(got.shape):
        return False
    return all(w is None or w == g for w, g in zip(want.shape, got.shape, strict=True))


def _shape_text(shape):
    """``(None, 10)`` as ``(?, 10)``: a size not known yet takes any value."""
    if all(n is not None for n in shape):
        return str(tuple(shape))
    texts = ["?" if n is None else str(n) for n in shape]
    return "(" + ", ".join(texts) + ("," if len(texts) == 1 else "") + ")"
