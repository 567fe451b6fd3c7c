"""Training-step speed of the book's simple CNN, as ratios to a bare-NumPy floor.

The net: conv 30x5x5 - relu - max-pool 2x2 - affine 100 - relu - affine 10 -
softmax cross-entropy, one Adam step (lr 0.001) per batch of 100 Fashion-MNIST-sized
images, float32.  Every implementation starts from the same weights and sees the
same batches; the first-step losses are compared before any timing.

* ``floor``: one bare-NumPy function (im2col via ``sliding_window_view``, 2x2
  max-pool by reshape, no input gradient for the conv).  The speed to match.
* ``framework``: ``Sequential`` of our hand-written layers + our ``Adam``.
* ``book``: the book's ``common/layers.py`` conv and pooling (im2col/col2im
  with Python loops over the kernel, pooling through im2col + argmax), transcribed.
* ``dezero``: DeZero 0.0.13 (``Conv2d``, ``F.pooling``, ``Linear``, its ``Adam``).
* ``torch-1`` / ``torch-N``: PyTorch CPU with one thread and with its default.

Run: ``python benchmarks/bench_cnn.py [--steps 10] [--repeats 5] [--only floor,framework]``.
Times are the best of ``repeats`` rounds (the machine may be shared), and the
implementations take turns within each round.
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

N_BATCH, C_OUT, K, HIDDEN, CLASSES = 100, 30, 5, 100, 10
LR, BETA1, BETA2, EPS = 0.001, 0.9, 0.999, 1e-7


def make_weights(rng):
    """He-initialised float32 weights shared by every implementation."""

    def he(shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    return {
        "W1": he((C_OUT, 1, K, K), K * K),
        "b1": np.zeros(C_OUT, np.float32),
        "W2": he((C_OUT * 12 * 12, HIDDEN), C_OUT * 12 * 12),
        "b2": np.zeros(HIDDEN, np.float32),
        "W3": he((HIDDEN, CLASSES), HIDDEN),
        "b3": np.zeros(CLASSES, np.float32),
    }


def make_batches(rng, count, batch):
    return [
        (rng.random((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, CLASSES, batch))
        for _ in range(count)
    ]


# -- the floor: one bare-NumPy function ---------------------------------------------------
def floor_step(p, adam, x, t):
    """One forward/backward/Adam step of the simple CNN; returns the loss."""
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
    y = e / e.sum(axis=1, keepdims=True)
    loss = -float(np.log(y[np.arange(N), t] + 1e-7).mean())
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


def setup_floor(w):
    p = {k: v.copy() for k, v in w.items()}
    adam = {"t": 0, "m": {k: np.zeros_like(v) for k, v in p.items()}}
    adam["v"] = {k: np.zeros_like(v) for k, v in p.items()}
    return lambda x, t: floor_step(p, adam, x, t)


# -- ours ---------------------------------------------------------------------------------
def setup_framework(w):
    from framework import Adam, Affine, Convolution, Pooling, Relu, Sequential

    c = {k: v.copy() for k, v in w.items()}
    net = Sequential(
        [
            Convolution(c["W1"], c["b1"]),
            Relu(),
            Pooling(2, 2, stride=2),
            Affine(c["W2"], c["b2"]),
            Relu(),
            Affine(c["W3"], c["b3"]),
        ]
    )
    opt = Adam(lr=LR)

    def step(x, t):
        grads = net.gradient(x, t)
        loss = net.loss_layer.loss
        opt.update(net.params, grads)
        return loss

    return step


# -- the book's layers (common/util.py, common/layers.py), transcribed ---------------------
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


class BookRelu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class BookAffine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW, self.db = np.dot(self.x.T, dout), np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


def setup_book(w):
    c = {k: v.copy() for k, v in w.items()}
    layers = [
        BookConvolution(c["W1"], c["b1"]),
        BookRelu(),
        BookPooling(2, 2, stride=2),
        BookAffine(c["W2"], c["b2"]),
        BookRelu(),
        BookAffine(c["W3"], c["b3"]),
    ]
    params = [(layers[i], name) for i in (0, 3, 5) for name in ("W", "b")]
    m = [np.zeros_like(getattr(layer, n)) for layer, n in params]
    v = [np.zeros_like(getattr(layer, n)) for layer, n in params]
    state = {"t": 0}

    def step(x, t):
        for layer in layers:
            x = layer.forward(x)
        N = x.shape[0]
        s = x - x.max(axis=1, keepdims=True)
        y = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        loss = -float(np.sum(np.log(y[np.arange(N), t] + 1e-7)) / N)
        dout = y.copy()
        dout[np.arange(N), t] -= 1
        dout = dout / N
        for layer in reversed(layers):
            dout = layer.backward(dout)
        state["t"] += 1  # the book's Adam
        lr_t = LR * np.sqrt(1.0 - BETA2 ** state["t"]) / (1.0 - BETA1 ** state["t"])
        for i, (layer, n) in enumerate(params):
            g, p = getattr(layer, "d" + n), getattr(layer, n)
            m[i] += (1 - BETA1) * (g - m[i])
            v[i] += (1 - BETA2) * (g**2 - v[i])
            p -= lr_t * m[i] / (np.sqrt(v[i]) + EPS)
        return loss

    return step


# -- DeZero and PyTorch ---------------------------------------------------------------------
def setup_dezero(w):
    np.int = int  # noqa: NPY001  (DeZero 0.0.13 uses np.int, gone since NumPy 1.24)
    import dezero
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


def setup_torch(w, threads):
    import torch

    def step_factory():
        torch.set_num_threads(threads)
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
            net[0].weight.copy_(torch.from_numpy(w["W1"]))
            net[0].bias.copy_(torch.from_numpy(w["b1"]))
            net[4].weight.copy_(torch.from_numpy(w["W2"].T))
            net[4].bias.copy_(torch.from_numpy(w["b2"]))
            net[6].weight.copy_(torch.from_numpy(w["W3"].T))
            net[6].bias.copy_(torch.from_numpy(w["b3"]))
        opt = torch.optim.Adam(net.parameters(), lr=LR, eps=EPS)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step(x, t):
            torch.set_num_threads(threads)  # the rows share one process
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(torch.from_numpy(x)), torch.from_numpy(t))
            loss.backward()
            opt.step()
            return loss.item()

        return step

    return step_factory()


def default_torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=N_BATCH)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per round")
    parser.add_argument("--repeats", type=int, default=5, help="rounds; the best is kept")
    parser.add_argument("--only", default="", help="comma-separated subset of rows")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    weights = make_weights(rng)
    batches = make_batches(rng, args.steps, args.batch)
    setups = {"floor": setup_floor, "framework": setup_framework, "book": setup_book}
    if importlib.util.find_spec("dezero") is not None:
        setups["dezero"] = setup_dezero
    else:
        print("dezero not installed: row skipped")
    try:
        n_default = default_torch_threads()
        setups["torch-1"] = lambda w: setup_torch(w, 1)
        setups[f"torch-{n_default}"] = lambda w: setup_torch(w, n_default)
    except ImportError:
        print("torch not installed: rows skipped")
    if args.only:
        setups = {k: v for k, v in setups.items() if k in args.only.split(",")}

    steps = {name: make(weights) for name, make in setups.items()}
    # Same weights, same first batch: the first losses must agree.
    first = {name: step(*batches[0]) for name, step in steps.items()}
    ref = next(iter(first.values()))
    for name, loss in first.items():
        flag = "" if abs(loss - ref) < 1e-3 * max(1.0, abs(ref)) else "  <-- MISMATCH"
        print(f"first-step loss {name:10s} {loss:.6f}{flag}")

    best = {name: float("inf") for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            for x, t in batches:
                step(x, t)
            best[name] = min(best[name], (time.perf_counter() - start) / len(batches))

    base = best.get("floor", next(iter(best.values())))
    print(f"\nsimple CNN, batch {args.batch}, Adam, float32: best of {args.repeats} x "
          f"{args.steps} steps")  # fmt: skip
    print(f"{'implementation':15s} {'ms/step':>9s} {'vs floor':>9s}")
    for name, sec in best.items():
        print(f"{name:15s} {sec * 1e3:9.1f} {sec / base:8.2f}x")
    return best


if __name__ == "__main__":
    main()
