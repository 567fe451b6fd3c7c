"""Downloading files from a list of mirrors, each checked against its SHA-256.

``fetch`` is what ``framework.datasets`` uses when no folder holds a data set:
for each file it tries the mirrors in turn, and a mirror that refuses, stalls,
answers an HTTP error, cuts the transfer or serves other bytes is skipped.
pooch checks the hash and keeps only a complete, matching file, so nothing
partial is ever left behind.  ``DeadlineDownloader`` gives every file a deadline
on top of the usual timeout per read, so a mirror trickling a byte a second
cannot hang a load.

pooch is imported only when ``fetch`` runs.
"""

from __future__ import annotations

import time

__all__ = ["fetch", "DeadlineDownloader", "DownloadError", "TIMEOUT", "DEADLINE"]

TIMEOUT = (5, 60)  # seconds to connect, seconds between bytes: fail fast when offline
DEADLINE = 300  # seconds for one whole file: a mirror trickling bytes cannot hang a load


class DownloadError(OSError):
    """Every mirror failed for one of the files (or there is nowhere to download to)."""


def fetch(name, files, mirrors, folder, verbose=False, timeout=None, deadline=None):
    """Download each file of ``files`` (name -> sha256) into ``folder``, mirror by mirror.

    A mirror that refuses, times out, misses the deadline (``DEADLINE`` seconds for
    a whole file), answers an HTTP error, cuts the transfer or serves bytes with
    another hash is skipped; pooch writes to a temporary file and keeps it only
    when the hash matches, so nothing partial is ever left behind.

    Parameters
    ----------
    name : str
        The data set, for messages.
    files : dict
        File name -> its SHA-256 (hex).
    mirrors : list of str
        Base URLs, tried in order; a file's URL is the base plus its name.
    folder : pathlib.Path
        Where the files go; created (with its parents) if missing.
    verbose : bool
        Print each URL as its download starts.
    timeout : (float, float), optional
        Seconds to connect and seconds between bytes; ``TIMEOUT`` when None.
    deadline : float, optional
        Seconds for one whole file; ``DEADLINE`` when None.

    Returns
    -------
    pathlib.Path
        ``folder``, now holding every file.

    Raises
    ------
    DownloadError
        An ``OSError``: the folder cannot be created, pooch is missing, or every
        mirror failed for a file (each failed URL and why is listed).
    """
    try:
        import pooch
    except ImportError as err:
        raise DownloadError("pooch is not installed (pip install pooch)") from err
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(level if verbose else "WARNING")
    downloader = DeadlineDownloader(timeout or TIMEOUT, deadline or DEADLINE, verbose)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DownloadError(f"cannot create {folder}: {err}") from err
    try:
        for fname, sha256 in files.items():
            failures = []
            for mirror in mirrors:
                url = mirror.rstrip("/") + "/" + fname
                try:
                    pooch.retrieve(url, f"sha256:{sha256}", fname, folder, downloader=downloader)
                    break
                except (OSError, ValueError) as err:  # urllib's errors are OSErrors
                    failures.append(f"{url}: {type(err).__name__}: {err}")
            else:
                tried = "".join(f"\n    {failure}" for failure in failures)
                if not any(folder.iterdir()):
                    folder.rmdir()  # leave no empty folder behind
                raise DownloadError(f"{name}: every mirror failed for {fname}:{tried}")
    finally:
        logger.setLevel(level)
    return folder


class DeadlineDownloader:
    """A pooch downloader (urllib) with a timeout per read *and* a deadline per file.

    A timeout per read alone lets a mirror that sends one byte a second keep a
    download going for ever; here each read waits at most what is left of the
    deadline, and the transfer stops with ``TimeoutError`` once it has passed.
    """

    def __init__(self, timeout, deadline, verbose=False):
        self.timeout, self.deadline, self.verbose = timeout, deadline, verbose

    def __call__(self, url, output_file, pooch=None, check_only=False):
        import urllib.request

        connect, read = self.timeout
        end = time.monotonic() + self.deadline
        if self.verbose:
            print(f"downloading {url}", flush=True)
        with urllib.request.urlopen(url, timeout=min(connect, self.deadline)) as response:
            declared, done = response.length, 0  # length: None without Content-Length
            sock = getattr(getattr(response.fp, "raw", None), "_sock", None)
            with open(output_file, "wb") as out:
                while True:
                    left = end - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(
                            "the download was not complete after the deadline of "
                            f"{self.deadline} s ({done} of {declared or '?'} bytes)"
                        )
                    if sock is not None:
                        sock.settimeout(min(read, left))
                    try:
                        chunk = response.read1(1 << 16)
                    except TimeoutError:
                        if time.monotonic() < end:
                            raise TimeoutError(f"no data for {read} s") from None
                        continue  # the deadline has passed: say so above
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
        if declared is not None and done < declared:
            raise OSError(
                f"IncompleteRead: the connection closed after {done} of {declared} bytes"
            )
