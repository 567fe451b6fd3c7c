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

Each ``update_one`` is the book's line, e.g. Adam's
``m += (1 - beta1) * (grad - m)``: parameters and state change in place, and
NumPy makes a few temporaries per step.  Only where avoiding them measurably
pays (Adam: about 6% of a training step of the benchmark's large MLP) a fused
twin, ``update_one_fused``, computes the same formula through one scratch array.

Checks, all at the door: hyperparameters when an optimizer (or hook) is built
(``SGD(lr=-0.1)`` is refused, as is NaN); per step, each gradient's shape against
its parameter's (never broadcast), and that the state kept under a name still
belongs to the same array (an optimizer reused for another net is refused; call
``reset()`` to start afresh).  These are a few comparisons per parameter, nothing
per element.
"""

from __future__ import annotations

import math
import numbers
import weakref

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
    "check_hyperparameter",
]


def check_hyperparameter(
    owner,
    name: str,
    value,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
) -> float:
    """Return ``value`` when it is a finite real number in its range, else raise.

    The range is ``[low, high)`` (``(low, high)`` with ``low_open``); ``high`` is
    always excluded (``momentum = 1`` never forgets, ``beta1 = 1`` divides by zero).

    Raises
    ------
    TypeError
        When ``value`` is not a real number (a string, an array, a bool).
    ValueError
        When it is NaN, infinite or out of range; the message names ``owner``'s
        class and the accepted range.
    """
    who = type(owner).__name__
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{who}: expected {name} to be a number, got {type(value).__name__}")
    above_low = value > low if low_open else value >= low
    if not (math.isfinite(value) and above_low and value < high):
        if math.isfinite(high):
            bound = f"in {'(' if low_open else '['}{low:g}, {high:g})"
        else:
            bound = f"{'>' if low_open else '>='} {low:g}"
        raise ValueError(f"{who}: expected {name} {bound} and finite, got {value}")
    return value


class Optimizer:
    """Base class: gathers (key, param, grad) triples, runs hooks, calls ``update_one``.

    ``update_one`` is the plain formula.  A subclass whose fused in-place twin
    measurably pays (Adam) defines ``update_one_fused`` and sets ``fused = True``.
    """

    fused = False  # use update_one_fused instead of update_one

    def __init__(self):
        self.target = None
        self.hooks = []
        self.state = {}  # key -> dict of per-parameter arrays (velocity, moments)
        self._owners = {}  # key -> weak reference to the array the state belongs to

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
        self._check_triples(triples, by_name=params is not None)
        self.begin_step()
        update_one = self.update_one_fused if self.fused else self.update_one
        for key, param, grad in triples:
            if id(param) not in frozen:
                update_one(key, param, grad)
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
        who = type(self).__name__
        grads = {} if grads is None else grads  # update(params) alone: every one is missing
        for name, d in (("params", params), ("grads", grads)):
            if not isinstance(d, dict):
                raise TypeError(
                    f"{who}.update: expected {name} as a dict of name -> array, got "
                    f"{type(d).__name__}; call update(net.params, grads), or setup(model) "
                    "then update() for an autograd model"
                )
        if params.keys() != grads.keys():
            missing = sorted(map(str, set(params) - set(grads)))
            extra = sorted(map(str, set(grads) - set(params)))
            raise ValueError(
                f"{who}.update: expected a gradient for every parameter, missing {missing}"
                + (f"; and no others, got gradients for {extra}" if extra else "")
            )
        numbers = set()
        triples = []
        for key, p in params.items():
            g = grads[key]
            if not (isinstance(p, np.ndarray) and isinstance(g, np.ndarray)):  # else: arrays
                if isinstance(p, _NUMBER_TYPES):
                    numbers.add(key)
                    p = _as_array(p)
                if isinstance(g, _NUMBER_TYPES):
                    g = _as_array(g, p.dtype)
            triples.append((key, p, g))
        return triples, numbers

    def _check_triples(self, triples, by_name: bool) -> None:
        """Refuse a gradient of another shape, or state that belongs to another array.

        Per parameter: one shape comparison, and for a dict of named arrays one
        identity check (a weak reference), so a net is never updated with the
        velocities or moments another net left under the same names.
        """
        who = type(self).__name__
        for key, param, grad in triples:
            owner = self._owners.get(key) if by_name else None
            known = owner is not None and owner() is param  # checked when first seen
            if known and getattr(grad, "shape", None) == param.shape:
                continue
            if getattr(getattr(param, "dtype", None), "kind", None) != "f":
                got = param.dtype if hasattr(param, "dtype") else type(param).__name__
                raise TypeError(
                    f"{who}.update: parameter {key!r} is {got}; expected a float array "
                    "(it is changed in place) or a number"
                )
            if getattr(grad, "shape", None) != param.shape:
                got = grad.shape if hasattr(grad, "shape") else type(grad).__name__
                raise ValueError(
                    f"{who}.update: the gradient of {key!r} has shape {got} but the "
                    f"parameter has shape {param.shape}; expected the same shape (a gradient "
                    "is never broadcast into an update)"
                )
            if not by_name or param.ndim == 0:
                continue  # autograd: keyed by the Parameter itself; numbers: new 0-d arrays
            if owner is None:
                self._owners[key] = weakref.ref(param)
            elif owner() is not param:
                raise ValueError(
                    f"{who}.update: the state kept for {key!r} belongs to another array "
                    "(this optimizer was used for another net, or the net's arrays were "
                    "replaced); make a new optimizer for each net, or call reset() to "
                    "start afresh"
                )

    def reset(self) -> None:
        """Forget all state (velocities, moments): the next ``update`` starts afresh."""
        self.state.clear()
        self._owners.clear()

    def begin_step(self) -> None:
        """Start one ``update`` (Adam counts its steps here)."""

    def buffers(self, key, param, *names) -> list:
        """Return this parameter's state arrays ``names`` (zeros the first time)."""
        st = self.state.get(key)
        if st is None:
            st = self.state[key] = {}
        if len(st) < len(names) or any(n not in st for n in names):
            xp = get_array_module(param)
            st.update({n: xp.zeros_like(param) for n in names if n not in st})
        return [st[n] for n in names]

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
        self._owners.clear()  # the net's arrays move too: the state now belongs to those
        return self


# A Python number or NumPy scalar, told from an array (which can change in place).
_NUMBER_TYPES = (int, float, np.generic)


def _as_array(value, dtype=None):
    """Return a number as a 0-d array (float64 for an int), or of ``dtype`` when given."""
    a = np.asarray(value, dtype=dtype)
    return a if a.dtype.kind == "f" else a.astype(np.float64)


class SGD(Optimizer):
    """Stochastic gradient descent: ``W -= lr * dW``."""

    def __init__(self, lr: float = 0.01):
        super().__init__()
        self.lr = check_hyperparameter(self, "lr", lr, low=0.0, low_open=True)

    def update_one(self, key, param, grad):
        param -= self.lr * grad


class Momentum(Optimizer):
    """SGD with momentum: ``v = momentum * v - lr * dW``; ``W += v``."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__()
        self.lr = check_hyperparameter(self, "lr", lr, low=0.0, low_open=True)
        self.momentum = check_hyperparameter(self, "momentum", momentum, 0.0, 1.0)

    def update_one(self, key, param, grad):
        (v,) = self.buffers(key, param, "v")
        v *= self.momentum
        v -= self.lr * grad
        param += v


MomentumSGD = Momentum  # DeZero's name


class Nesterov(Optimizer):
    """Nesterov's accelerated gradient, in the book's form.

    ``W += m^2 v - (1 + m) lr dW`` with the velocity of the previous step, then
    ``v = m v - lr dW``.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__()
        self.lr = check_hyperparameter(self, "lr", lr, low=0.0, low_open=True)
        self.momentum = check_hyperparameter(self, "momentum", momentum, 0.0, 1.0)

    def update_one(self, key, param, grad):
        (v,) = self.buffers(key, param, "v")
        param += self.momentum * self.momentum * v
        param -= (1 + self.momentum) * self.lr * grad
        v *= self.momentum
        v -= self.lr * grad


class AdaGrad(Optimizer):
    """AdaGrad: ``h += dW^2``; ``W -= lr * dW / (sqrt(h) + 1e-7)``."""

    def __init__(self, lr: float = 0.01):
        super().__init__()
        self.lr = check_hyperparameter(self, "lr", lr, low=0.0, low_open=True)

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        (h,) = self.buffers(key, param, "h")
        h += grad * grad
        param -= self.lr * grad / (xp.sqrt(h) + 1e-7)


class RMSprop(Optimizer):
    """RMSprop: ``h = decay h + (1 - decay) dW^2``; ``W -= lr dW / (sqrt(h) + 1e-7)``."""

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99):
        super().__init__()
        self.lr = check_hyperparameter(self, "lr", lr, low=0.0, low_open=True)
        self.decay_rate = check_hyperparameter(self, "decay_rate", decay_rate, 0.0, 1.0)

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        (h,) = self.buffers(key, param, "h")
        h *= self.decay_rate
        h += (1 - self.decay_rate) * grad * grad
        param -= self.lr * grad / (xp.sqrt(h) + 1e-7)


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler 2012), as in DeZero: no learning rate to tune.

    ``msg = rho msg + (1 - rho) dW^2``;
    ``dx = sqrt((msdx + eps) / (msg + eps)) dW``;
    ``msdx = rho msdx + (1 - rho) dx^2``; ``W -= dx``.
    """

    def __init__(self, rho: float = 0.95, eps: float = 1e-6):
        super().__init__()
        self.rho = check_hyperparameter(self, "rho", rho, 0.0, 1.0)
        self.eps = check_hyperparameter(self, "eps", eps, low=0.0, low_open=True)

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        msg, msdx = self.buffers(key, param, "msg", "msdx")
        msg *= self.rho
        msg += (1 - self.rho) * grad * grad
        dx = xp.sqrt((msdx + self.eps) / (msg + self.eps)) * grad
        msdx *= self.rho
        msdx += (1 - self.rho) * dx * dx
        param -= dx


class Adam(Optimizer):
    """Adam (Kingma and Ba), in the book's form.

    ``m += (1 - beta1)(dW - m)``; ``v += (1 - beta2)(dW^2 - v)``;
    ``W -= lr_t m / (sqrt(v) + 1e-7)`` with
    ``lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)`` at step ``t``.

    ``update_one`` is that formula; ``update_one_fused`` (the default, ``fused=True``)
    computes the same in place without temporaries, which pays on big nets.
    """

    def __init__(
        self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, *, fused: bool = True
    ):
        super().__init__()
        self.lr = check_hyperparameter(self, "lr", lr, low=0.0, low_open=True)
        self.beta1 = check_hyperparameter(self, "beta1", beta1, 0.0, 1.0)
        self.beta2 = check_hyperparameter(self, "beta2", beta2, 0.0, 1.0)
        self.fused = bool(fused)
        self.iter = 0

    def begin_step(self):
        self.iter += 1

    def reset(self) -> None:
        """Forget the moments and the step count: start afresh (e.g. on another net)."""
        super().reset()
        self.iter = 0

    @property
    def lr_t(self) -> float:
        """Bias-corrected step size at the current step."""
        t = max(self.iter, 1)
        return self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)

    def update_one(self, key, param, grad):
        xp = get_array_module(param)
        m, v = self.buffers(key, param, "m", "v")
        m += (1 - self.beta1) * (grad - m)
        v += (1 - self.beta2) * (grad * grad - v)
        param -= self.lr_t * m / (xp.sqrt(v) + 1e-7)

    def update_one_fused(self, key, param, grad):
        """``update_one``'s formula, computed in place through one scratch array.

        The moments in the equal form of the book's commented-out lines,
        ``m = beta1 m + (1 - beta1) dW`` and ``v = beta2 v + (1 - beta2) dW^2``
        (fewer passes over memory than ``m += (1 - beta1)(dW - m)``), and every
        step with ``out=``, so no temporary is allocated.  Equal to ``update_one``
        to rounding (tested in float64, rtol 1e-12); measured 5.2 ms against 6.9 ms
        per update of the benchmark's large MLP (1.8 M parameters, float32), about
        6% of its training step (``bench_mlp.py``, setting B).  Used when ``fused``
        is True (the default); ``Adam(fused=False)`` runs the plain form.
        """
        xp = get_array_module(param)
        m, v, tmp = self.buffers(key, param, "m", "v", "tmp")
        m *= self.beta1  # m = beta1 * m + (1 - beta1) * grad
        m += xp.multiply(grad, 1 - self.beta1, out=tmp)
        v *= self.beta2  # v = beta2 * v + (1 - beta2) * grad**2
        xp.multiply(grad, grad, out=tmp)
        tmp *= 1 - self.beta2
        v += tmp
        xp.sqrt(v, out=tmp)  # param -= lr_t * m / (sqrt(v) + 1e-7)
        tmp += 1e-7
        xp.divide(m, tmp, out=tmp)
        tmp *= self.lr_t
        param -= tmp


class WeightDecay:
    """Hook for L2 weight decay: ``dW += rate * W`` (the gradient of ``rate/2 * ||W||^2``).

    Every parameter decays, biases included, as in DeZero's ``WeightDecay``.
    """

    def __init__(self, rate: float):
        self.rate = check_hyperparameter(self, "rate", rate, low=0.0)

    def __call__(self, params, grads):
        for p, g in zip(params, grads, strict=True):
            g += self.rate * p


class ClipGrad:
    """Hook that rescales all gradients so their joint L2 norm is at most ``max_norm``."""

    def __init__(self, max_norm: float):
        self.max_norm = check_hyperparameter(self, "max_norm", max_norm, 0.0, low_open=True)

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
