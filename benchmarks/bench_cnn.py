"""Training-step speed of the book's simple CNN, as ratios to a bare-NumPy floor.

Usage::

    python benchmarks/bench_cnn.py [--quick] [--threads 1|default|both]

The net: conv 30x5x5 - relu - max-pool 2x2 - affine 100 - relu - affine 10 -
softmax cross-entropy, one Adam step (lr 0.001) per batch of 100 Fashion-MNIST
images (random ones if the data set is absent), float32.  Every implementation
starts from the same weights, sees the same batches and must reach the floor's
losses before it is timed:

* ``floor``   one bare-NumPy function: im2col via ``sliding_window_view``, 2x2 max-pool
              by reshape, no input gradient for the conv;
* ``ours``    ``framework.Sequential`` of our layers and ``framework.Adam``;
* ``book``    the book's ``common/layers.py`` Convolution and Pooling (im2col/col2im
              with loops over the kernel, pooling through im2col + argmax), transcribed;
* ``dezero``  DeZero 0.0.13: ``Conv2d``, ``F.pooling``, ``Linear``, its ``Adam``;
* ``torch``   PyTorch CPU: ``nn.Conv2d``, ``MaxPool2d``, ``nn.Linear``, ``torch.optim.Adam``.

Each table is measured with one thread and with the libraries' default thread
counts; the implementations take turns (``_common.time_interleaved``).
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from _common import (
    count_arg,
    format_table,
    limit_threads,
    load_data,
    machine_report,
    names_arg,
    run_steps,
    time_interleaved,
)
from bench_mlp import (
    BookAffine,
    BookRelu,
    BookSoftmaxWithLoss,
    available,
    import_dezero,
    prepare,
)
from numpy.lib.stride_tricks import sliding_window_view

N_BATCH, C_OUT, K, HIDDEN, CLASSES = 100, 30, 5, 100, 10
LR, BETA1, BETA2, EPS = 0.001, 0.9, 0.999, 1e-7
IMPLS = ("floor", "ours", "book", "dezero", "torch")
CHECK_STEPS = 5  # steps every implementation trains before timing; losses must agree
LOSS_RTOL = 1e-4  # float32 rounding over a few steps
GOAL = 1.2  # ours <= GOAL x floor


def init_weights(rng):
    """He-initialised float32 weights and zero biases, shared by every implementation."""
    from framework.initializers import init_weight

    return {
        "W1": init_weight((C_OUT, 1, K, K), "he", rng),
        "b1": np.zeros(C_OUT, np.float32),
        "W2": init_weight((C_OUT * 12 * 12, HIDDEN), "he", rng),
        "b2": np.zeros(HIDDEN, np.float32),
        "W3": init_weight((HIDDEN, CLASSES), "he", rng),
        "b3": np.zeros(CLASSES, np.float32),
    }


# -- the floor: one bare-NumPy function ---------------------------------------------------
def floor_step(p, adam, x, t):
    """One forward/backward/Adam step of the simple CNN; returns the loss.

    Its pooling backward sends the gradient to every tied maximum of a window.  On
    Fashion-MNIST's blank background ties are common, so its losses drift from the
    others (about 3e-5 after 5 steps), which take the first maximum, like PyTorch.
    """
    N = x.shape[0]
    col = sliding_window_view(x, (K, K), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5)
    col = col.reshape(N * 24 * 24, K * K)
    h1 = np.maximum(col @ p["W1"].reshape(C_OUT, -1).T + p["b1"], 0)  # (N*576, 30) NHWC
    h1 = h1.reshape(N, 12, 2, 12, 2, C_OUT)
    p1 = h1.max(axis=(2, 4))  # (N, 12, 12, 30)
    f1 = p1.transpose(0, 3, 1, 2).reshape(N, -1)  # NCHW flatten, like the layers
    h2 = np.maximum(f1 @ p["W2"] + p["b2"], 0)
    s = h2 @ p["W3"] + p["b3"]
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    z = e.sum(axis=1, keepdims=True)
    loss = float(np.log(z).mean() - s[np.arange(N), t].mean())  # exact, no +1e-7 in the log
    y = e / z
    ds = y
    ds[np.arange(N), t] -= 1
    ds /= N
    g = {"W3": h2.T @ ds, "b3": ds.sum(0)}
    dh2 = (ds @ p["W3"].T) * (h2 > 0)
    g["W2"], g["b2"] = f1.T @ dh2, dh2.sum(0)
    dp1 = (dh2 @ p["W2"].T).reshape(N, C_OUT, 12, 12).transpose(0, 2, 3, 1)
    mask = (h1 == p1[:, :, None, :, None, :]) & (h1 > 0)  # pool argmax and relu together
    dh1 = (mask * dp1[:, :, None, :, None, :]).reshape(N * 576, C_OUT)
    g["W1"], g["b1"] = (dh1.T @ col).reshape(p["W1"].shape), dh1.sum(0)
    adam["t"] += 1
    lr_t = LR * np.sqrt(1.0 - BETA2 ** adam["t"]) / (1.0 - BETA1 ** adam["t"])
    for k in p:
        m, v = adam["m"][k], adam["v"][k]
        m += (1 - BETA1) * (g[k] - m)
        v += (1 - BETA2) * (g[k] * g[k] - v)
        p[k] -= lr_t * m / (np.sqrt(v) + EPS)
    return loss


def build_floor(w):
    p = {k: v.copy() for k, v in w.items()}
    adam = {"t": 0, "m": {k: np.zeros_like(v) for k, v in p.items()}}
    adam["v"] = {k: np.zeros_like(v) for k, v in p.items()}
    return lambda x, t: floor_step(p, adam, x, t)


# -- ours ---------------------------------------------------------------------------------
def build_ours(w):
    import framework as fw

    c = {k: v.copy() for k, v in w.items()}
    net = fw.Sequential(
        [
            fw.Convolution(c["W1"], c["b1"]),
            fw.Relu(),
            fw.layers.PoolingWindowLoop(2, 2, stride=2),  # as framework.models.simple_cnn
            fw.Affine(c["W2"], c["b2"]),
            fw.Relu(),
            fw.Affine(c["W3"], c["b3"]),
        ]
    )
    opt = fw.Adam(lr=LR)

    def step(x, t):
        grads = net.gradient(x, t)
        opt.update(net.params, grads)
        return net.loss_layer.loss

    return step


# -- the book's Convolution and Pooling (common/util.py, common/layers.py), transcribed -----
def book_im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w), dtype=input_data.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def book_col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=col.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
    return img[:, :, pad : H + pad, pad : W + pad]


class BookConvolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)
        col = book_im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        self.x, self.col, self.col_W = x, col, col_W
        return out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = np.dot(dout, self.col_W.T)
        return book_col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class BookPooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)
        col = book_im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.x, self.arg_max = x, np.argmax(col, axis=1)
        return np.max(col, axis=1).reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return book_col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


def build_book(w):
    c = {k: v.copy() for k, v in w.items()}
    layers = [
        BookConvolution(c["W1"], c["b1"]),
        BookRelu(),
        BookPooling(2, 2, stride=2),
        BookAffine(c["W2"], c["b2"]),
        BookRelu(),
        BookAffine(c["W3"], c["b3"]),
    ]
    last = BookSoftmaxWithLoss()
    params = [(layers[i], name) for i in (0, 3, 5) for name in ("W", "b")]
    m = [np.zeros_like(getattr(layer, n)) for layer, n in params]
    v = [np.zeros_like(getattr(layer, n)) for layer, n in params]
    state = {"t": 0}

    def step(x, t):
        for layer in layers:
            x = layer.forward(x)
        loss = last.forward(x, t)
        dout = last.backward(1)
        for layer in reversed(layers):
            dout = layer.backward(dout)
        state["t"] += 1  # the book's Adam
        lr_t = LR * np.sqrt(1.0 - BETA2 ** state["t"]) / (1.0 - BETA1 ** state["t"])
        for i, (layer, n) in enumerate(params):
            g, p = getattr(layer, "d" + n), getattr(layer, n)
            m[i] += (1 - BETA1) * (g - m[i])
            v[i] += (1 - BETA2) * (g**2 - v[i])
            p -= lr_t * m[i] / (np.sqrt(v[i]) + EPS)
        return float(loss)

    return step


# -- DeZero and PyTorch ---------------------------------------------------------------------
def build_dezero(w):
    dezero = import_dezero()
    import dezero.functions as F
    import dezero.layers as L

    class SimpleCNN(dezero.Model):
        def __init__(self):
            super().__init__()
            self.conv = L.Conv2d(C_OUT, K, in_channels=1)
            self.l1 = L.Linear(HIDDEN, in_size=C_OUT * 12 * 12)
            self.l2 = L.Linear(CLASSES, in_size=HIDDEN)

        def forward(self, x):
            x = F.pooling(F.relu(self.conv(x)), 2, 2)
            x = F.relu(self.l1(F.reshape(x, (x.shape[0], -1))))
            return self.l2(x)

    model = SimpleCNN()
    for param, key in [(model.conv.W, "W1"), (model.conv.b, "b1"), (model.l1.W, "W2"),
                       (model.l1.b, "b2"), (model.l2.W, "W3"), (model.l2.b, "b3")]:  # fmt: skip
        param.data = w[key].copy()
    opt = dezero.optimizers.Adam(alpha=LR, eps=EPS).setup(model)

    def step(x, t):
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        return float(loss.data)

    return step


def build_torch(w):
    import torch

    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, C_OUT, K),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2, 2),
        torch.nn.Flatten(),
        torch.nn.Linear(C_OUT * 12 * 12, HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, CLASSES),
    )
    with torch.no_grad():
        for mod, Wk, bk, transpose in [(net[0], "W1", "b1", False), (net[4], "W2", "b2", True),
                                       (net[6], "W3", "b3", True)]:  # fmt: skip
            mod.weight.copy_(torch.from_numpy(w[Wk].T.copy() if transpose else w[Wk]))
            mod.bias.copy_(torch.from_numpy(w[bk]))
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    def step(x, t):
        # The book's eps (added to sqrt(v) before the bias correction), as in bench_mlp.
        state = opt.state[next(net.parameters())]
        t_next = int(state["step"]) + 1 if state else 1
        opt.param_groups[0]["eps"] = EPS / math.sqrt(1.0 - BETA2**t_next)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), t)
        loss.backward()
        opt.step()
        return loss.item()

    return step


BUILDERS = {
    "floor": build_floor,
    "ours": build_ours,
    "book": build_book,
    "dezero": build_dezero,
    "torch": build_torch,
}


def time_all(impls, threads, x, t, weights, args):
    """Check that the losses agree, then time every implementation; return (table, ok, ratios)."""
    data = {name: prepare(name, x, t) for name in impls}
    steps = {name: BUILDERS[name](weights) for name in impls}
    k = args.steps or (2 if args.quick else 10)
    n_check = 2 if args.quick else CHECK_STEPS
    with limit_threads(threads):
        losses = {name: run_steps(steps[name], *data[name], N_BATCH, 0, n_check) for name in impls}
        cursor = dict.fromkeys(impls, n_check)

        def block(name):
            run_steps(steps[name], *data[name], N_BATCH, cursor[name], k)
            cursor[name] += k

        fns = {name: (lambda name=name: block(name)) for name in impls}
        res = time_interleaved(fns, repeats=args.repeats, warmup=1)
    ref = np.array(losses[impls[0]])
    floor_ms = res[impls[0]]["median"] / k * 1e3
    rows, ok, ratios = [], True, {}
    for name in impls:
        ms = res[name]["median"] / k * 1e3
        diff = float(np.max(np.abs(np.array(losses[name]) - ref) / np.abs(ref)))
        ok &= diff <= LOSS_RTOL
        ratios[name] = ms / floor_ms
        rows.append(
            [
                name,
                f"{ms:.1f}",
                f"{res[name]['min'] / k * 1e3:.1f}-{res[name]['max'] / k * 1e3:.1f}",
                f"{ratios[name]:.2f}",
                f"{losses[name][-1]:.6f}",
                f"{diff:.1e}" + ("" if diff <= LOSS_RTOL else "  MISMATCH"),
            ]
        )
    header = ["implementation", "ms/step", "min-max", "x floor",
              f"loss@{n_check}", "rel diff"]  # fmt: skip
    return format_table(rows, header), ok, ratios


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a few steps only (smoke test)")
    p.add_argument("--threads", choices=["1", "default", "both"], default="both")
    p.add_argument(
        "--impls", type=names_arg(IMPLS), default=",".join(IMPLS), help="comma-separated subset"
    )
    p.add_argument("--steps", type=count_arg, default=0, help="steps per timed block")
    p.add_argument("--repeats", type=count_arg, default=0, help="timed blocks per implementation")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    args.repeats = args.repeats or (2 if args.quick else 7)
    impls = available(["floor"] + [n for n in args.impls if n in IMPLS[1:]])
    threads = {"1": [1], "default": [None], "both": [1, None]}[args.threads]
    rng = np.random.default_rng(args.seed)
    n = N_BATCH * (4 if args.quick else 50)
    x, t, source = load_data(n, rng, image_shape=(1, 28, 28))
    weights = init_weights(rng)
    title = (f"simple CNN (conv 30x5x5, pool 2, affine 100, affine 10), batch {N_BATCH}, "
             f"Adam lr {LR}, float32, {source} data")  # fmt: skip
    ok = True
    for n_threads in threads:
        table, good, ratios = time_all(impls, n_threads, x, t, weights, args)
        ok &= good
        label = "1 thread" if n_threads == 1 else "default threads"
        print(f"\n{title} -- {label}\n{table}")
        if "ours" in ratios:
            verdict = "met" if ratios["ours"] <= GOAL else "NOT met"
            print(f"goal ours <= {GOAL}x floor: {ratios['ours']:.2f}x, {verdict}")
            for other in ("book", "dezero"):
                if other in ratios:
                    print(f"ours is {ratios[other] / ratios['ours']:.2f}x faster than {other}")
    print("\n" + "\n".join(machine_report()))
    if not ok:
        print(f"\nERROR: some implementation did not reach the floor's losses (rtol {LOSS_RTOL})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
