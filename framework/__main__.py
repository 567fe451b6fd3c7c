"""Command line: ``python -m framework shop`` and ``python -m framework train``.

``shop``   the book's apple-and-orange shopping example (chapter 5): a forward
           and a backward pass through MulLayer and AddLayer, printed as tables.
``train``  trains a ready-made net (``framework.models.MODELS``) on Fashion-MNIST
           with a progress bar, then writes the weights and the learning curves.

Run ``python -m framework --help`` or ``python -m framework train --help``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys

import numpy as np

from . import optimizers
from .backend import default_device, require_cupy
from .layers import AddLayer, MulLayer
from .models import MODELS

__all__ = ["OPTIMIZERS", "main", "shop", "train"]

#: Optimizer classes by command-line name, each with the learning rate it starts from.
OPTIMIZERS = {
    "sgd": (optimizers.SGD, 0.1),
    "momentum": (optimizers.Momentum, 0.01),
    "nesterov": (optimizers.Nesterov, 0.01),
    "adagrad": (optimizers.AdaGrad, 0.01),
    "rmsprop": (optimizers.RMSprop, 0.001),
    "adam": (optimizers.Adam, 0.001),
}


def _number(v: float) -> str:
    """Format a float the way a person writes it: 715, 2.2 (not 715.0000000000001)."""
    return f"{v:.10g}"


def _table(title: str, rows) -> None:
    """Print a titled two-column table of (name, value, note) rows."""
    print(title)
    for name, value, note in rows:
        print(f"  {name:<12}  {_number(value):>5}   {note}".rstrip())
    print()


def shop(
    apple: float = 100,
    apple_num: int = 2,
    orange: float = 150,
    orange_num: int = 3,
    tax: float = 1.1,
) -> dict:
    """Print the book's shopping example, forward then backward; return the gradients.

    Every argument must be a real number (``"100"`` would be repeated, not multiplied).

    forward: ``price = (apple * apple_num + orange * orange_num) * tax``.
    backward from ``dprice = 1``: each MulLayer swaps its inputs
    (``dx = dout * y``, ``dy = dout * x``), the AddLayer passes ``dout`` to both sides.
    """
    given = {"apple": apple, "apple_num": apple_num, "orange": orange}
    for name, value in {**given, "orange_num": orange_num, "tax": tax}.items():
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
            raise TypeError(f"shop: expected {name} to be a number, got {type(value).__name__}")
    mul_apple, mul_orange, add_fruit, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    apple_price = mul_apple.forward(apple, apple_num)
    orange_price = mul_orange.forward(orange, orange_num)
    all_price = add_fruit.forward(apple_price, orange_price)
    price = mul_tax.forward(all_price, tax)
    _table(
        "Forward pass (MulLayer, AddLayer)",
        [
            ("apple price", apple_price, f"= {apple} x {apple_num} apples"),
            ("orange price", orange_price, f"= {orange} x {orange_num} oranges"),
            ("all fruit", all_price, f"= {apple_price} + {orange_price}"),
            ("price", price, f"= {all_price} x tax {tax}"),
        ],
    )

    dprice = 1
    dall_price, dtax = mul_tax.backward(dprice)
    dapple_price, dorange_price = add_fruit.backward(dall_price)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    grads = {
        "dApple": dapple,
        "dApple_num": dapple_num,
        "dOrange": dorange,
        "dOrange_num": dorange_num,
        "dTax": dtax,
    }
    _table(
        "Backward pass (from dprice = 1): how much the price moves per unit",
        [
            ("dApple", dapple, f"= dprice x tax x apple_num = {tax} x {apple_num}"),
            ("dApple_num", dapple_num, f"= dprice x tax x apple = {tax} x {apple}"),
            ("dOrange", dorange, f"= dprice x tax x orange_num = {tax} x {orange_num}"),
            ("dOrange_num", dorange_num, f"= dprice x tax x orange = {tax} x {orange}"),
            ("dTax", dtax, f"= dprice x all fruit = {all_price}"),
        ],
    )
    print(f"(values rounded for printing: in floating point the price is {price!r})")
    return grads


def train(args: argparse.Namespace) -> int:
    """Train ``args.model`` on Fashion-MNIST; write weights, curves and history to ``args.out``.

    Everything that can be checked is checked before the data is loaded: the
    options (by the parser), the output folder (a writable folder, created if
    missing) and the data folder.  The net is saved before it is evaluated, so
    Ctrl-C during training (which stops it) or during the evaluation never loses
    it.  Returns 0, 130 after Ctrl-C, 1 when training diverged or saving
    failed, 2 for a bad option.
    """
    from .trainer import Trainer

    for name, choices in (("model", MODELS), ("optimizer", OPTIMIZERS)):
        if getattr(args, name) not in choices:
            raise ValueError(
                f"train: unknown {name} {getattr(args, name)!r}; expected one of {sorted(choices)}"
            )
    builder = MODELS[args.model]
    options = {}
    if args.hidden:  # mlp takes hidden_sizes; the CNNs one hidden_size
        takes = inspect.signature(builder).parameters
        if "hidden_sizes" in takes:
            options = {"hidden_sizes": tuple(args.hidden)}
        elif "hidden_size" in takes and len(args.hidden) == 1:
            options = {"hidden_size": args.hidden[0]}
        else:
            print(f"error: --hidden does not apply to --model {args.model}", file=sys.stderr)
            return 2
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        print(f"error: --data-dir {args.data_dir}: no such folder", file=sys.stderr)
        return 2
    out = args.out or os.path.join("runs", args.model)
    problem = _unwritable(out)
    if problem:
        print(f"error: --out {out}: {problem}", file=sys.stderr)
        return 2
    try:
        device = default_device() if not args.gpu else (require_cupy() and "gpu")
    except (RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    try:
        (x_train, t_train), (x_test, t_test) = _load_data(args)
    except (ValueError, OSError) as err:
        print(f"error: could not load Fashion-MNIST: {err}", file=sys.stderr)
        return 1
    rng = np.random.default_rng(args.seed)
    net = builder(rng=rng, **options)
    if device == "gpu":
        net.to_gpu()  # only the weights move; the Trainer copies each mini-batch over
    lr = OPTIMIZERS[args.optimizer][1] if args.lr is None else args.lr
    print(
        f"model: {args.model}, optimizer: {args.optimizer} (lr {lr}), "
        f"epochs: {args.epochs}, batch size: {args.batch_size}, device: {device}"
    )
    if not args.quiet:
        net.summary(x_train.shape[1:])
    trainer = Trainer(
        net,
        x_train,
        t_train,
        x_test,
        t_test,
        epochs=args.epochs,
        mini_batch_size=args.batch_size,
        optimizer=args.optimizer,
        optimizer_param={"lr": lr},
        verbose=not args.quiet,
        rng=rng,
    )
    if args.weight_decay:
        trainer.optimizer.add_hook(optimizers.WeightDecay(args.weight_decay))
    try:
        history = trainer.train()
    except FloatingPointError as err:
        print(f"error: training diverged: {err}", file=sys.stderr)
        return 1
    if trainer.interrupted:
        print("interrupted: saving the net as trained so far")
    try:
        _save_run(net, history, out)
    except OSError as err:
        print(f"error: could not save the run in {out}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"interrupted while saving; every file already in {out} is complete "
            "(each is written whole or not at all)"
        )
        return 130
    try:
        print(
            f"train accuracy {net.accuracy(x_train, t_train):.4f}, "
            f"test accuracy {net.accuracy(x_test, t_test):.4f}"
        )
    except KeyboardInterrupt:
        print(f"interrupted during the evaluation; the net is saved in {out}")
        return 130
    return 130 if trainer.interrupted else 0


def _unwritable(out: str) -> str | None:
    """Return why ``out`` cannot take the run's files (creating it if missing), or None."""
    import tempfile

    if os.path.exists(out) and not os.path.isdir(out):
        return "is a file, not a folder; pick a folder for weights.npz, curves.png, history.json"
    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        return f"cannot write there ({err.strerror or err}); pick a writable folder"
    return None


def _load_data(args: argparse.Namespace):
    """Load Fashion-MNIST (the full set if found, else the bundled sample) and say which."""
    from .datasets import load_fashion_mnist

    # Images stay (N, 1, 28, 28): an Affine flattens them itself, and a CNN needs them so.
    (x_train, t_train), (x_test, t_test) = load_fashion_mnist(
        flatten=False, data_dir=args.data_dir, sample=args.sample, verbose=not args.quiet
    )
    full = len(x_train) >= 60000 and not args.sample
    print(
        f"data: {'full Fashion-MNIST' if full else 'bundled Fashion-MNIST sample'}, "
        f"{len(x_train)} training and {len(x_test)} test images"
    )
    return (x_train, t_train), (x_test, t_test)


def _save_run(net, history: dict, out: str) -> None:
    """Write ``weights.npz``, ``history.json``, ``curves.png`` (and a CNN's ``filters.png``).

    The weights come first, as the most precious; every file is written
    atomically (a temporary file, then ``os.replace``), so an error or Ctrl-C
    never leaves a half-written file and keeps any older one.
    """
    from .plot import plot_filters, plot_history, write_atomically

    os.makedirs(out, exist_ok=True)
    weights, log, curves, filters = (
        os.path.join(out, n) for n in ("weights.npz", "history.json", "curves.png", "filters.png")
    )
    net.save(weights)
    text = json.dumps(history).encode()
    write_atomically(log, lambda f: f.write(text))
    plot_history(history, curves)
    print(f"weights  {weights}\nhistory  {log}\ncurves   {curves}")
    if type(net.layers[0]).__name__ == "Convolution":  # a CNN: show what its filters learned
        plot_filters(net.layers[0], path=filters)
        print(f"filters  {filters}")


def _int_at_least(low: int, what: str):
    """Return an argparse type: a whole number >= ``low`` (``what`` names it in errors)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_seed = _int_at_least(0, "an integer >= 0 (what numpy.random.default_rng takes)")


def _rate(zero_allowed: bool):
    """Return a parser of a finite number above 0 (or at least 0 if ``zero_allowed``)."""
    bound = ">= 0" if zero_allowed else "> 0"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (math.isfinite(value) and (value >= 0 if zero_allowed else value > 0)):
            raise argparse.ArgumentTypeError(f"expected a finite number {bound}, got {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``python -m framework``."""
    parser = argparse.ArgumentParser(
        prog="python -m framework",
        description="A small deep-learning framework to learn deep learning with.",
        epilog="Example: python -m framework train --epochs 3 --optimizer sgd --lr 0.1",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser(
        "shop",
        help="the apple-and-orange shopping example: backprop through MulLayer and AddLayer",
        description="Forward and backward pass of the book's chapter 5 shopping example.",
    )
    p = sub.add_parser(
        "train",
        help="train a net on Fashion-MNIST and save its weights and learning curves",
        description="Train a ready-made net on Fashion-MNIST (the full set when it is "
        "available, else the bundled sample) and save weights.npz, curves.png and "
        "history.json to the output folder.",
    )
    p.add_argument(
        "--model",
        choices=sorted(MODELS),
        default="mlp",
        help="which net: mlp, cnn (the book's simple CNN) or deep_cnn (its chapter-8 net) "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--epochs",
        type=_positive_int,
        default=10,
        help="passes over the data (default: %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=_positive_int,
        default=100,
        help="samples per step (default: %(default)s)",
    )
    p.add_argument(
        "--optimizer",
        choices=list(OPTIMIZERS),
        default="adam",
        help="update rule (default: %(default)s)",
    )
    p.add_argument(
        "--lr",
        type=_rate(zero_allowed=False),
        default=None,
        help="learning rate (default: 0.1 for sgd, 0.001 for adam and rmsprop, 0.01 otherwise)",
    )
    p.add_argument(
        "--hidden",
        type=_positive_int,
        nargs="+",
        default=None,
        metavar="SIZE",
        help="hidden layer sizes of the mlp (default: 100), or the one hidden size of cnn "
        "(100) and deep_cnn (50)",
    )
    p.add_argument(
        "--weight-decay",
        type=_rate(zero_allowed=True),
        default=0.0,
        metavar="RATE",
        help="L2 weight decay: adds RATE * W to every gradient (default: %(default)s)",
    )
    p.add_argument("--out", default=None, help="output folder (default: runs/<model>)")
    p.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="seed of weights and shuffling (default: %(default)s)",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="folder with the Fashion-MNIST files (default: the standard places)",
    )
    p.add_argument("--sample", action="store_true", help="use the small bundled sample")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument(
        "--gpu",
        action="store_true",
        help="train on the GPU with CuPy (default: $FRAMEWORK_DEVICE, else the CPU)",
    )
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (``sys.argv[1:]`` when None); return the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "shop":
        shop()
        return 0
    try:
        return train(args)
    except KeyboardInterrupt:  # before training (loading the data): nothing to keep
        print("interrupted before training; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
