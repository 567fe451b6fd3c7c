"""MLP training-step benchmark: framework.Sequential against a bare-numpy floor and others.

Usage::

    python benchmarks/bench_mlp.py [--quick] [--threads 1|default|both]

One training step (forward, backward, update) in float32, timed for every
implementation in the same run, from the same initial weights, on the same batches:

* ``floor``   bare numpy in one function: preallocated buffers, ``out=`` everywhere,
              in-place updates, no input gradient for the first layer;
* ``book``    the book's chapter-5 layer classes and optimizers (faithful copies);
* ``dezero``  DeZero 0.0.13: ``models.MLP`` (Linear + relu), ``softmax_cross_entropy``;
* ``torch``   PyTorch CPU: ``nn.Linear``, ``cross_entropy``, ``torch.optim``;
* ``ours``    ``framework.Sequential`` with ``framework.SGD`` / ``framework.Adam``.

Setting A is the book's ch05 net (784-50-10, batch 100, SGD lr 0.1); setting B is
784-1000-1000-10, batch 256, Adam lr 1e-3.  Before timing, every implementation
trains a few steps and must reach the floor's losses; peak memory over one epoch
is measured in a fresh subprocess per implementation.  See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
from collections import OrderedDict

import numpy as np
from _common import (
    count_arg,
    emit_worker_result,
    format_table,
    limit_threads,
    load_data,
    machine_report,
    names_arg,
    peak_rss_kib,
    release_free_memory,
    reset_peak_rss,
    rss_kib,
    run_steps,
    run_worker,
    time_interleaved,
    tracemalloc_peak,
)

SETTINGS = {
    "A": dict(sizes=(784, 50, 10), batch=100, optimizer="sgd", lr=0.1),
    "B": dict(sizes=(784, 1000, 1000, 10), batch=256, optimizer="adam", lr=1e-3),
}
IMPLS = ("floor", "ours", "book", "dezero", "torch")
CHECK_STEPS = 5  # steps every implementation trains before timing; losses must agree
LOSS_RTOL = 1e-4  # float32 rounding over a few steps


# -- initial weights --------------------------------------------------------
def init_weights(sizes, rng):
    """He-initialised float32 weights and zero biases, shared by every implementation."""
    from framework.initializers import init_weight

    return [
        (init_weight((i, o), "he", rng, "float32"), np.zeros(o, np.float32))
        for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]


# -- 1. the floor: bare numpy, preallocated, in place -----------------------------------
def build_floor(weights, cfg):
    W = [w.copy() for w, _ in weights]
    b = [v.copy() for _, v in weights]
    L, n, lr = len(W), cfg["batch"], cfg["lr"]
    z = [np.empty((n, w.shape[1]), np.float32) for w in W]  # pre-activations, scores
    h = [np.empty_like(a) for a in z[:-1]]  # ReLU outputs
    dh = [np.empty_like(a) for a in h]
    dW, db = [np.empty_like(w) for w in W], [np.empty_like(v) for v in b]
    m_row, s_row = np.empty((n, 1), np.float32), np.empty((n, 1), np.float32)
    rows = np.arange(n)
    params, grads = W + b, dW + db
    if cfg["optimizer"] == "adam":
        m1, v1, tmp = ([np.zeros_like(p) for p in params] for _ in range(3))
    beta1, beta2, t_adam = 0.9, 0.999, [0]

    def step(x, t):
        a = x
        for i in range(L):
            np.matmul(a, W[i], out=z[i])
            z[i] += b[i]
            if i < L - 1:
                a = np.maximum(z[i], 0, out=h[i])
        s = z[-1]  # softmax cross-entropy, in place: s becomes the shifted scores
        np.max(s, axis=1, keepdims=True, out=m_row)
        s -= m_row
        np.sum(np.exp(s, out=s), axis=1, keepdims=True, out=s_row)  # s: exp(shifted)
        loss = float(np.log(s_row).sum() - np.log(s[rows, t]).sum()) / n
        s /= s_row
        s[rows, t] -= 1
        s *= 1.0 / n
        g = s
        for i in range(L - 1, -1, -1):
            np.matmul(x.T if i == 0 else h[i - 1].T, g, out=dW[i])
            np.sum(g, axis=0, out=db[i])
            if i > 0:
                g = np.matmul(g, W[i].T, out=dh[i - 1])
                np.multiply(g, h[i - 1] > 0, out=g)
        if cfg["optimizer"] == "sgd":
            for p, gr in zip(params, grads, strict=True):
                gr *= lr
                p -= gr
            return loss
        t_adam[0] += 1
        lr_t = lr * math.sqrt(1.0 - beta2 ** t_adam[0]) / (1.0 - beta1 ** t_adam[0])
        for p, gr, m, v, tm in zip(params, grads, m1, v1, tmp, strict=True):
            m *= beta1
            m += np.multiply(gr, 1.0 - beta1, out=tm)
            v *= beta2
            v += np.multiply(np.square(gr, out=tm), 1.0 - beta2, out=tm)
            np.add(np.sqrt(v, out=tm), 1e-7, out=tm)
            p -= np.multiply(np.divide(m, tm, out=tm), lr_t, out=tm)
        return loss

    return step


# -- 2. the book's code (common/layers.py, functions.py, optimizer.py), verbatim logic -----
class BookAffine:
    def __init__(self, W, b):
        self.W, self.b, self.x, self.dW, self.db = W, b, None, None, None

    def forward(self, x):
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


class BookRelu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class BookSoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        x = x - np.max(x, axis=-1, keepdims=True)
        self.y = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
        n = self.y.shape[0]
        return -np.sum(np.log(self.y[np.arange(n), t] + 1e-7)) / n

    def backward(self, dout=1):
        n = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dx / n


def build_book(weights, cfg):
    params, layers = {}, OrderedDict()
    for i, (W, b) in enumerate(weights, 1):
        params[f"W{i}"], params[f"b{i}"] = W.copy(), b.copy()
        layers[f"Affine{i}"] = BookAffine(params[f"W{i}"], params[f"b{i}"])
        if i < len(weights):
            layers[f"Relu{i}"] = BookRelu()
    last = BookSoftmaxWithLoss()
    lr, state = cfg["lr"], {"iter": 0, "m": None, "v": None}

    def step(x, t):
        for layer in layers.values():
            x = layer.forward(x)
        loss = last.forward(x, t)
        dout = last.backward(1)
        for layer in reversed(list(layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, len(weights) + 1):
            grads[f"W{i}"], grads[f"b{i}"] = layers[f"Affine{i}"].dW, layers[f"Affine{i}"].db
        if cfg["optimizer"] == "sgd":
            for key in params:
                params[key] -= lr * grads[key]
            return float(loss)
        if state["m"] is None:
            state["m"] = {k: np.zeros_like(v) for k, v in params.items()}
            state["v"] = {k: np.zeros_like(v) for k, v in params.items()}
        state["iter"] += 1
        lr_t = lr * np.sqrt(1.0 - 0.999 ** state["iter"]) / (1.0 - 0.9 ** state["iter"])
        m, v = state["m"], state["v"]
        for key in params:
            m[key] += (1 - 0.9) * (grads[key] - m[key])
            v[key] += (1 - 0.999) * (grads[key] ** 2 - v[key])
            params[key] -= lr_t * m[key] / (np.sqrt(v[key]) + 1e-7)
        return float(loss)

    return step


# -- 3. DeZero, 4. PyTorch, 5. ours ------------------------------------------------------
def import_dezero():
    """Import DeZero 0.0.13, which still uses ``np.int`` (removed in numpy 1.24)."""
    if not hasattr(np, "int"):
        np.int = int  # noqa: NPY001
    import dezero

    return dezero


def build_dezero(weights, cfg):
    import_dezero()
    from dezero import functions as F
    from dezero import models, optimizers

    model = models.MLP([W.shape[1] for W, _ in weights], activation=F.relu)
    for layer, (W, b) in zip(model.layers, weights, strict=True):
        layer.W.data, layer.b.data = W.copy(), b.copy()
    if cfg["optimizer"] == "sgd":
        opt = optimizers.SGD(cfg["lr"]).setup(model)
    else:
        opt = optimizers.Adam(alpha=cfg["lr"], eps=1e-7).setup(model)

    def step(x, t):
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        return float(loss.data)

    return step


def build_torch(weights, cfg):
    import torch

    mods = []
    for i, (W, b) in enumerate(weights):
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        mods += [lin, torch.nn.ReLU()] if i < len(weights) - 1 else [lin]
    model = torch.nn.Sequential(*mods)
    if cfg["optimizer"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"])
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])

    def step(x, t):
        if cfg["optimizer"] == "adam":  # the book's eps: sqrt(v) + eps before bias correction
            state = opt.state[next(model.parameters())]
            t_next = int(state["step"]) + 1 if state else 1
            opt.param_groups[0]["eps"] = 1e-7 / math.sqrt(1.0 - 0.999**t_next)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def build_ours(weights, cfg):
    import framework as fw

    layers = []
    for i, (W, b) in enumerate(weights):
        layers += [fw.Affine(W.copy(), b.copy())] + ([fw.Relu()] if i < len(weights) - 1 else [])
    net = fw.Sequential(layers)
    opt = fw.SGD(cfg["lr"]) if cfg["optimizer"] == "sgd" else fw.Adam(cfg["lr"])

    def step(x, t):
        grads = net.gradient(x, t)
        opt.update(net.params, grads)
        return net.loss_layer.loss

    return step


def prepare(name, x, t):
    """The whole data set in the form ``name`` takes (done once, before any measuring).

    DeZero gets uint8 labels: with int64 labels its one-hot ``eye(C, dtype=t.dtype)``
    turns the whole backward pass into float64.
    """
    if name == "torch":
        import torch

        return torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))
    return x, (t if name == "dezero" else t.astype(np.intp))


BUILDERS = {
    "floor": build_floor,
    "ours": build_ours,
    "book": build_book,
    "dezero": build_dezero,
    "torch": build_torch,
}


# -- measuring ---------------------------------------------------------------------------
def memory_worker(name, setting, samples, seed):
    """Peak memory of building ``name`` and training one epoch (run in its own process).

    A tiny net trains first, so imports and lazy initialisation are done before the
    baseline, without leaving big freed blocks for the measured epoch to reuse.
    """
    cfg = SETTINGS[setting]
    rng = np.random.default_rng(seed)
    x, t, _ = load_data(samples, rng)
    weights = init_weights(cfg["sizes"], rng)
    X, T = prepare(name, x, t)
    tiny = dict(cfg, sizes=(784, 2, 10), batch=2)

    def epoch(c, w, count):
        run_steps(BUILDERS[name](w, c), X, T, c["batch"], 0, count)

    with limit_threads(1):
        epoch(tiny, init_weights(tiny["sizes"], rng), 3)
        gc.collect()
        release_free_memory()
        ok = reset_peak_rss()
        base = rss_kib()
        epoch(cfg, weights, samples // cfg["batch"])
        rss = peak_rss_kib() - base if ok and base is not None else None
        traced = None
        if name != "torch":  # torch's allocator does not report to tracemalloc
            traced = tracemalloc_peak(lambda: epoch(cfg, weights, samples // cfg["batch"]))
    emit_worker_result({"rss_kib": rss, "traced_bytes": traced})


def available(names):
    """The implementations in ``names`` whose libraries import here."""
    out = []
    for name in names:
        try:
            if name == "torch":
                import torch  # noqa: F401
            elif name == "dezero":
                import_dezero()
        except ImportError as err:
            print(f"skipping {name}: {err}")
            continue
        out.append(name)
    return out


def time_setting(setting, impls, threads, x, t, weights, args):
    """Check losses agree, then time every implementation; return (table text, ok, ratios)."""
    cfg = SETTINGS[setting]
    data = {name: prepare(name, x, t) for name in impls}
    steps = {name: BUILDERS[name](weights, cfg) for name in impls}
    k = args.steps or ({"A": 5, "B": 1} if args.quick else {"A": 100, "B": 5})[setting]
    n_check = 2 if args.quick else CHECK_STEPS
    with limit_threads(threads):
        losses = {
            name: run_steps(steps[name], *data[name], cfg["batch"], 0, n_check) for name in impls
        }
        cursor = dict.fromkeys(impls, n_check)

        def block(name):
            run_steps(steps[name], *data[name], cfg["batch"], cursor[name], k)
            cursor[name] += k

        fns = {name: (lambda name=name: block(name)) for name in impls}
        res = time_interleaved(fns, repeats=args.repeats, warmup=1)
    ref, floor = np.array(losses[impls[0]]), res[impls[0]]
    rows, ok, ratios = [], True, {}
    for name in impls:
        r = res[name]
        diff = float(np.max(np.abs(np.array(losses[name]) - ref) / np.abs(ref)))
        ok &= diff <= LOSS_RTOL
        # Ratio to the floor in the same round, then the median: robust to load drift.
        wall_ratio = statistics.median(
            a / b for a, b in zip(r["times"], floor["times"], strict=True)
        )
        cpu_ratio = r["cpu_median"] / floor["cpu_median"]
        ratios[name] = (wall_ratio, cpu_ratio)
        rows.append(
            [
                name,
                f"{r['median'] / k * 1e3:.3f}",
                f"{r['min'] / k * 1e3:.3f}-{r['max'] / k * 1e3:.3f}",
                f"{wall_ratio:.2f}",
                f"{r['cpu_median'] / k * 1e3:.3f}",
                f"{cpu_ratio:.2f}",
                f"{losses[name][-1]:.6f}",
                f"{diff:.1e}" + ("" if diff <= LOSS_RTOL else "  MISMATCH"),
            ]
        )
    header = ["implementation", "ms/step", "min-max", "x floor", "cpu ms", "x floor",
              f"loss@{n_check}", "rel diff"]  # fmt: skip
    return format_table(rows, header), ok, ratios


def memory_setting(setting, impls, args):
    """Peak memory of one epoch per implementation, each in a fresh subprocess."""
    results = {}
    for name in impls:
        argv = [os.path.abspath(__file__), "--memory-worker", name, "--setting", setting,
                "--samples", args.samples, "--seed", args.seed]  # fmt: skip
        results[name] = run_worker(argv)

    def mib(v, ref):
        if v is None or ref is None:
            return ["n/a", ""]
        return [f"{v / 2**20:.2f}", f"{v / ref:.2f}" if ref else ""]

    floor = results[impls[0]]
    rows = []
    for name in impls:
        traced, rss = results[name]["traced_bytes"], results[name]["rss_kib"]
        rss_b = None if rss is None else rss * 1024
        floor_rss = None if floor["rss_kib"] is None else floor["rss_kib"] * 1024
        rows.append([name, *mib(traced, floor["traced_bytes"]), *mib(rss_b, floor_rss)])
    header = ["implementation", "tracemalloc MiB", "x floor", "RSS peak MiB", "x floor"]
    return format_table(rows, header), results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a few steps only (smoke test)")
    p.add_argument("--threads", choices=["1", "default", "both"], default="both")
    p.add_argument(
        "--settings", type=names_arg(SETTINGS), default="A,B", help="comma-separated, from A,B"
    )
    p.add_argument(
        "--impls", type=names_arg(IMPLS), default=",".join(IMPLS), help="comma-separated subset"
    )
    p.add_argument("--steps", type=count_arg, default=0, help="steps per timed block")
    p.add_argument("--repeats", type=count_arg, default=0, help="timed blocks per implementation")
    p.add_argument("--samples", type=count_arg, default=0, help="data set size for the epoch")
    p.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--memory-worker", help=argparse.SUPPRESS)
    p.add_argument("--setting", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.samples = args.samples or (512 if args.quick else 10000)
    args.repeats = args.repeats or (2 if args.quick else 11)
    if args.memory_worker:
        memory_worker(args.memory_worker, args.setting, args.samples, args.seed)
        return 0
    impls = available(["floor"] + [n for n in args.impls if n in IMPLS[1:]])
    threads = {"1": [1], "default": [None], "both": [1, None]}[args.threads]
    ok = True
    for setting in args.settings:
        cfg = SETTINGS[setting]
        rng = np.random.default_rng(args.seed)
        x, t, source = load_data(args.samples, rng)
        weights = init_weights(cfg["sizes"], rng)
        title = (f"Setting {setting}: {'-'.join(map(str, cfg['sizes']))}, batch {cfg['batch']}, "
                 f"{cfg['optimizer'].upper()} lr {cfg['lr']}, float32, {source} data")  # fmt: skip
        for n in threads:
            table, good, ratios = time_setting(setting, impls, n, x, t, weights, args)
            ok &= good
            label = "1 thread" if n == 1 else "default threads"
            print(f"\n{title} -- {label}\n{table}")
            if "ours" in ratios:
                wall, cpu = ratios["ours"]
                verdicts = [f"{what} {v:.2f}x {'met' if v <= 1.15 else 'NOT met'}"
                            for what, v in (("wall", wall), ("cpu", cpu))]  # fmt: skip
                print("goal ours <= 1.15x floor: " + ", ".join(verdicts))
        if not args.no_memory:
            table, res = memory_setting(setting, impls, args)
            print(f"\n{title} -- peak memory of building the net and one epoch "
                  f"({args.samples} samples, data set excluded, 1 thread)\n{table}")  # fmt: skip
            if "ours" in res and res["floor"]["traced_bytes"]:
                r = res["ours"]["traced_bytes"] / res["floor"]["traced_bytes"]
                verdict = "met" if r <= 1.5 else "NOT met"
                print(f"goal ours <= 1.5x floor memory (tracemalloc): {r:.2f}x, {verdict}")
    print("\n" + "\n".join(machine_report()))
    if not ok:
        print(f"\nERROR: some implementation did not reach the floor's losses (rtol {LOSS_RTOL})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
