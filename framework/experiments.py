"""Experiments of the book's chapter 6: optimizers compared, activations per layer.

These run nets and return numbers; the pictures of their results are drawn by
``framework.plot`` (``plot_optimizer_comparison``, ``plot_activation_histograms``)
and the training step is the ``Trainer``'s.

* ``compare_optimizers`` trains copies of one net with several optimizers on the
  same mini-batches (Figure 6-9, ``ch06/optimizer_compare_mnist.py``).
* ``activation_experiment`` pushes random inputs through a deep net whose weights
  have a given scale (section 6.2, ``ch06/weight_init_activation_histogram.py``);
  ``layer_outputs`` collects the output of each activation layer of a net.

The old import paths ``framework.trainer.compare_optimizers`` and
``framework.plot.{compare_optimizers, activation_experiment, layer_outputs}``
give the same functions.
"""

from __future__ import annotations

import copy

import numpy as np

from .batches import _as_rng, _check_count, _check_pair, minibatches
from .models import mlp
from .net import accepts_keyword
from .trainer import Trainer

__all__ = ["compare_optimizers", "activation_experiment", "layer_outputs"]


def compare_optimizers(
    net, optimizers: dict, x, t, iters: int = 200, batch_size: int = 128, rng=None
) -> dict:
    """Train a copy of ``net`` with each optimizer on the same mini-batches; return the losses.

    Every copy starts from the same weights (``net`` itself is left untouched) and
    sees the same sequence of batches (epochs of ``minibatches``, as many as
    ``iters`` needs), so the curves differ only by the update rule (the book's
    Figure 6-9 experiment, ``ch06/optimizer_compare_mnist.py``).

    Parameters
    ----------
    net : Sequential
    optimizers : dict
        Name -> optimizer, e.g. ``{"SGD": SGD(0.01), "Adam": Adam()}``.
    x, t : arrays
        Training data.
    iters, batch_size : int
    rng : numpy.random.Generator or int, optional
        Draws the batches; NumPy's global state when omitted.

    Returns
    -------
    dict
        Name -> list of ``iters`` training losses.
    """
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError(
            "compare_optimizers: expected optimizers as a dict of name -> optimizer, e.g. "
            f'{{"SGD": SGD(0.01), "Adam": Adam()}}, got {type(optimizers).__name__} {optimizers!r}'
        )
    _check_pair("compare_optimizers", "", x, t)
    _check_count("compare_optimizers", "iters", iters, minimum=1)
    _check_count("compare_optimizers", "batch_size", batch_size, minimum=1)
    rng = _as_rng("compare_optimizers", rng)
    draw = np.random if rng is None else rng
    seed = int(draw.integers(2**31) if hasattr(draw, "integers") else draw.randint(2**31))
    losses = {}
    for name, opt in optimizers.items():
        trainer = Trainer(
            copy.deepcopy(net), x, t, mini_batch_size=batch_size, optimizer=opt, verbose=False
        )
        order = np.random.default_rng(seed)  # the same batches for every optimizer
        losses[name] = []
        while len(losses[name]) < iters:
            for xb, tb in minibatches(x, t, batch_size, order):
                losses[name].append(trainer.step(xb, tb))
                if len(losses[name]) == iters:
                    break
    return losses


def layer_outputs(net, x, kinds=("Relu", "Sigmoid", "Tanh")) -> dict:
    """Run ``net`` on ``x`` in test mode; return ``{"<index> <Layer>": output}`` for ``kinds``.

    A fast twin counts as the layer it stands in for (its class derives from it):
    the ``PoolingWindowLoop`` of ``simple_cnn`` is found, and named, as "Pooling"
    unless ``kinds`` names the twin itself.
    """
    outs = {}
    for i, layer in enumerate(net.layers):
        takes_train = accepts_keyword(layer.forward, "train")
        x = layer.forward(x, train=False) if takes_train else layer.forward(x)
        kind = next((c.__name__ for c in type(layer).__mro__ if c.__name__ in kinds), None)
        if kind is not None:
            outs[f"{i} {kind}"] = x
    return outs


def activation_experiment(init, activation="sigmoid", layers=5, width=100, samples=1000, rng=None):
    """Run the book's weight-initialisation experiment (section 6.2); return the activations.

    ``samples`` random inputs (standard normal, ``width`` features) go through
    ``layers`` blocks of ``Affine(width, width) -> activation`` whose weights have
    the scale ``init``: 1 and 0.01 make sigmoid outputs pile up at 0 and 1 or at
    0.5, Xavier (sigmoid, tanh) and He (ReLU) keep them spread.

    ``init`` is "he", "xavier" or a standard deviation; ``activation`` one of
    "sigmoid", "tanh", "relu".  Returns ``{"layer 1 (sigmoid)": activations, ...}``
    (each of shape (samples, width)), numbered from the input, for
    ``framework.plot.plot_activation_histograms``, whose panels take these names as titles.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    net = mlp(width, (width,) * layers, width, activation, init, rng, "float64")
    outs = layer_outputs(net, rng.standard_normal((samples, width)))
    return {f"layer {k} ({activation})": a for k, a in enumerate(outs.values(), start=1)}
