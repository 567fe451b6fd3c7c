"""Optimizers: SGD, Momentum, Nesterov, AdaGrad, RMSprop and Adam.

One set of classes serves both ways of building a net:

* layer nets, as in the book: ``opt.update(net.params, grads)`` updates the
  arrays of ``params`` in place;
* autograd models, as in DeZero: ``opt.setup(model)`` once, then ``opt.update()``
  after each ``loss.backward()`` updates every ``Parameter`` that has a gradient.

Hooks run on the gradients before the update (``add_hook(WeightDecay(1e-4))``,
``add_hook(ClipGrad(5.0))``).  A hook is called as ``hook(params, grads)`` with two
lists of arrays and changes the gradients in place.

Every update works in place and draws its temporaries from one scratch buffer per
parameter, so a training step allocates no new arrays here.
"""

from __future__ import annotations

import math

from .backend import get_array_module, to_device

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "MomentumSGD",
    "Nesterov",
    "AdaGrad",
    "RMSprop",
    "Adam",
    "WeightDecay",
    "ClipGrad",
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
            if self.target is None:
                raise RuntimeError(
                    f"{type(self).__name__}.update: no parameters; call setup(model) first, "
                    "or pass update(params, grads) for a layer net"
                )
            triples = [
                (id(p), p.data, p.grad.data) for p in self.target.params() if p.grad is not None
            ]
        else:
            if grads is None or params.keys() != grads.keys():
                missing = sorted(set(params) - set(grads or {}))
                raise ValueError(
                    f"{type(self).__name__}.update: expected a gradient for every parameter, "
                    f"missing {missing}"
                )
            triples = [(key, params[key], grads[key]) for key in params]
        if self.hooks:
            ps, gs = [p for _, p, _ in triples], [g for _, _, g in triples]
            for f in self.hooks:
                f(ps, gs)
        self.begin_step()
        for key, param, grad in triples:
            self.update_one(key, param, grad)

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
        raise NotImplementedError

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

    ``v = m v - lr dW``; ``W += m^2 v - (1 + m) lr dW``.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__()
        self.lr = lr
        self.momentum = momentum

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        v, tmp = self.buffers(key, param, "v")
        v *= self.momentum
        v -= xp.multiply(grad, self.lr, out=tmp)
        param += xp.multiply(v, self.momentum * self.momentum, out=tmp)
        param -= xp.multiply(grad, (1.0 + self.momentum) * self.lr, out=tmp)


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
