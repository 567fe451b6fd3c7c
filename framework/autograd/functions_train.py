"""Functions that behave differently when training: dropout and batch normalization.

Beside them, as in DeZero, ``embed_id`` (a row look-up).

``dropout`` and ``batch_norm`` read ``Config.train``; wrap evaluation in
``with test_mode():``.
"""

from __future__ import annotations

from .. import backend
from .core import Config, Function, Variable, as_variable
from .functions_tensor import get_item

__all__ = ["dropout", "batch_norm", "batch_nrom", "embed_id", "BatchNorm"]


def dropout(x, dropout_ratio: float = 0.5, rng=None) -> Variable:
    """Inverted dropout: zero each element with probability ``dropout_ratio``.

    Training: ``mask = rand(x.shape) > dropout_ratio`` and
    ``y = x * mask / (1 - dropout_ratio)``, so the expected value of ``y`` is
    ``x``; the backward ``gx = gy * mask / (1 - dropout_ratio)`` follows from
    ``mul`` and ``div``.  Test mode: ``y = x``.

    Parameters
    ----------
    x : Variable or array
    dropout_ratio : float in [0, 1)
    rng : numpy.random.Generator, optional
        Draws the mask (on the host).  Without it the mask comes from the global
        state of ``x``'s array module (``np.random.rand``, as in DeZero), so
        ``np.random.seed(0)`` repeats the same mask.
    """
    x = as_variable(x)
    if not 0.0 <= dropout_ratio < 1.0:
        raise ValueError(f"dropout: expected dropout_ratio in [0, 1), got {dropout_ratio}")
    if not Config.train:
        return x
    xp = backend.get_array_module(x)
    draws = xp.random.rand(*x.shape) if rng is None else xp.asarray(rng.random(x.shape))
    mask = (draws > dropout_ratio).astype(x.dtype)
    scale = xp.asarray(1.0 - dropout_ratio, dtype=x.dtype)
    return x * mask / scale


def _rows(a):
    """(N, C, H, W) -> (N*H*W, C) so every channel is a column; 2-D stays."""
    return a if a.ndim == 2 else a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])


def _unrows(a, shape):
    """Inverse of ``_rows`` for an array or a Variable."""
    if len(shape) == 2:
        return a
    N, C, H, W = shape
    return a.reshape(N, H, W, C).transpose(0, 3, 1, 2)


class BatchNorm(Function):
    """Batch normalization per feature (per channel for images).

    forward: ``xc = (x - mean) / sqrt(var + eps)``, ``y = gamma * xc + beta``,
    with the batch mean and variance when training (the running ``mean``/``var``
    arrays are then updated in place: ``m = decay m + (1 - decay) batch_mean``),
    and the running ones in test mode.
    backward (training, ``M`` rows): ``gbeta = sum(gy)``, ``ggamma = sum(xc gy)``,
    ``gx = gamma / sqrt(var + eps) * (gy - gbeta / M - xc * ggamma / M)``.
    In test mode the statistics are constants and ``gx = gamma / sqrt(var + eps) gy``.
    ``xc`` is kept as a constant, so this backward is exact to first order only.
    """

    def __init__(self, mean, var, decay, eps):
        self.avg_mean = mean
        self.avg_var = var
        self.decay = decay
        self.eps = eps

    def forward(self, x, gamma, beta):
        xp = backend.get_array_module(x)
        x2 = _rows(x)
        self.train = Config.train
        if self.train:
            mean, var = x2.mean(axis=0), x2.var(axis=0)
            m = x2.shape[0]
            self.avg_mean *= self.decay
            self.avg_mean += (1 - self.decay) * mean
            self.avg_var *= self.decay
            self.avg_var += (1 - self.decay) * (m / max(m - 1, 1)) * var  # unbiased
        else:
            mean, var = self.avg_mean, self.avg_var
        self.inv_std = 1 / xp.sqrt(var + self.eps)
        self.xc = (x2 - mean) * self.inv_std
        return _unrows(gamma * self.xc + beta, x.shape)

    def backward(self, gy):
        x, gamma = self.inputs[:2]
        gy2 = _rows(gy)
        gbeta = gy2.sum(axis=0)
        ggamma = (gy2 * self.xc).sum(axis=0)
        if self.train:
            M = gy2.shape[0]
            gy2 = gy2 - gbeta / M - self.xc * ggamma / M
        gx = gy2 * (gamma * self.inv_std)
        return _unrows(gx, x.shape), ggamma, gbeta


def batch_norm(x, gamma, beta, mean, var, decay: float = 0.9, eps: float = 2e-5) -> Variable:
    """Normalize ``x`` (N, C) or (N, C, H, W) per feature; ``mean``/``var`` are running arrays.

    Parameters
    ----------
    x : Variable or array, shape (N, C) or (N, C, H, W)
    gamma, beta : Variable or array, shape (C,)
        Learned scale and shift.
    mean, var : array, shape (C,)
        Running statistics, updated in place when training.
    """
    x = as_variable(x)
    C = x.shape[1] if x.ndim in (2, 4) else None
    if C is None or any(getattr(a, "shape", None) != (C,) for a in (gamma, beta, mean, var)):
        raise ValueError(
            f"batch_norm: expected x of shape (N, C) or (N, C, H, W) and gamma, beta, mean, "
            f"var of shape (C,), got x {x.shape}, gamma {getattr(gamma, 'shape', None)}, "
            f"beta {getattr(beta, 'shape', None)}, mean {getattr(mean, 'shape', None)}, "
            f"var {getattr(var, 'shape', None)}"
        )
    return BatchNorm(mean, var, decay, eps)(x, gamma, beta)


batch_nrom = batch_norm  # DeZero's spelling (its layers call F.batch_nrom)


def embed_id(x, W) -> Variable:
    """Rows of the embedding matrix ``W`` (V, D) at the word ids ``x``: ``W[x]``.

    ``x`` is an integer array of any shape S; the result has shape S + (D,).  The
    backward adds each ``gy`` row into row ``x`` of ``gW`` (an id seen twice gets both).
    """
    if isinstance(x, Variable):
        x = x.data
    if isinstance(x, (int, list, tuple)):
        x = backend.get_array_module(W).asarray(x)
    if getattr(x, "dtype", None) is None or x.dtype.kind not in "iu":
        raise TypeError(
            f"embed_id: expected x as an integer array of word ids, got "
            f"{getattr(x, 'dtype', type(x).__name__)}"
        )
    V = W.shape[0]
    if x.size and (int(x.min()) < 0 or int(x.max()) >= V):
        raise ValueError(
            f"embed_id: expected ids in [0, {V - 1}] for W with {V} rows, got values from "
            f"{int(x.min())} to {int(x.max())}"
        )
    return get_item(W, x)
