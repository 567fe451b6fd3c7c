"""Autograd training step against the hand-written layer Sequential, same net, same batches.

Usage::

    python benchmarks/bench_autograd.py [--quick] [--threads N]

One training step (forward, backward, optimizer update) in float32, timed for
each implementation in the same run, interleaved (``_common.time_interleaved``):

* ``layers``    ``framework.Sequential([Affine, Relu, Affine])`` + ``SoftmaxWithLoss``,
                ``opt.update(net.params, net.gradient(x, t))``: the reference, ratio 1;
* ``autograd``  ``framework.autograd``: ``Model`` of ``Linear`` + ``F.relu``, loss
                ``F.softmax_cross_entropy``, ``cleargrads`` / ``backward`` / ``opt.update()``;
* ``bridge``    the same autograd model inside a ``Sequential`` as one ``FunctionLayer``;
* ``dezero``    DeZero 0.0.13's ``MLP`` and optimizer, for context (when importable).

All start from the same weights; before timing, each trains a few steps and must
reach the losses of ``layers``.  The goal for ``autograd`` at 784-100-10, batch
100, is at most 1.3x the time of ``layers`` (issue 10; it was 1.5x when the autograd
engine first landed).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _common import format_table, limit_threads, machine_report, positive_arg, time_interleaved

import framework.autograd.functions as F
from framework import SGD, Adam, Affine, Relu, Sequential
from framework.autograd import Model
from framework.autograd.layers import Linear
from framework.layers import FunctionLayer

SETTINGS = [
    ("MLP 784-100-10, batch 100, SGD", (784, 100, 10), 100, "sgd"),
    ("MLP 784-100-10, batch 100, Adam", (784, 100, 10), 100, "adam"),
    ("MLP 784-50-10, batch 100, SGD (book ch05)", (784, 50, 10), 100, "sgd"),
    ("MLP 784-1000-1000-10, batch 256, Adam", (784, 1000, 1000, 10), 256, "adam"),
]
CHECK_STEPS = 5
LOSS_RTOL = 1e-4  # float32 rounding over a few steps


def make_optimizer(kind):
    return SGD(lr=0.1) if kind == "sgd" else Adam(lr=1e-3)


def initial_weights(sizes, rng):
    out = []
    for d_in, d_out in zip(sizes[:-1], sizes[1:], strict=True):
        W = (rng.standard_normal((d_in, d_out)) * np.sqrt(2.0 / d_in)).astype(np.float32)
        out.append((W, np.zeros(d_out, np.float32)))
    return out


class AutogradMLP(Model):
    def __init__(self, weights):
        super().__init__()
        self.layers = []
        for i, (W, b) in enumerate(weights):
            layer = Linear(W.shape[1], in_size=W.shape[0])
            layer.W.data[...], layer.b.data[...] = W, b
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


def build_layers(weights, kind):
    layers = []
    for W, b in weights:
        layers += [Affine(W.copy(), b.copy()), Relu()]
    net = Sequential(layers[:-1])
    opt = make_optimizer(kind)

    def step(x, t):
        grads = net.gradient(x, t)
        opt.update(net.params, grads)
        return net.loss_layer.loss

    return step


def build_autograd(weights, kind):
    model = AutogradMLP(weights)
    opt = make_optimizer(kind).setup(model)

    def step(x, t):
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        return float(loss.data)

    return step


def build_bridge(weights, kind):
    net = Sequential([FunctionLayer(AutogradMLP(weights))])
    opt = make_optimizer(kind)

    def step(x, t):
        grads = net.gradient(x, t)
        opt.update(net.params, grads)
        return net.loss_layer.loss

    return step


def build_dezero(weights, kind):
    np.int = int  # noqa: NPY001 (DeZero 0.0.13 still uses np.int, gone since NumPy 1.24)
    import dezero.functions as DF
    import dezero.optimizers as DO
    from dezero.models import MLP

    model = MLP([W.shape[1] for W, _ in weights], activation=DF.relu)
    for layer, (W, b) in zip(model.layers, weights, strict=True):
        layer.W.data, layer.b.data = W.copy(), b.copy()
    opt = (DO.SGD(lr=0.1) if kind == "sgd" else DO.Adam(alpha=1e-3, eps=1e-7)).setup(model)

    def step(x, t):
        loss = DF.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        return float(loss.data)

    return step


BUILDERS = {
    "layers": build_layers,
    "autograd": build_autograd,
    "bridge": build_bridge,
    "dezero": build_dezero,
}


def run_setting(label, sizes, batch, kind, steps_per_call, repeats, rng):
    weights = initial_weights(sizes, rng)
    n = batch * 20
    x_all = rng.random((n, sizes[0]), dtype=np.float32)
    t_all = rng.integers(0, sizes[-1], n)
    batches = [(x_all[i : i + batch], t_all[i : i + batch]) for i in range(0, n, batch)]

    steps, notes = {}, []
    for name, build in BUILDERS.items():
        try:
            steps[name] = build(weights, kind)
        except ImportError as err:
            notes.append(f"{name} skipped: {err}")
    # Same weights, same batches: the first steps must give the same losses.
    reference = [steps["layers"](*batches[i]) for i in range(CHECK_STEPS)]
    for name in [k for k in steps if k != "layers"]:
        losses = [steps[name](*batches[i]) for i in range(CHECK_STEPS)]
        if not np.allclose(losses, reference, rtol=LOSS_RTOL, atol=0):
            sys.exit(f"{label}: {name} losses {losses} differ from layers {reference}")

    def timed(step):
        def run():
            for i in range(steps_per_call):
                step(*batches[i % len(batches)])

        return run

    result = time_interleaved({k: timed(s) for k, s in steps.items()}, repeats=repeats)
    base = result["layers"]["median"]
    rows = [
        [label, name, f"{1e3 * r['median'] / steps_per_call:.3f}", f"{r['median'] / base:.2f}"]
        for name, r in result.items()
    ]
    return rows, notes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="first two settings, fewer repeats")
    parser.add_argument("--threads", type=positive_arg, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args(argv)

    print("\n".join(machine_report()))
    settings = SETTINGS[:2] if args.quick else SETTINGS
    rng = np.random.default_rng(0)
    rows, notes = [], []
    with limit_threads(args.threads):
        for label, sizes, batch, kind in settings:
            big = max(sizes) > 500 and len(sizes) > 3
            r, n = run_setting(
                label,
                sizes,
                batch,
                kind,
                steps_per_call=5 if big else 20,
                repeats=5 if args.quick else 9,
                rng=rng,
            )
            rows += r
            notes += n
    print()
    print(format_table(rows, ["setting", "implementation", "ms/step", "x layers"]))
    for note in dict.fromkeys(notes):
        print(note)
    goal = [r for r in rows if r[0].startswith("MLP 784-100-10") and r[1] == "autograd"]
    verdicts = [f"{r[0].split(', ')[-1]} {r[3]}x" for r in goal]
    print("goal: autograd at most 1.3x layers at 784-100-10, batch 100: " + ", ".join(verdicts))


if __name__ == "__main__":
    main()
