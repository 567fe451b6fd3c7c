"""Layers of the book's chapter 6 that behave differently in training and in testing.

``Dropout`` and ``BatchNormalization`` take ``forward(x, train=True)``; a
``Sequential`` passes ``train=True`` while it trains and ``train=False`` in
``predict`` and ``accuracy``.

dtypes: ``BatchNormalization`` computes in the dtype of ``gamma`` (an ``x`` or
``dout`` of another float dtype is cast once at the door); ``Dropout`` keeps its
input's dtype.  Integer input is refused with a ``TypeError``.
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ._checks import check_float, checked_dout, checked_input

__all__ = ["Dropout", "BatchNormalization"]


class Dropout:
    """Drop a random fraction ``ratio`` of the units while training (inverted dropout).

    train: ``mask = uniform(0, 1) >= ratio``; ``out = x * mask / (1 - ratio)``;
    backward ``dx = dout * mask / (1 - ratio)``.

    test: ``out = x`` and ``dx = dout``.  Scaling the kept units by
    ``1 / (1 - ratio)`` while training keeps the expected output unchanged, so
    testing needs no correction (the book instead multiplies by ``1 - ratio`` at
    test time; both give the same expected value).

    Parameters
    ----------
    ratio : float in [0, 1)
        Fraction of units set to zero.
    rng : numpy.random.Generator, optional
        Source of the masks.  Without it the masks come from NumPy's global state,
        drawn as the book draws them (``np.random.rand(*x.shape) > ratio``), so  # noqa: NPY002
        ``np.random.seed(0)`` repeats a run.  # noqa: NPY002 (the global state, on purpose)
    """

    def __init__(self, ratio: float = 0.5, rng=None):
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f"Dropout: expected ratio in [0, 1), got {ratio}")
        self.ratio = float(ratio)
        self.rng = rng
        self.mask = None  # True where a unit is kept; None after a test-mode forward
        self.out_shape = None

    def forward(self, x, train: bool = True):
        x = checked_input(self, x)
        self.out_shape = x.shape
        if not train:
            self.mask = None
            return x
        xp = get_array_module(x)
        # Masks come from NumPy (one seed for CPU and GPU runs alike).
        if self.rng is None:
            keep = np.random.rand(*x.shape) > self.ratio  # noqa: NPY002
        else:
            keep = self.rng.random(x.shape, dtype=np.float32) >= self.ratio
        self.mask = xp.asarray(keep)
        return x * self.mask * (1.0 / (1.0 - self.ratio))

    def backward(self, dout):
        dout = checked_dout(self, dout, self.out_shape, self.out_shape)
        if self.mask is None:
            return dout
        return dout * self.mask * (1.0 / (1.0 - self.ratio))


class BatchNormalization:
    """Normalise each feature over the batch, then scale by ``gamma`` and shift by ``beta``.

    On (N, D) input each of the D features is normalised over the N samples; on
    (N, C, H, W) input each channel over all N * H * W pixels (like PyTorch's
    ``BatchNorm2d``).  With ``m`` values per feature:

    train: ``mu = mean(x)``, ``var = mean((x - mu)**2)``, ``xn = (x - mu) / sqrt(var + eps)``,
    ``out = gamma * xn + beta``; the running statistics follow
    ``running_mean = momentum * running_mean + (1 - momentum) * mu`` and
    ``running_var = momentum * running_var + (1 - momentum) * var * m / (m - 1)``.

    The running variance takes the unbiased estimate ``var * m / (m - 1)`` (``m / 1``
    for a batch of one), with ``eps = 2e-5`` and ``momentum = 0.9``: the convention
    of DeZero's ``F.batch_norm``, Chainer and PyTorch, shared with
    :func:`framework.autograd.functions.batch_norm` so the two worlds agree.  The
    reason: test mode divides by the variance of the whole population, which the
    unbiased estimate approaches.  Book 1 stores the biased ``var`` and uses
    ``eps = 1e-6``; in train mode the two conventions differ by at most ~1e-5
    relative (only ``eps`` enters the train-mode output).

    test: the same with ``running_mean`` and ``running_var`` in place of ``mu`` and ``var``.

    backward (train): ``dbeta = sum(dout)``, ``dgamma = sum(dout * xn)``, and with
    ``dxn = dout * gamma``: ``dx = (dxn - mean(dxn) - xn * mean(dxn * xn)) / std``
    (the book's chain of steps through ``mu`` and ``var``, summed up).
    backward (test): ``dx = dxn / std``, since the statistics are constants then.

    A batch of one sample trains too (as in the book's gradient check): its variance
    is 0, so ``xn = 0`` and the output is ``beta``, finite thanks to ``eps``.
    Each backward binds new ``dgamma`` and ``dbeta`` arrays, as the book does.

    Parameters
    ----------
    gamma : array of shape (D,) or (C,), or int D
        Scale; from an int, ones of that length.
    beta : array like ``gamma``, optional
        Shift; zeros when omitted.
    momentum : float
        Weight of the old value in the running statistics (the book's 0.9).
    running_mean, running_var : array like ``gamma``, optional
        Start values, zeros and ones by default.  Saved and loaded with the net
        (through ``state``).
    eps : float > 0, default 2e-5
        Added to the variance so that it never divides by zero (DeZero's 2e-5; the
        book's 1e-6).
    dtype : dtype, default float32
        Only when ``gamma`` is an int.
    """

    def __init__(
        self,
        gamma,
        beta=None,
        momentum: float = 0.9,
        running_mean=None,
        running_var=None,
        *,
        eps: float = 2e-5,
        dtype="float32",
    ):
        if isinstance(gamma, (int, np.integer)):
            gamma = np.ones(int(gamma), dtype=dtype)
        check_float(self, "gamma", gamma)
        xp = get_array_module(gamma)
        beta = xp.zeros_like(gamma) if beta is None else beta
        running_mean = xp.zeros_like(gamma) if running_mean is None else running_mean
        running_var = xp.ones_like(gamma) if running_var is None else running_var
        given = {"beta": beta, "running_mean": running_mean, "running_var": running_var}
        for name, a in given.items():
            if (
                gamma.ndim != 1
                or getattr(a, "shape", None) != gamma.shape
                or a.dtype != gamma.dtype
            ):
                raise ValueError(
                    f"BatchNormalization: expected gamma of shape (D,) and {name} of the same "
                    f"shape and dtype, got gamma {gamma.shape} {gamma.dtype} and {name} "
                    f"{getattr(a, 'shape', None)} {getattr(a, 'dtype', type(a).__name__)}"
                )
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization: expected momentum in [0, 1], got {momentum}")
        if not eps > 0:
            raise ValueError(
                f"BatchNormalization: expected eps > 0 (it keeps the division finite), got {eps}"
            )
        self.gamma = gamma
        self.beta = beta
        self.momentum = float(momentum)
        self.running_mean = running_mean
        self.running_var = running_var
        self.eps = float(eps)
        self.dgamma = xp.zeros_like(gamma)
        self.dbeta = xp.zeros_like(gamma)
        self.xn = None  # normalised input, shape of x
        self.std = None  # sqrt(var + eps), broadcastable to x
        self.train = None  # mode of the last forward

    @property
    def params(self) -> dict:
        """Parameters by name; the very arrays ``gamma`` and ``beta``."""
        return {"gamma": self.gamma, "beta": self.beta}

    @property
    def grads(self) -> dict:
        """Gradients by name; the very arrays ``dgamma`` and ``dbeta``."""
        return {"gamma": self.dgamma, "beta": self.dbeta}

    @property
    def state(self) -> dict:
        """Running statistics, saved and loaded with the net; the very arrays."""
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def _axes(self, x):
        """Axes to average over and the shape that lines ``gamma`` up with ``x``."""
        D = self.gamma.shape[0]
        if getattr(x, "ndim", 0) == 2 and x.shape[1] == D:
            return (0,), (1, D)
        if getattr(x, "ndim", 0) == 4 and x.shape[1] == D:
            return (0, 2, 3), (1, D, 1, 1)
        raise ValueError(
            f"BatchNormalization.forward: expected x of shape (N, {D}) or (N, {D}, H, W) "
            f"(gamma has {D} entries), got {getattr(x, 'shape', type(x).__name__)}"
        )

    def forward(self, x, train: bool = True):
        axes, shape = self._axes(x)
        x = checked_input(self, x, self.gamma)  # also refuses an empty batch
        if train:
            mu = x.mean(axis=axes, keepdims=True)
            xc = x - mu
            var = (xc**2).mean(axis=axes, keepdims=True)
            self._update_running(mu, var, m=x.size // self.gamma.size)
        else:
            xc = x - self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
        self.std = get_array_module(x).sqrt(var + self.eps)
        self.xn = xc / self.std
        self.train = bool(train)
        return self.gamma.reshape(shape) * self.xn + self.beta.reshape(shape)

    def backward(self, dout):
        shape = getattr(self.xn, "shape", None)
        dout = checked_dout(self, dout, self.xn, shape, self.gamma)
        axes, shape = self._axes(dout)
        self.dbeta = dout.sum(axis=axes)
        self.dgamma = (dout * self.xn).sum(axis=axes)
        dxn = dout * self.gamma.reshape(shape)
        if not self.train:
            return dxn / self.std
        mean_dxn = dxn.mean(axis=axes, keepdims=True)
        mean_dxn_xn = (dxn * self.xn).mean(axis=axes, keepdims=True)
        return (dxn - mean_dxn - self.xn * mean_dxn_xn) / self.std

    def _update_running(self, mu, var, m: int) -> None:
        """Update the running statistics: ``momentum * running + (1 - momentum) * batch``."""
        unbiased = var.reshape(-1) * (m / max(m - 1, 1))
        self.running_mean *= self.momentum
        self.running_mean += (1.0 - self.momentum) * mu.reshape(-1)
        self.running_var *= self.momentum
        self.running_var += (1.0 - self.momentum) * unbiased
