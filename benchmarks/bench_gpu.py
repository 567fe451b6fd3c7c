"""Training-step speed on the GPU: ours on CuPy against ours on NumPy and PyTorch CUDA.

Usage::

    python benchmarks/bench_gpu.py [--quick] [--batches 100,1000]

Two nets, each trained with Adam (lr 0.001) in float32 from the same initial
weights on the same batches of Fashion-MNIST-shaped images:

* ``mlp``  784-100-10 (``framework.models.mlp``),
* ``cnn``  the book's simple CNN (``framework.models.simple_cnn``).

Implementations, timed in turns (``_common.time_interleaved``):

* ``ours-cpu``    ``framework.Sequential`` on NumPy arrays;
* ``ours-gpu``    the same net after ``net.to_gpu()``, data already on the device;
* ``torch-cuda``  the equivalent ``torch.nn`` net and ``torch.optim.Adam`` on CUDA;
* ``torch-cpu``   the same on the CPU (for reference, when torch is installed).

Every step ends by reading the loss as a Python float, which waits for the
device, so the GPU timings are honest.  Ratios are printed against ``ours-cpu``
and against ``torch-cuda``.  Goal (issue: the GPU backend): at batch 1000, ours on
the GPU within 2x of PyTorch CUDA on the CNN and at least 20x faster than ours on
the CPU.  Without CuPy and a CUDA device the GPU rows are left out and the table
says so.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _common import format_table, load_data, machine_report, positive_arg, time_interleaved

LR = 0.001


def build_ours(kind: str, seed: int, device: str):
    """Our net (Adam) as ``step(x, t) -> loss``; the weights are moved to ``device``."""
    import framework as fw
    from framework.models import mlp, simple_cnn

    net = (mlp if kind == "mlp" else simple_cnn)(rng=np.random.default_rng(seed))
    if device == "gpu":
        net.to_gpu()
    opt = fw.Adam(lr=LR)

    def step(x, t):
        loss = net.loss(x, t, train=True)
        net.backward()
        opt.update(net.params, net.grads)
        return loss

    return step


def torch_net(kind: str, seed: int):
    """The same net in ``torch.nn``, with our initial weights copied in."""
    import torch

    from framework.layers import Affine, Convolution, Pooling, Relu
    from framework.models import mlp, simple_cnn

    ours = (mlp if kind == "mlp" else simple_cnn)(rng=np.random.default_rng(seed))
    mods, flat = [], False
    for layer in ours.layers:
        if isinstance(layer, Convolution):
            fn, c, fh, fw = layer.W.shape
            conv = torch.nn.Conv2d(c, fn, (fh, fw), stride=layer.stride, padding=layer.pad)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W)))
                conv.bias.copy_(torch.from_numpy(layer.b))
            mods.append(conv)
        elif isinstance(layer, Pooling):
            mods.append(torch.nn.MaxPool2d((layer.pool_h, layer.pool_w), stride=layer.stride))
        elif isinstance(layer, Relu):
            mods.append(torch.nn.ReLU())
        elif isinstance(layer, Affine):
            if not flat:
                mods.append(torch.nn.Flatten())
                flat = True
            lin = torch.nn.Linear(*layer.W.shape)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W.T)))
                lin.bias.copy_(torch.from_numpy(layer.b))
            mods.append(lin)
        else:
            raise TypeError(f"bench_gpu: no torch twin for {type(layer).__name__}")
    return torch.nn.Sequential(*mods)


def build_torch(kind: str, seed: int, device: str):
    """PyTorch's twin of our net on ``device`` ("cuda" or "cpu") as ``step(x, t) -> loss``."""
    import torch

    net = torch_net(kind, seed).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=LR, eps=1e-7)

    def step(x, t):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), t)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def gpu_state():
    """Return (cupy or None, torch-with-cuda or None, a line saying what is there)."""
    from framework.backend import gpu_available

    cp = None
    if gpu_available():
        import cupy as cp
    try:
        import torch

        torch_cuda = torch if torch.cuda.is_available() else None
    except ImportError:
        torch, torch_cuda = None, None
    if cp is None:
        note = "no GPU here (CuPy with a CUDA device is not available): GPU rows left out"
    else:
        props = cp.cuda.runtime.getDeviceProperties(0)
        note = f"GPU: {props['name'].decode()}, CuPy {cp.__version__}"
    return cp, torch_cuda, torch, note


def implementations(kind, seed, x, t, cp, torch_cuda, torch):
    """Map name -> (step, x, t), the data already where each implementation wants it."""
    impls = {"ours-cpu": (build_ours(kind, seed, "cpu"), x, t.astype(np.intp))}
    if cp is not None:
        impls["ours-gpu"] = (build_ours(kind, seed, "gpu"), cp.asarray(x), cp.asarray(t))
    if torch_cuda is not None:
        xt = torch.from_numpy(x).cuda()
        tt = torch.from_numpy(t.astype(np.int64)).cuda()
        impls["torch-cuda"] = (build_torch(kind, seed, "cuda"), xt, tt)
    if torch is not None:
        xt, tt = torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))
        impls["torch-cpu"] = (build_torch(kind, seed, "cpu"), xt, tt)
    return impls


def bench(kind, batch, n_batches, repeats, seed, cp, torch_cuda, torch):
    """Time each implementation on ``n_batches`` batches; return table rows and ratios."""
    x, t, _ = load_data(batch * n_batches, np.random.default_rng(seed), (1, 28, 28))
    impls = implementations(kind, seed, x, t, cp, torch_cuda, torch)
    losses = {}

    def run(name):
        step, X, T = impls[name]
        losses[name] = [step(X[i : i + batch], T[i : i + batch]) for i in range(0, len(X), batch)]

    res = time_interleaved({n: (lambda n=n: run(n)) for n in impls}, repeats=repeats, warmup=1)
    ms = {n: res[n]["median"] / n_batches * 1e3 for n in impls}
    rows = []
    for n in impls:
        vs_torch = f"{ms[n] / ms['torch-cuda']:.2f}" if "torch-cuda" in ms else "-"
        rows.append([f"{kind} b{batch}", n, f"{ms[n]:.2f}",
                     f"{ms['ours-cpu'] / ms[n]:.1f}", vs_torch])  # fmt: skip
    return rows, ms


def _batch_sizes(text: str) -> list:
    """argparse type: comma-separated batch sizes, each a whole number >= 1."""
    return [positive_arg(b) for b in text.split(",")]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a few steps only (smoke test)")
    p.add_argument(
        "--batches", type=_batch_sizes, default="100,1000", help="batch sizes, comma-separated"
    )
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    cp, torch_cuda, torch, note = gpu_state()
    print("\n".join(machine_report()))
    print(note)
    rows, summary = [], {}
    for kind in ("mlp", "cnn"):
        for batch in args.batches:
            n_batches = 2 if args.quick else max(4, 20000 // (batch * (5 if kind == "cnn" else 1)))
            r, ms = bench(kind, batch, n_batches, 1 if args.quick else 5, args.seed,
                          cp, torch_cuda, torch)  # fmt: skip
            rows += r
            summary[(kind, batch)] = ms
    header = ["net / batch", "implementation", "ms/step", "speed-up vs ours-cpu", "x torch-cuda"]
    print(format_table(rows, header))
    big = max(args.batches)
    ms = summary.get(("cnn", big), {})
    if "ours-gpu" in ms:
        speedup = ms["ours-cpu"] / ms["ours-gpu"]
        print(f"goal at batch {big}, CNN: ours-gpu {speedup:.1f}x faster than ours-cpu "
              f"(goal >= 20x)", end="")  # fmt: skip
        if "torch-cuda" in ms:
            print(f"; {ms['ours-gpu'] / ms['torch-cuda']:.2f}x torch-cuda (goal <= 2x)")
        else:
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
