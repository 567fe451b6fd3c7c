"""Trainer: the training loop of the book's chapter 6, with a progress bar and a history.

One epoch shuffles the training set with a seeded generator and visits every
sample exactly once, ``batch_size`` at a time (the last batch may be shorter).
For each mini-batch: the loss and gradients by backprop, then one optimizer step.
After each epoch the accuracy on the training and test sets is measured.
Everything is recorded in ``history``, a dict of lists ready for
``framework.plot.plot_history``.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .backend import device_of, get_array_module, to_device

__all__ = ["Trainer"]

HISTORY_KEYS = ("loss", "epoch_loss", "train_acc", "test_acc", "time")


class Trainer:
    """Train a net with mini-batch gradient descent and record what happens.

    Parameters
    ----------
    net : Sequential
        Anything with ``loss(x, t, train=True)``, ``backward()``, ``grads``,
        ``params`` and ``accuracy(x, t)``.
    optimizer : Optimizer
        ``update(params, grads)`` changes the parameters in place.
    x_train : array, shape (N, ...)
    t_train : array, shape (N,) integer labels or (N, C) one-hot rows
    x_test, t_test : arrays, optional
        Held-out samples, scored after every epoch.
    epochs : int
        Passes over the training set.
    batch_size : int
        Samples per gradient step.
    rng : numpy.random.Generator or int, optional
        Generator (or seed) for the shuffling; ``default_rng(0)`` when omitted,
        so two runs give the same losses.
    eval_sample : int, optional
        Score accuracy on at most this many samples of each set (the first ones),
        to save time; None scores them all.
    verbose : bool
        Show a progress bar and one line per epoch; False prints nothing.

    Attributes
    ----------
    history : dict of lists
        ``"loss"`` per iteration; ``"epoch_loss"`` (the mean of the epoch's losses),
        ``"train_acc"``, ``"test_acc"`` (empty without test data) and ``"time"``
        (seconds since ``train`` started) per finished epoch.
    interrupted : bool
        True when the last ``train`` was stopped by Ctrl-C (KeyboardInterrupt).
    """

    def __init__(
        self,
        net,
        optimizer,
        x_train,
        t_train,
        x_test=None,
        t_test=None,
        *,
        epochs: int = 10,
        batch_size: int = 100,
        rng=None,
        eval_sample: int | None = None,
        verbose: bool = True,
    ):
        _check_pair("train", x_train, t_train)
        if (x_test is None) != (t_test is None):
            raise ValueError("Trainer: pass both x_test and t_test, or neither")
        if x_test is not None:
            _check_pair("test", x_test, t_test)
        _check_count("epochs", epochs, minimum=0)
        _check_count("batch_size", batch_size, minimum=1)
        if eval_sample is not None:
            _check_count("eval_sample", eval_sample, minimum=1)
        if rng is None or isinstance(rng, (int, np.integer)):
            rng = np.random.default_rng(0 if rng is None else int(rng))
        elif not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"Trainer: expected rng to be a numpy.random.Generator or an int seed, "
                f"got {type(rng).__name__}; use np.random.default_rng(seed)"
            )
        self.net = net
        self.optimizer = optimizer
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.epochs = epochs
        self.batch_size = batch_size
        self.rng = rng
        self.eval_sample = eval_sample
        self.verbose = verbose
        self.iters_per_epoch = math.ceil(len(x_train) / batch_size)
        self.history = {key: [] for key in HISTORY_KEYS}
        self.interrupted = False
        self._start = None

    def train(self) -> dict:
        """Run ``epochs`` epochs; return ``history`` (also kept as an attribute).

        Ctrl-C stops training cleanly: the bar closes and ``history`` keeps every
        iteration and every finished epoch recorded so far.

        Raises
        ------
        FloatingPointError
            When the loss becomes NaN or infinite; the message says at which epoch
            and iteration.
        """
        self.history = {key: [] for key in HISTORY_KEYS}
        self.interrupted = False
        bar = self._progress_bar()
        self._start = time.perf_counter()
        try:
            for epoch in range(1, self.epochs + 1):
                losses = self._train_epoch(epoch, bar)
                self._end_epoch(epoch, losses, bar)
        except KeyboardInterrupt:
            self.interrupted = True
            if bar is not None:
                bar.write(
                    f"interrupted after {len(self.history['loss'])} iterations; "
                    "history keeps what was recorded"
                )
        finally:
            if bar is not None:
                bar.close()
        return self.history

    def _train_epoch(self, epoch: int, bar) -> list:
        """One pass over the shuffled training set; return the losses of its batches."""
        xp = get_array_module(self.x_train)
        order = xp.asarray(self.rng.permutation(len(self.x_train)))
        move = self._batch_mover()
        losses = []
        for it in range(1, self.iters_per_epoch + 1):
            idx = order[(it - 1) * self.batch_size : it * self.batch_size]
            try:
                loss = self.step(move(self.x_train[idx]), move(self.t_train[idx]))
            except FloatingPointError as err:
                raise FloatingPointError(
                    f"Trainer.train: epoch {epoch}, iteration {it} "
                    f"(of {self.iters_per_epoch}): {err}"
                ) from err
            losses.append(loss)
            self.history["loss"].append(loss)
            if bar is not None and (it % 10 == 0 or it == self.iters_per_epoch):
                bar.set_postfix_str(self._postfix(epoch, np.mean(losses[-10:])), refresh=False)
                bar.update((epoch - 1) * self.iters_per_epoch + it - bar.n)
        return losses

    def _batch_mover(self):
        """Return a function that puts a mini-batch where the net's weights are.

        The data set stays where it is (usually NumPy, in host memory); only each
        mini-batch is copied to the GPU when the net lives there.
        """
        device = getattr(self.net, "device", "cpu")
        if device_of(self.x_train) == device:
            return lambda a: a
        return lambda a: to_device(a, device)

    def step(self, x, t) -> float:
        """One gradient step on a mini-batch; return its loss.

        ``net.gradient(x, t)`` split in its two halves (forward with the loss, then
        backward) so that the loss value is at hand without a second forward pass.
        """
        loss = self.net.loss(x, t, train=True)
        self.net.backward()
        self.optimizer.update(self.net.params, self.net.grads)
        return float(loss)

    def _end_epoch(self, epoch: int, losses: list, bar) -> None:
        """Record the epoch's mean loss, the accuracies and the time.

        All values are measured first and appended together, so an interruption
        never leaves the per-epoch lists of different lengths.
        """
        record = {"epoch_loss": float(np.mean(losses))}
        record["train_acc"] = self.accuracy(self.x_train, self.t_train)
        if self.x_test is not None:
            record["test_acc"] = self.accuracy(self.x_test, self.t_test)
        record["time"] = time.perf_counter() - self._start
        for key, value in record.items():
            self.history[key].append(value)
        if bar is not None:
            test = f", test acc {record['test_acc']:.4f}" if "test_acc" in record else ""
            bar.write(
                f"epoch {epoch}/{self.epochs}: loss {record['epoch_loss']:.4f}, "
                f"train acc {record['train_acc']:.4f}{test} ({record['time']:.1f} s)"
            )

    def _postfix(self, epoch: int, loss: float) -> str:
        """Return the bar's text: epoch, recent loss, accuracy of the last finished epoch."""
        h = self.history
        accs = h["test_acc"] or h["train_acc"]
        acc = f", {'test' if h['test_acc'] else 'train'} acc {accs[-1]:.4f}" if accs else ""
        return f"epoch {epoch}, loss {loss:.4f}{acc}"

    def accuracy(self, x, t) -> float:
        """Accuracy of the net on ``(x, t)``, on the first ``eval_sample`` samples if set."""
        if self.eval_sample is not None:
            x, t = x[: self.eval_sample], t[: self.eval_sample]
        return float(self.net.accuracy(x, t))

    def _progress_bar(self):
        """Return a tqdm bar over all iterations, or None when not verbose."""
        if not self.verbose:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=self.epochs * self.iters_per_epoch, unit="batch", leave=True)


def _check_pair(name: str, x, t) -> None:
    """Raise unless ``x`` and ``t`` are arrays holding the same number of samples."""
    for label, a in ((f"x_{name}", x), (f"t_{name}", t)):
        if getattr(a, "ndim", 0) < 1:
            raise TypeError(
                f"Trainer: expected {label} to be an array with one row per sample, "
                f"got {type(a).__name__}"
            )
    if len(x) != len(t):
        raise ValueError(
            f"Trainer: x_{name} has {len(x)} samples but t_{name} has {len(t)}; "
            "they must hold the same samples"
        )
    if len(x) == 0:
        raise ValueError(f"Trainer: x_{name} holds no samples")


def _check_count(name: str, value, minimum: int) -> None:
    """Raise unless ``value`` is an integer of at least ``minimum``."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"Trainer: expected {name} to be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"Trainer: expected {name} >= {minimum}, got {value}")
