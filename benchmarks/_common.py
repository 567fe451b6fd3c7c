"""Helpers shared by the benchmarks: machine report, thread limits, timing, memory, tables.

Every benchmark in this folder times several implementations of the same work
*in the same run*, interleaved, so that the load of a shared machine hits them
alike and the ratios between them stay meaningful even when absolute times drift.

* ``machine_report()``            what the numbers were measured on (BLAS, threads, env)
* ``limit_threads(n)``            context manager: BLAS / OpenMP / torch thread count
* ``time_interleaved(fns, ...)``  median seconds per call of several callables
* ``reset_peak_rss()``, ``peak_rss_kib()``, ``rss_kib()``  Linux ``/proc`` memory readings
* ``release_free_memory()``     glibc ``malloc_trim``, before an RSS baseline
* ``tracemalloc_peak(fn)``        peak bytes allocated through Python's allocators
* ``run_worker(argv)``            run a benchmark worker in a fresh subprocess, parse its JSON
* ``load_data(n, rng)``          Fashion-MNIST images (or random ones) with no download
* ``run_steps(step, X, T, ...)``  train on consecutive batches of a prepared data set
* ``format_table(rows)``          plain-text table for the terminal
* ``count_arg``, ``positive_arg``, ``names_arg(allowed)``  argparse types: clear errors
  for a negative count, a zero batch, an unknown setting or implementation
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

__all__ = [
    "count_arg",
    "positive_arg",
    "names_arg",
    "FASHION_DIR",
    "load_data",
    "run_steps",
    "SLOW_ENV_VARS",
    "machine_report",
    "limit_threads",
    "time_interleaved",
    "release_free_memory",
    "reset_peak_rss",
    "rss_kib",
    "peak_rss_kib",
    "tracemalloc_peak",
    "run_worker",
    "emit_worker_result",
    "format_table",
]

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
# Set on some machines to force an OpenBLAS kernel; they can make numpy much slower.
SLOW_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_lines() -> list[str]:
    """Describe the BLAS libraries loaded in this process (threadpoolctl if present)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
        return [f"numpy BLAS: {name} (install threadpoolctl for thread counts)"]
    lines = []
    for info in threadpool_info():
        lib = os.path.basename(info.get("filepath", "?"))
        arch = info.get("architecture")
        version = info.get("version")
        extra = ", ".join(str(s) for s in (version, arch) if s)
        lines.append(
            f"{info['user_api']}: {info['internal_api']} {lib}"
            f"{f' ({extra})' if extra else ''}, {info['num_threads']} threads"
        )
    return lines


def machine_report() -> list[str]:
    """Return lines describing the machine, library versions, BLAS and relevant env vars."""
    lines = [
        f"machine: {_cpu_name()}, {os.cpu_count()} logical cores, "
        f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} usable",
        f"python {platform.python_version()}, numpy {np.__version__}",
    ]
    torch = sys.modules.get("torch")
    if torch is not None:
        lines.append(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads")
    lines += _blas_lines()
    for var in _THREAD_ENV_VARS:
        if var in os.environ:
            lines.append(f"env {var}={os.environ[var]}")
    slow = [v for v in SLOW_ENV_VARS if v in os.environ]
    for var in slow:
        lines.append(f"env {var}={os.environ[var]}  (WARNING: can slow numpy's BLAS)")
    if slow:
        lines.append(
            "  to benchmark without them: env " + " ".join(f"-u {v}" for v in slow) + " python ..."
        )
    return lines


@contextlib.contextmanager
def limit_threads(n: int | None):
    """Run the block with ``n`` BLAS/OpenMP threads (``None``: leave the defaults).

    Uses threadpoolctl for numpy's BLAS and for OpenMP, and ``torch.set_num_threads``
    when torch is imported.  Without threadpoolctl a warning is printed once and
    numpy keeps its default thread count (set ``OPENBLAS_NUM_THREADS=1`` instead).
    """
    if n is None:
        yield
        return
    torch = sys.modules.get("torch")
    old_torch = torch.get_num_threads() if torch is not None else None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print(
            "note: threadpoolctl is not installed, numpy's BLAS thread count is not limited; "
            'pip install -e ".[bench]" or set OPENBLAS_NUM_THREADS=1',
            file=sys.stderr,
        )
        limiter = contextlib.nullcontext()
    else:
        limiter = threadpool_limits(limits=n)
    with limiter:
        if torch is not None:
            torch.set_num_threads(n)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(old_torch)


def time_interleaved(fns: dict, repeats: int = 7, warmup: int = 1) -> dict:
    """Median seconds per call of each ``fns[name]()``, measured round-robin.

    Each round calls every function once, in a rotated order, so a burst of load
    from other processes slows all of them alike.  ``warmup`` rounds are discarded.
    Besides wall-clock time (``time.perf_counter``) the CPU time of this process
    (``time.process_time``, all its threads) is recorded: on a machine shared with
    other jobs it is the steadier of the two for single-threaded runs.

    Returns
    -------
    dict
        name -> {"median", "min", "max": wall seconds, "times": [wall seconds, ...],
        "cpu_median": CPU seconds, "cpu_times": [CPU seconds, ...]}
    """
    names = list(fns)
    times = {name: [] for name in names}
    cpu_times = {name: [] for name in names}
    for r in range(warmup + repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            c0, t0 = time.process_time(), time.perf_counter()
            fns[name]()
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            if r >= warmup:
                times[name].append(dt)
                cpu_times[name].append(dc)
    return {
        name: {
            "median": statistics.median(ts),
            "min": min(ts),
            "max": max(ts),
            "times": ts,
            "cpu_median": statistics.median(cpu_times[name]),
            "cpu_times": cpu_times[name],
        }
        for name, ts in times.items()
    }


def load_data(n: int, rng, image_shape: tuple = (784,)):
    """First ``n`` Fashion-MNIST training images in [0, 1], shuffled; random ones when absent.

    Reads only the first ``n`` images from ``$FASHION_MNIST_DIR`` (default
    ``/usr/share/datasets/fashion-mnist``), so a benchmark needs no download.

    Returns
    -------
    x : float32 array of shape (n, *image_shape)
    t : uint8 labels of shape (n,)
    source : str
        ``"Fashion-MNIST"`` or ``"random"``.
    """
    folder = os.environ.get("FASHION_MNIST_DIR", FASHION_DIR)
    images = os.path.join(folder, "train-images-idx3-ubyte.gz")
    labels = os.path.join(folder, "train-labels-idx1-ubyte.gz")
    if n <= 60000 and os.path.exists(images) and os.path.exists(labels):
        with gzip.open(images) as f:
            x = np.frombuffer(f.read(16 + n * 784)[16:], np.uint8)
        with gzip.open(labels) as f:
            t = np.frombuffer(f.read(8 + n)[8:], np.uint8)
        x, source = (x / np.float32(255)).astype(np.float32), "Fashion-MNIST"
    else:
        x, source = rng.random(n * 784, dtype=np.float32), "random"
        t = rng.integers(0, 10, n).astype(np.uint8)
    order = rng.permutation(n)
    return np.ascontiguousarray(x.reshape(n, *image_shape)[order]), t[order], source


def run_steps(step, X, T, batch: int, start: int, count: int) -> list:
    """Call ``step(x, t)`` on ``count`` consecutive batches from batch ``start``; return losses.

    Batches are slices (views, no copies) of the whole prepared data set, wrapping
    around at its end; a last partial batch is never used.
    """
    nb = len(X) // batch
    losses = []
    for j in range(start, start + count):
        i = (j % nb) * batch
        losses.append(step(X[i : i + batch], T[i : i + batch]))
    return losses


def _proc_status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_kib() -> int | None:
    """Resident memory of this process in KiB (Linux ``VmRSS``), or None elsewhere."""
    return _proc_status_kib("VmRSS")


def peak_rss_kib() -> int | None:
    """Peak resident memory since start or the last ``reset_peak_rss`` (``VmHWM``)."""
    return _proc_status_kib("VmHWM")


def release_free_memory() -> None:
    """Hand memory that was freed but kept by the C allocator back to the OS (glibc only).

    Call it before taking an RSS baseline, so the measured code cannot reuse pages
    that earlier work left resident and look smaller than it is.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); return False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def tracemalloc_peak(fn) -> int:
    """Run ``fn()`` and return the peak bytes it held through Python's allocators.

    NumPy reports its array buffers to tracemalloc, so this counts every numpy
    array allocated inside ``fn``; libraries with their own allocator (torch) are
    invisible to it.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - base


def emit_worker_result(result: dict) -> None:
    """Print a worker's result as the single JSON line that ``run_worker`` reads."""
    print("RESULT " + json.dumps(result), flush=True)


def run_worker(argv: list, env: dict | None = None, timeout: float = 600) -> dict:
    """Run ``python <argv>`` in a fresh process and return the dict it emitted.

    Raises
    ------
    RuntimeError
        When the worker fails or prints no ``RESULT`` line (its stderr is included).
    """
    proc = subprocess.run(
        [sys.executable, *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"benchmark worker {argv} failed with exit code {proc.returncode}:\n{proc.stderr[-2000:]}"
    )


def format_table(rows: list, header: list) -> str:
    """Format rows (lists of cells) under ``header`` as left/right aligned text columns.

    Cells that are numbers or look like numbers are right-aligned.
    """
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def numeric(s):
        return s[:1].isdigit() or (s[:1] in "-." and s[1:2].isdigit())

    lines = []
    for k, row in enumerate(cells):
        parts = [
            c.rjust(w) if k and numeric(c) else c.ljust(w)
            for c, w in zip(row, widths, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def count_arg(text: str) -> int:
    """argparse type: an int >= 0 (0 keeps the benchmark's own default)."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= 0 (0 keeps the default), got {text!r}"
        )
    return n


def positive_arg(text: str) -> int:
    """argparse type: an int >= 1 (a thread count, a batch size)."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return n


def names_arg(allowed, *, convert=str):
    """argparse type: a comma-separated list whose every entry is one of ``allowed``."""
    allowed = [str(a) for a in allowed]

    def parse(text: str) -> list:
        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in allowed]
        if not names or unknown:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated subset of {','.join(allowed)}, got {text!r}"
                + (f" ({', '.join(unknown)} unknown)" if unknown else "")
            )
        return [convert(n) for n in names]

    return parse
