"""Tests for framework.downloads: mirrors in turn, checksums, cut transfers, the deadline.

Downloads are exercised for real against an HTTP server on 127.0.0.1 (its
fixtures serve tests/test_datasets.py too); the internet is never touched.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from framework import downloads

FAST = (2, 5)  # connect / read timeouts for the local server
FILES = ("one.bin", "two.bin")


def sha256_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``; ``/cut/...`` declares the full length but sends half;
    ``/slow/...`` sends one byte every 50 ms (for at most 10 s)."""

    def do_GET(self):
        self.server.log.append(self.path)
        good = self.path.replace("/cut/", "/good/").replace("/slow/", "/good/")
        body = self.server.files.get(good)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path.startswith("/cut/"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if self.path.startswith("/slow/"):
            self.close_connection = True
            for byte in body[:200]:
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:  # the client gave up: good
                    return
                time.sleep(0.05)
            return
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 and an ephemeral port; ``server.url`` is its base."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.log = {}, []
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def dead_url():
    """A URL whose port refuses connections (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def served(server, tmp_path):
    """Two files of random bytes served under ``/good/``; returns the name -> sha256 table."""
    rng = np.random.default_rng(7)
    hashes = {}
    for fname, size in zip(FILES, (3000, 1000), strict=True):
        body = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        server.files[f"/good/{fname}"] = body
        hashes[fname] = hashlib.sha256(body).hexdigest()
    return hashes


def test_fetch_moves_past_a_refused_port_and_a_404(server, served, dead_url, tmp_path):
    hashes = served
    mirrors = [dead_url, f"{server.url}/missing/", f"{server.url}/good/"]
    folder = downloads.fetch("tiny", hashes, mirrors, tmp_path / "dl", timeout=FAST)
    for fname in FILES:
        assert sha256_of(folder / fname) == hashes[fname]
    assert f"/missing/{next(iter(FILES))}" in server.log  # the 404 mirror was really asked
    assert sorted(os.listdir(folder)) == sorted(FILES)  # no temporary files left


def test_fetch_refuses_a_wrong_checksum_and_keeps_nothing(server, served, tmp_path):
    hashes = served
    wrong = dict(hashes, **{"one.bin": "0" * 64})
    with pytest.raises(OSError, match=r"(?s)every mirror failed for one\.bin.*SHA256 hash"):
        downloads.fetch("tiny", wrong, [f"{server.url}/good/"], tmp_path / "dl", timeout=FAST)
    assert not (tmp_path / "dl").exists()  # no file, not even an empty folder


def test_fetch_moves_past_a_mirror_serving_other_bytes(server, served, tmp_path):
    hashes = served
    for fname in FILES:
        server.files[f"/stale/{fname}"] = b"not the file you are looking for"
    mirrors = [f"{server.url}/stale/", f"{server.url}/good/"]
    folder = downloads.fetch("tiny", hashes, mirrors, tmp_path / "dl", timeout=FAST)
    assert all(sha256_of(folder / fname) == hashes[fname] for fname in FILES)


def test_fetch_cut_halfway_leaves_no_partial_file(server, served, tmp_path):
    hashes = served
    with pytest.raises(OSError, match=r"(?s)every mirror failed.*/cut/one\.bin.*IncompleteRead"):
        downloads.fetch("tiny", hashes, [f"{server.url}/cut/"], tmp_path / "dl", timeout=FAST)
    assert "/cut/one.bin" in server.log
    assert not (tmp_path / "dl").exists()  # no file, not even an empty folder


def test_a_mirror_trickling_bytes_is_stopped_by_the_deadline(server, served, tmp_path):
    hashes = served
    start = time.monotonic()
    with pytest.raises(
        OSError,
        match=r"(?s)every mirror failed.*/slow/one\.bin.*TimeoutError.*deadline of 0\.5 s",
    ):
        downloads.fetch(
            "tiny", hashes, [f"{server.url}/slow/"], tmp_path / "dl", FAST, deadline=0.5
        )
    assert time.monotonic() - start < 3  # per read (5 s) it would have gone on for ever
    assert not (tmp_path / "dl").exists()  # no partial file, no empty folder


def test_the_deadline_is_per_file_and_fast_mirrors_finish(server, served, tmp_path, monkeypatch):
    hashes = served
    monkeypatch.setattr(downloads, "DEADLINE", 0.5)
    mirrors = [f"{server.url}/slow/", f"{server.url}/good/"]
    folder = downloads.fetch("tiny", hashes, mirrors, tmp_path / "dl", timeout=FAST)
    assert sorted(os.listdir(folder)) == sorted(FILES)


def test_a_folder_that_cannot_be_made_is_a_download_error(served, tmp_path):
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(downloads.DownloadError, match=r"cannot create .*file.dl"):
        downloads.fetch("tiny", served, ["http://127.0.0.1:9/"], tmp_path / "file" / "dl")


def test_without_pooch_the_download_error_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pooch", None)
    with pytest.raises(downloads.DownloadError, match=r"pip install pooch"):
        downloads.fetch("tiny", {"one.bin": "0" * 64}, ["http://127.0.0.1:9/"], tmp_path / "dl")
    assert not (tmp_path / "dl").exists()
    assert issubclass(downloads.DownloadError, OSError)  # callers catch OSError


def test_import_does_not_need_pooch():
    code = "import sys, framework.downloads; sys.exit('pooch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
