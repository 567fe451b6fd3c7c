"""DeZero's ``optimizers`` module: the optimizers of :mod:`framework.optimizers`, DeZero's way.

One set of classes serves the hand-written nets and the autograd models; the
classes here are thin subclasses that add what DeZero's scripts expect::

    from framework.autograd import optimizers
    optimizer = optimizers.MomentumSGD(lr).setup(model)
    optimizer.add_hook(optimizers.WeightDecay(1e-4))
    ...
    loss.backward()
    optimizer.update()

What differs from :mod:`framework.optimizers`:

- DeZero's signatures and defaults: ``Adam(alpha=0.001, beta1=0.9, beta2=0.999,
  eps=1e-8)`` (``alpha`` is the step size the framework calls ``lr``) and
  ``AdaGrad(lr=0.001, eps=1e-8)``; the framework keeps book 1's ``Adam(lr=0.001)``
  and ``AdaGrad(lr=0.01)`` with ``1e-7``.
- Hooks in DeZero's form: ``hook(params)``, called with the list of
  ``Parameter``s that have a gradient (e.g. ``for p in params: p.grad.data *= 0.5``),
  are accepted by ``add_hook`` next to the framework's ``hook(params, grads)``
  (arrays).  Both run before each update, in the order they were added.
"""

from __future__ import annotations

import inspect

from .. import optimizers as _framework
from ..backend import get_array_module
from ..optimizers import ClipGrad, FreezeParam, WeightDecay

__all__ = [
    "Optimizer",
    "SGD",
    "MomentumSGD",
    "AdaGrad",
    "AdaDelta",
    "Adam",
    "WeightDecay",
    "ClipGrad",
    "FreezeParam",
]


def _takes_params_only(hook) -> bool:
    """Tell a DeZero hook ``hook(params)`` from the framework's ``hook(params, grads)``."""
    try:
        signature = inspect.signature(hook)
    except (TypeError, ValueError):  # a builtin without a signature: the framework's form
        return False
    kinds = [p.kind for p in signature.parameters.values()]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(k in positional for k in kinds) == 1


class _ParameterHook:
    """Run a DeZero hook ``hook(params)`` where the framework calls ``hook(params, grads)``.

    ``params`` is the list of the set-up model's Parameters that have a gradient,
    the very ones ``update`` is about to change, so a hook that changes
    ``p.grad.data`` in place changes the step.
    """

    def __init__(self, hook, optimizer):
        self.hook = hook
        self.optimizer = optimizer

    def __call__(self, params, grads):
        target = self.optimizer.target
        if target is None:
            raise TypeError(
                f"{type(self.optimizer).__name__}.update: the DeZero-style hook "
                f"{self.hook!r} takes Parameters, which only a set-up model has; call "
                "setup(model) then update(), or write the hook as hook(params, grads)"
            )
        self.hook([p for p in target.params() if p.grad is not None])


class _DeZeroHooks:
    """Mixin: ``add_hook`` takes DeZero's ``hook(params)`` as well as ``hook(params, grads)``."""

    def add_hook(self, f) -> None:
        """Add a hook run before every update: ``f(params)`` (DeZero) or ``f(params, grads)``."""
        super().add_hook(_ParameterHook(f, self) if _takes_params_only(f) else f)


class Optimizer(_DeZeroHooks, _framework.Optimizer):
    """Base class, as :class:`framework.optimizers.Optimizer` with DeZero's hooks."""


class SGD(_DeZeroHooks, _framework.SGD):
    """``W -= lr * dW`` (:class:`framework.optimizers.SGD`), with DeZero's hooks."""


class MomentumSGD(_DeZeroHooks, _framework.MomentumSGD):
    """``v = momentum v - lr dW``; ``W += v`` (:class:`framework.optimizers.MomentumSGD`)."""


class AdaDelta(_DeZeroHooks, _framework.AdaDelta):
    """AdaDelta (:class:`framework.optimizers.AdaDelta`), with DeZero's hooks."""


class AdaGrad(_DeZeroHooks, _framework.AdaGrad):
    """AdaGrad with DeZero's defaults: ``h += dW^2``; ``W -= lr dW / (sqrt(h) + eps)``.

    Parameters
    ----------
    lr : float, default 0.001 (DeZero's; ``framework.optimizers.AdaGrad`` has 0.01)
    eps : float, default 1e-8 (DeZero's; the framework's has 1e-7)
    """

    def __init__(self, lr: float = 0.001, eps: float = 1e-8):
        super().__init__(lr)
        self.eps = eps

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        h = self.buffers(key, param, "h")[0]
        h += grad * grad
        param -= self.lr * grad / (xp.sqrt(h) + self.eps)

    update_one_fused = update_one


class Adam(_DeZeroHooks, _framework.Adam):
    """Adam with DeZero's signature: ``Adam(alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8)``.

    ``m += (1 - beta1)(dW - m)``; ``v += (1 - beta2)(dW^2 - v)``;
    ``W -= lr_t m / (sqrt(v) + eps)`` with ``lr_t = alpha sqrt(1 - beta2^t) / (1 - beta1^t)``
    at step ``t``.  ``alpha`` is the framework's ``lr``: both names work, as
    arguments (``Adam(lr=0.01)`` as the framework's ``Adam`` is called) and as
    attributes.
    """

    def __init__(
        self,
        alpha: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        *,
        lr: float | None = None,
    ):
        super().__init__(alpha if lr is None else lr, beta1, beta2)
        self.eps = _framework.check_hyperparameter(self, "eps", eps, low=0.0, low_open=True)

    @property
    def alpha(self) -> float:
        """DeZero's name for the step size ``lr``."""
        return self.lr

    @alpha.setter
    def alpha(self, value: float) -> None:
        self.lr = value

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        m, v = self.buffers(key, param, "m", "v")[:2]
        m += (1 - self.beta1) * (grad - m)
        v += (1 - self.beta2) * (grad * grad - v)
        param -= self.lr_t * m / (xp.sqrt(v) + self.eps)

    update_one_fused = update_one
