"""Trainer: the training loop of the book's chapter 6, with a progress bar and a history.

``Trainer`` takes the book's call (``common/trainer.py``)::

    trainer = Trainer(network, x_train, t_train, x_test, t_test,
                      epochs=20, mini_batch_size=100,
                      optimizer="SGD", optimizer_param={"lr": 0.01},
                      evaluate_sample_num_per_epoch=None, verbose=True)
    trainer.train()
    trainer.train_loss_list, trainer.train_acc_list, trainer.test_acc_list

and drives three kinds of net: our ``Sequential``, the book's own network classes
(``loss(x, t)``, ``gradient(x, t)`` returning a dict, a ``params`` dict,
``accuracy(x, t)``) and autograd models (``framework.autograd.Model``: called on
``x``, trained with ``F.softmax_cross_entropy``, ``backward`` and
``optimizer.update()`` after ``optimizer.setup(model)``).

``minibatches``, the one mini-batch iterator of the package (one epoch, every
sample once, in shuffled order), lives in ``framework.batches`` and is
re-exported here.  (``compare_optimizers``, the book's Figure 6-9
experiment, lives in ``framework.experiments``; its old name here still works.)
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from .batches import _as_rng, _check_count, _check_pair, minibatches
from .net import accepts_keyword, batch_mover, class_indices
from .optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop

__all__ = ["Trainer", "minibatches", "OPTIMIZERS"]

#: The book's optimizer names (``optimizer="Adam"`` is looked up in lower case).
OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}

HISTORY_KEYS = ("loss", "epoch_loss", "train_acc", "test_acc", "time")


class Trainer:
    """Train a net with mini-batch gradient descent and record what happens.

    Parameters
    ----------
    network : Sequential, a book-style network, or an autograd Model
        What the net offers is looked at once, here: a ``Sequential`` (its
        ``loss`` takes ``train``) is run forward and backward once per batch; a
        book network (``loss(x, t)`` and ``gradient(x, t)`` returning a dict like
        ``params``) gets ``loss`` then ``gradient``, as in the book; an autograd
        model (callable, ``params()`` and ``cleargrads()``) is trained with
        ``F.softmax_cross_entropy`` and ``optimizer.update()``.
    x_train : array, shape (N, ...)
    t_train : array, shape (N,) integer labels or (N, C) one-hot rows
    x_test, t_test : arrays, optional
        Held-out samples, scored after every epoch (pass both or neither).
    epochs : int, default 20
        Passes over the training set.
    mini_batch_size : int, default 100
        Samples per gradient step.
    optimizer : str or optimizer object, default ``"SGD"``
        A name of the book (``"sgd"``, ``"momentum"``, ``"nesterov"``,
        ``"adagrad"``, ``"rmsprop"``, ``"adam"``, in any case) built with
        ``optimizer_param``, or a ready optimizer such as ``Adam(lr=0.001)``
        (then leave ``optimizer_param`` out).
    optimizer_param : dict, optional
        Keyword arguments of the named optimizer; the book's default is
        ``{"lr": 0.01}``, used when this is None.
    evaluate_sample_num_per_epoch : int, optional
        Score accuracy on only the first this-many samples of each set, to save
        time; None scores them all.
    verbose : bool, default True
        Report progress: a bar plus one line per epoch on a terminal or in a
        notebook, one line per epoch otherwise (a log file gets no
        carriage-return updates).  False prints nothing.
    rng : numpy.random.Generator, RandomState or int, keyword-only, optional
        Draws the order of the samples.  Without one, NumPy's global state:
        ``np.random.seed(0)`` makes a run repeatable, as in the book.
    progress : bool, keyword-only, optional
        Force the progress bar on (True) or off (False); None decides as above.

    Attributes
    ----------
    history : dict of lists
        ``"loss"`` per iteration; ``"epoch_loss"`` (the mean of the epoch's losses),
        ``"train_acc"``, ``"test_acc"`` (empty without test data) and ``"time"``
        (seconds since ``train`` started) per finished epoch.
    train_loss_list, train_acc_list, test_acc_list : list
        The book's names for ``history["loss"]``, ``history["train_acc"]`` and
        ``history["test_acc"]`` (the same list objects).
    optimizer : Optimizer
        The optimizer in use (built from the name, or the one given).
    interrupted : bool
        True when the last ``train`` was stopped by Ctrl-C (KeyboardInterrupt).

    Notes
    -----
    Where we differ from the book's ``Trainer``, and why:

    * Sampling.  The book draws every mini-batch on its own with
      ``np.random.choice(N, batch_size)`` (with replacement), so in one "epoch"
      some samples come twice and about a third never; and it counts epochs with
      a float ``N / batch_size``, so for ``N = 250``, ``batch_size = 100`` it
      scores only every second epoch.  We shuffle once per epoch and visit every
      sample exactly once (``minibatches``; DeZero's ``DataLoader`` does the same):
      ``ceil(N / batch_size)`` steps per epoch, one score per epoch, always.
      When ``N`` is a multiple of the batch size the number of steps and the
      length of every list are the book's.
    * When accuracy is scored.  The book scores at the first step of each epoch
      (its first entry follows one step, and the last epoch's training is never
      scored); we score at the end of each epoch.
    * Which loss is recorded.  The book records ``network.loss`` after the
      update; we record the loss of the forward pass that gave the gradient (no
      extra forward pass for a ``Sequential``), for every kind of net alike.
    * ``verbose`` shows a progress bar, not one "train loss" line per iteration.
    """

    def __init__(
        self,
        network,
        x_train,
        t_train,
        x_test=None,
        t_test=None,
        epochs: int = 20,
        mini_batch_size: int = 100,
        optimizer="SGD",
        optimizer_param: dict | None = None,
        evaluate_sample_num_per_epoch: int | None = None,
        verbose: bool = True,
        *,
        rng=None,
        progress: bool | None = None,
    ):
        _check_pair("Trainer", "_train", x_train, t_train)
        if (x_test is None) != (t_test is None):
            raise ValueError("Trainer: pass both x_test and t_test, or neither")
        if x_test is not None:
            _check_pair("Trainer", "_test", x_test, t_test)
        _check_count("Trainer", "epochs", epochs, minimum=0)
        _check_count("Trainer", "mini_batch_size", mini_batch_size, minimum=1)
        if evaluate_sample_num_per_epoch is not None:
            _check_count(
                "Trainer", "evaluate_sample_num_per_epoch", evaluate_sample_num_per_epoch, 1
            )
        if x_test is not None and x_test.shape[1:] != x_train.shape[1:]:
            raise ValueError(
                f"Trainer: x_test samples have shape {x_test.shape[1:]} but x_train samples "
                f"have shape {x_train.shape[1:]}; expected the same kind of samples"
            )
        self.network = network
        self.kind = _net_kind(network)
        self.optimizer = _make_optimizer(optimizer, optimizer_param)
        if self.kind == "autograd":
            self.optimizer.setup(network)
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self._check_targets()
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.verbose = verbose
        self.progress = progress
        self.rng = _as_rng("Trainer", rng)
        self.train_size = len(x_train)
        self.iter_per_epoch = math.ceil(self.train_size / mini_batch_size)
        self.max_iter = epochs * self.iter_per_epoch
        self.current_iter = 0
        self.current_epoch = 0
        self.interrupted = False
        self._start = None
        self._reset_history()

    def _check_targets(self) -> None:
        """Refuse negative integer labels in either set, before any training.

        (A bad test label would otherwise surface only after the first epoch's
        training.  Labels too large for the net are found by the loss layer at
        the first step, and by ``accuracy`` for the test set.)
        """
        for name, t in (("t_train", self.t_train), ("t_test", self.t_test)):
            if t is not None and getattr(t.dtype, "kind", "") == "i" and int(t.min()) < 0:
                raise ValueError(
                    f"Trainer: {name} holds the label {int(t.min())}; expected class "
                    "indices 0, 1, ..., C-1 (or one-hot rows)"
                )

    def _reset_history(self) -> None:
        self.history = {key: [] for key in HISTORY_KEYS}
        self.train_loss_list = self.history["loss"]
        self.train_acc_list = self.history["train_acc"]
        self.test_acc_list = self.history["test_acc"]

    def train(self) -> dict:
        """Run ``epochs`` epochs; return ``history`` (also kept as an attribute).

        Ctrl-C stops training cleanly: the bar closes and ``history`` keeps every
        iteration and every finished epoch recorded so far; ``interrupted`` is set.

        Raises
        ------
        FloatingPointError
            When the loss becomes NaN or infinite; the message says at which epoch
            and iteration.
        """
        self._reset_history()
        self.interrupted = False
        self.current_iter = self.current_epoch = 0
        bar = self._progress_bar()
        self._start = time.perf_counter()
        try:
            for epoch in range(1, self.epochs + 1):
                self.current_epoch = epoch
                losses = self._train_epoch(epoch, bar)
                self._end_epoch(epoch, losses, bar)
        except KeyboardInterrupt:
            self.interrupted = True
            self._say(
                bar,
                f"interrupted after {len(self.history['loss'])} iterations; "
                "history keeps what was recorded",
            )
        finally:
            if bar is not None:
                bar.close()
        return self.history

    def _train_epoch(self, epoch: int, bar) -> list:
        """One pass over the shuffled training set; return the losses of its batches."""
        # Only each mini-batch is copied to the GPU when the net lives there; a net
        # without a ``device`` attribute gets its batches as they are.
        move = batch_mover(self.x_train, getattr(self.network, "device", None))
        batches = minibatches(self.x_train, self.t_train, self.batch_size, self.rng)
        losses = []
        for it, (x, t) in enumerate(batches, start=1):
            try:
                loss = self.step(move(x), move(t))
            except FloatingPointError as err:
                raise FloatingPointError(f"{self._where(epoch, it)}: {err}") from err
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"{self._where(epoch, it)}: the loss is {loss}; lower the learning rate, "
                    "or look for NaN or infinite values in the data"
                )
            losses.append(loss)
            self.history["loss"].append(loss)
            self.current_iter += 1
            if bar is not None and (it % 10 == 0 or it == self.iter_per_epoch):
                bar.set_postfix_str(self._postfix(epoch, np.mean(losses[-10:])), refresh=False)
                bar.update(self.current_iter - bar.n)
        return losses

    def _where(self, epoch: int, it: int) -> str:
        return f"Trainer.train: epoch {epoch}, iteration {it} (of {self.iter_per_epoch})"

    def step(self, x, t) -> float:
        """One gradient step on a mini-batch; return its loss (before the update)."""
        net = self.network
        if self.kind == "sequential":
            # net.gradient(x, t) split in two so the loss is at hand with no second forward.
            loss = net.loss(x, t, train=True)
            net.backward()
            self.optimizer.update(net.params, net.grads)
        elif self.kind == "book":
            loss = net.loss(x, t)
            self.optimizer.update(net.params, net.gradient(x, t))
        else:
            from .autograd import functions as F

            loss = F.softmax_cross_entropy(net(x), t)
            net.cleargrads()
            loss.backward()
            self.optimizer.update()
            loss = loss.data
        return float(loss)

    def _end_epoch(self, epoch: int, losses: list, bar) -> None:
        """Record the epoch's mean loss, the accuracies and the time.

        All values are measured first and appended together, so an interruption
        never leaves the per-epoch lists of different lengths.
        """
        record = {"epoch_loss": float(np.mean(losses)) if losses else math.nan}
        record["train_acc"] = self.accuracy(self.x_train, self.t_train)
        if self.x_test is not None:
            record["test_acc"] = self.accuracy(self.x_test, self.t_test)
        record["time"] = time.perf_counter() - self._start
        for key, value in record.items():
            self.history[key].append(value)
        test = f", test acc {record['test_acc']:.4f}" if "test_acc" in record else ""
        self._say(
            bar,
            f"epoch {epoch}/{self.epochs}: loss {record['epoch_loss']:.4f}, "
            f"train acc {record['train_acc']:.4f}{test} ({record['time']:.1f} s)",
        )

    def _say(self, bar, line: str) -> None:
        """Print ``line`` above the bar, or on its own when there is no bar."""
        if bar is not None:
            bar.write(line)
        elif self.verbose:
            print(line, flush=True)

    def _postfix(self, epoch: int, loss: float) -> str:
        """Return the bar's text: epoch, recent loss, accuracy of the last finished epoch."""
        h = self.history
        accs = h["test_acc"] or h["train_acc"]
        acc = f", {'test' if h['test_acc'] else 'train'} acc {accs[-1]:.4f}" if accs else ""
        return f"epoch {epoch}, loss {loss:.4f}{acc}"

    def accuracy(self, x, t) -> float:
        """Accuracy of the net on ``(x, t)`` (the first ``evaluate_sample_num_per_epoch``)."""
        if self.evaluate_sample_num_per_epoch is not None:
            x, t = x[: self.evaluate_sample_num_per_epoch], t[: self.evaluate_sample_num_per_epoch]
        if self.kind != "autograd":
            return float(self.network.accuracy(x, t))
        return _model_accuracy(self.network, x, t)

    def _progress_bar(self):
        """Return a tqdm bar over all iterations, or None (not verbose, or not interactive)."""
        show = self.progress if self.progress is not None else _interactive()
        if not (self.verbose and show):
            return None
        from tqdm.auto import tqdm

        return tqdm(total=self.max_iter, unit="batch", leave=True)


def _model_accuracy(model, x, t, batch_size: int = 1000) -> float:
    """Accuracy of an autograd model, in test mode with no graph, ``batch_size`` at a time."""
    from .autograd import no_grad, test_mode

    correct = 0
    with no_grad(), test_mode():
        for i in range(0, len(x), batch_size):
            y = model(x[i : i + batch_size]).data
            labels = class_indices(t[i : i + batch_size], y.shape, "Trainer.accuracy")
            correct += int((y.argmax(axis=1) == labels).sum())
    return correct / len(x)


def _net_kind(network) -> str:
    """Look once at what ``network`` offers: "sequential", "book" or "autograd"."""
    params = getattr(network, "params", None)
    if callable(params) and hasattr(network, "cleargrads") and callable(network):
        return "autograd"
    loss = getattr(network, "loss", None)
    if callable(loss) and hasattr(network, "backward") and hasattr(network, "grads"):
        if accepts_keyword(loss, "train"):
            return "sequential"
    if (
        callable(loss)
        and callable(getattr(network, "gradient", None))
        and isinstance(params, dict)
    ):
        return "book"
    raise TypeError(
        f"Trainer: cannot train a {type(network).__name__}; expected a Sequential, a "
        "network with loss(x, t), gradient(x, t) -> dict, a params dict and accuracy(x, t) "
        "(as in the book), or an autograd Model"
    )


def _make_optimizer(optimizer, optimizer_param):
    """Build the optimizer from the book's name and parameters, or check the given one."""
    if isinstance(optimizer, str):
        cls = OPTIMIZERS.get(optimizer.lower())
        if cls is None:
            raise ValueError(
                f"Trainer: unknown optimizer {optimizer!r}; expected one of {sorted(OPTIMIZERS)}"
                " (any case) or an optimizer object such as Adam(lr=0.001)"
            )
        param = {"lr": 0.01} if optimizer_param is None else dict(optimizer_param)
        try:
            return cls(**param)
        except TypeError as err:
            takes = ", ".join(_keywords(cls))
            raise TypeError(
                f"Trainer: optimizer_param {param} does not fit {cls.__name__}: {err}; "
                f"expected keywords of {cls.__name__}({takes})"
            ) from err
    if isinstance(optimizer, type):
        raise TypeError(
            f"Trainer: optimizer is the class {optimizer.__name__}; expected an instance, "
            f"e.g. {optimizer.__name__}(lr=0.01), or a name such as {optimizer.__name__!r}"
        )
    if not callable(getattr(optimizer, "update", None)):
        raise TypeError(
            f"Trainer: expected optimizer to be a name such as 'Adam' or an object with "
            f"update(params, grads), got {type(optimizer).__name__}"
        )
    if optimizer_param:
        raise ValueError(
            f"Trainer: optimizer_param {optimizer_param} is for an optimizer given by name; "
            f"this {type(optimizer).__name__} object is already built, so leave it out"
        )
    return optimizer


def _keywords(cls) -> list:
    """Names of the keyword arguments ``cls(...)`` takes, for messages."""
    import inspect

    params = inspect.signature(cls).parameters.values()
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _interactive() -> bool:
    """Return True in a notebook, or when both stdout and stderr are terminals."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if getattr(shell, "kernel", None) is not None:
        return True
    streams = (sys.stdout, sys.stderr)
    return all(getattr(s, "isatty", None) is not None and s.isatty() for s in streams)


def __getattr__(name: str):
    """Serve the old name ``framework.trainer.compare_optimizers`` (PEP 562).

    The experiment moved to ``framework.experiments``, which imports this module;
    importing it back only when the old name is asked for keeps the two free of
    an import cycle.
    """
    if name == "compare_optimizers":
        from .experiments import compare_optimizers

        return compare_optimizers
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
