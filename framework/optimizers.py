"""Optimizers: SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta and Adam.

One set of classes serves both ways of building a net:

* layer nets, as in the book: ``opt.update(net.params, grads)`` follows
  ``params[key] -= ...``: arrays change in place, and a Python number or 0-d
  entry of the dict is updated too (the book's ``{'x': -7.0, 'y': 2.0}``);
* autograd models, as in DeZero: ``opt.setup(model)`` once, then ``opt.update()``
  after each ``loss.backward()`` updates every ``Parameter`` that has a gradient.

Hooks run on the gradients before the update (``add_hook(WeightDecay(1e-4))``,
``add_hook(ClipGrad(5.0))``).  A hook is called as ``hook(params, grads)`` with two
lists of arrays and changes the gradients in place.  ``FreezeParam`` keeps chosen
parameters as they are.

dtypes: each parameter is updated in its own dtype (its state arrays share it),
whatever the dtype of its gradient.

Every update works in place and draws its temporaries from one scratch buffer per
parameter, so a training step allocates no new arrays here.
"""

from __future__ import annotations

import math

import numpy as np

from .backend import get_array_module, to_device

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "MomentumSGD",
    "Nesterov",
    "AdaGrad",
    "RMSprop",
    "AdaDelta",
    "Adam",
    "WeightDecay",
    "ClipGrad",
    "FreezeParam",
]


class Optimizer:
    """Base class: gathers (key, param, grad) triples, runs hooks, calls ``update_one``."""

    def __init__(self):
        self.target = None
        self.hooks = []
        self.state = {}  # key -> dict of per-parameter arrays (velocity, moments, scratch)

    def setup(self, target) -> Optimizer:
        """Remember an autograd model (anything with ``params()``) for ``update()``."""
        self.target = target
        return self

    def add_hook(self, f) -> None:
        """Add ``f(params, grads)``, called on the gradients before every update."""
        self.hooks.append(f)

    def update(self, params: dict | None = None, grads: dict | None = None) -> None:
        """Update parameters in place.

        Parameters
        ----------
        params, grads : dict, optional
            Layer-net form: name -> array, as ``net.params`` and ``net.gradient(x, t)``.
            Leave both out after ``setup(model)`` to update an autograd model.
        """
        if params is None:
            triples, numbers = self._model_triples(), set()
        else:
            triples, numbers = self._dict_triples(params, grads)
        frozen = set()
        if self.hooks:
            ps, gs = [p for _, p, _ in triples], [g for _, _, g in triples]
            for f in self.hooks:
                f(ps, gs)
                frozen.update(getattr(f, "frozen_ids", lambda: ())())
        self.begin_step()
        for key, param, grad in triples:
            if id(param) not in frozen:
                self.update_one(key, param, grad)
        if numbers:
            for key, param, _ in triples:
                if key in numbers:
                    params[key] = param[()]  # a NumPy scalar, as the book's -= leaves it

    def _model_triples(self) -> list:
        """(key, array, gradient) of every Parameter of the set-up model that has a grad."""
        if self.target is None:
            raise RuntimeError(
                f"{type(self).__name__}.update: no parameters; call setup(model) first, "
                "or pass update(params, grads) for a layer net"
            )
        return [(id(p), p.data, p.grad.data) for p in self.target.params() if p.grad is not None]

    def _dict_triples(self, params: dict, grads: dict | None) -> tuple:
        """(key, array, gradient) per entry, and the keys whose values are plain numbers.

        A Python number (or NumPy scalar) becomes a 0-d array, updated in place and
        then written back into ``params``, as the book's ``params[key] -= ...`` does.
        """
        if grads is None or params.keys() != grads.keys():
            missing = sorted(set(params) - set(grads or {}))
            raise ValueError(
                f"{type(self).__name__}.update: expected a gradient for every parameter, "
                f"missing {missing}"
            )
        numbers = {key for key, p in params.items() if _is_number(p)}
        triples = []
        for key, p in params.items():
            p = _as_array(p) if key in numbers else p
            g = _as_array(grads[key], p.dtype) if _is_number(grads[key]) else grads[key]
            triples.append((key, p, g))
        return triples, numbers

    def begin_step(self) -> None:
        """Start one ``update`` (Adam counts its steps here)."""

    def buffers(self, key, param, *names) -> list:
        """Return this parameter's state arrays ``names`` (zeros the first time)."""
        st = self.state.get(key)
        if st is None:
            xp = get_array_module(param)
            st = self.state[key] = {n: xp.zeros_like(param) for n in (*names, "tmp")}
        return [st[n] for n in names] + [st["tmp"]]

    def update_one(self, key, param, grad) -> None:
        """Update one parameter array in place."""
        raise NotImplementedError(
            f"{type(self).__name__}.update_one: a subclass of Optimizer must define how "
            "one parameter is updated"
        )

    def to_gpu(self) -> Optimizer:
        """Move the optimizer's state (velocities, moments) to the GPU with the net."""
        return self._move("gpu")

    def to_cpu(self) -> Optimizer:
        """Move the optimizer's state back to NumPy."""
        return self._move("cpu")

    def _move(self, device: str) -> Optimizer:
        for st in self.state.values():
            for name, arr in st.items():
                st[name] = to_device(arr, device)
        return self


def _is_number(value) -> bool:
    """Tell a Python number or NumPy scalar from an array (which can change in place)."""
    return isinstance(value, (int, float, np.generic))


def _as_array(value, dtype=None):
    """Return a number as a 0-d array (float64 for an int), or of ``dtype`` when given."""
    a = np.asarray(value, dtype=dtype)
    return a if a.dtype.kind == "f" else a.astype(np.float64)


class SGD(Optimizer):
    """Stochastic gradient descent: ``W -= lr * dW``."""

    def __init__(self, lr: float = 0.01):
        super().__init__()
        self.lr = lr

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        (tmp,) = self.buffers(key, param)
        xp.multiply(grad, self.lr, out=tmp)
        param -= tmp


class Momentum(Optimizer):
    """SGD with momentum: ``v = momentum * v - lr * dW``; ``W += v``."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__()
        self.lr = lr
        self.momentum = momentum

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        v, tmp = self.buffers(key, param, "v")
        v *= self.momentum
        v -= xp.multiply(grad, self.lr, out=tmp)
        param += v


MomentumSGD = Momentum  # DeZero's name


class Nesterov(Optimizer):
    """Nesterov's accelerated gradient, in the book's form.

    ``W += m^2 v - (1 + m) lr dW`` with the velocity of the previous step, then
    ``v = m v - lr dW``.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__()
        self.lr = lr
        self.momentum = momentum

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        v, tmp = self.buffers(key, param, "v")
        param += xp.multiply(v, self.momentum * self.momentum, out=tmp)
        param -= xp.multiply(grad, (1.0 + self.momentum) * self.lr, out=tmp)
        v *= self.momentum
        v -= xp.multiply(grad, self.lr, out=tmp)


class AdaGrad(Optimizer):
    """AdaGrad: ``h += dW^2``; ``W -= lr * dW / (sqrt(h) + 1e-7)``."""

    def __init__(self, lr: float = 0.01):
        super().__init__()
        self.lr = lr

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        h, tmp = self.buffers(key, param, "h")
        h += xp.multiply(grad, grad, out=tmp)
        _scaled_step(xp, param, grad, h, tmp, self.lr)


class RMSprop(Optimizer):
    """RMSprop: ``h = decay h + (1 - decay) dW^2``; ``W -= lr dW / (sqrt(h) + 1e-7)``."""

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99):
        super().__init__()
        self.lr = lr
        self.decay_rate = decay_rate

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        h, tmp = self.buffers(key, param, "h")
        h *= self.decay_rate
        xp.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.decay_rate
        h += tmp
        _scaled_step(xp, param, grad, h, tmp, self.lr)


def _scaled_step(xp, param, grad, h, tmp, lr):
    """``param -= lr * grad / (sqrt(h) + 1e-7)``, in place through ``tmp``."""
    xp.sqrt(h, out=tmp)
    tmp += 1e-7
    xp.divide(grad, tmp, out=tmp)
    tmp *= lr
    param -= tmp


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler 2012), as in DeZero: no learning rate to tune.

    ``msg = rho msg + (1 - rho) dW^2``;
    ``dx = sqrt((msdx + eps) / (msg + eps)) dW``;
    ``msdx = rho msdx + (1 - rho) dx^2``; ``W -= dx``.
    """

    def __init__(self, rho: float = 0.95, eps: float = 1e-6):
        super().__init__()
        self.rho = rho
        self.eps = eps

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        msg, msdx, dx, tmp = self.buffers(key, param, "msg", "msdx", "dx")
        msg *= self.rho
        xp.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.rho
        msg += tmp
        xp.add(msdx, self.eps, out=dx)
        dx /= xp.add(msg, self.eps, out=tmp)
        xp.sqrt(dx, out=dx)
        dx *= grad
        msdx *= self.rho
        xp.multiply(dx, dx, out=tmp)
        tmp *= 1.0 - self.rho
        msdx += tmp
        param -= dx


class Adam(Optimizer):
    """Adam (Kingma and Ba), in the book's form.

    ``m += (1 - beta1)(dW - m)``; ``v += (1 - beta2)(dW^2 - v)``;
    ``W -= lr_t m / (sqrt(v) + 1e-7)`` with
    ``lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)`` at step ``t``.
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999):
        super().__init__()
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0

    def begin_step(self):
        self.iter += 1

    @property
    def lr_t(self) -> float:
        """Bias-corrected step size at the current step."""
        t = max(self.iter, 1)
        return self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        m, v, tmp = self.buffers(key, param, "m", "v")
        m *= self.beta1
        m += xp.multiply(grad, 1.0 - self.beta1, out=tmp)
        v *= self.beta2
        xp.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.beta2
        v += tmp
        xp.sqrt(v, out=tmp)
        tmp += 1e-7
        xp.divide(m, tmp, out=tmp)
        tmp *= self.lr_t
        param -= tmp


class WeightDecay:
    """Hook for L2 weight decay: ``dW += rate * W`` (the gradient of ``rate/2 * ||W||^2``).

    Every parameter decays, biases included, as in DeZero's ``WeightDecay``.
    """

    def __init__(self, rate: float):
        self.rate = rate

    def __call__(self, params, grads):
        for p, g in zip(params, grads, strict=True):
            g += self.rate * p


class ClipGrad:
    """Hook that rescales all gradients so their joint L2 norm is at most ``max_norm``."""

    def __init__(self, max_norm: float):
        self.max_norm = max_norm

    def __call__(self, params, grads):
        total = math.sqrt(sum(float((g * g).sum()) for g in grads))
        rate = self.max_norm / (total + 1e-6)
        if rate < 1:
            for g in grads:
                g *= rate


class FreezeParam:
    """Hook that keeps the given parameters as they are (DeZero's ``FreezeParam``).

    ``opt.add_hook(FreezeParam(model.l1))`` trains everything but ``l1``.  Takes
    autograd layers or Parameters (anything with ``params()``, or with ``data``),
    hand-written layers (anything with a ``params`` dict) and plain arrays.
    Frozen parameters are skipped by the update, and their optimizer state
    (velocity, moments) does not move either.  (DeZero sets their ``grad`` to None,
    which its own ``update`` then trips over; skipping them is what it means.)
    """

    def __init__(self, *layers):
        self.targets = layers

    def frozen_ids(self) -> set:
        """``id`` of every array to keep, looked up now (a layer may have new arrays)."""
        ids = set()
        for t in self.targets:
            if callable(getattr(t, "params", None)):
                ids.update(id(p.data) for p in t.params())
            elif isinstance(getattr(t, "params", None), dict):
                ids.update(id(a) for a in t.params.values())
            else:  # a Parameter (it has .grad) or a plain array
                ids.add(id(t.data if hasattr(t, "grad") else t))
        return ids

    def __call__(self, params, grads):
        """Leave the gradients alone; ``Optimizer.update`` skips ``frozen_ids()``."""
