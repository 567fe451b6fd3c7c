"""Hand-written layers of the book's chapter 5: each ``forward`` and ``backward`` by hand.

A layer caches in ``forward`` exactly what its ``backward`` needs and never writes
into the arrays it is given (``x`` in forward, ``dout`` in backward).

dtypes: a layer with weights (``Affine``) computes in its weights' dtype; an
``x`` or ``dout`` of another float dtype is cast once at the door (the book's
float64 weights with float32 images compute in float64).  Layers without
weights keep their input's dtype.  Integer input is refused with a ``TypeError``.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module
from ..functions import sigmoid, sum_to
from ..initializers import init_weight
from ._checks import check_float, check_size, checked_dout, checked_input

__all__ = ["MulLayer", "AddLayer", "Relu", "Sigmoid", "Tanh", "Affine"]


def _reduce_like(g, x):
    """Sum a gradient back to the shape of ``x`` when ``x`` was broadcast."""
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    out = sum_to(g, shape)
    return out.item() if shape == () and not hasattr(x, "shape") else out


class _TwoInputs:
    """What ``MulLayer`` and ``AddLayer`` share: they keep ``x`` and ``y`` for backward."""

    def __init__(self):
        self.x = None
        self.y = None

    def _keep(self, x, y) -> None:
        """Check ``x`` and ``y`` (numbers or arrays, never lists) and keep them.

        ``[1, 2] + [3, 4]`` would concatenate and ``[1, 2] * 3`` repeat: a list is
        refused with a ``TypeError`` rather than silently giving a wrong answer.
        """
        for name, v in (("x", x), ("y", y)):
            if not (isinstance(v, (int, float, np.number)) or hasattr(v, "dtype")):
                raise TypeError(
                    f"{type(self).__name__}.forward: expected {name} to be a number or an "
                    f"array, got {type(v).__name__}; convert a list with np.asarray({name})"
                )
        self.x, self.y = x, y

    def _checked_dout(self, dout):
        """Check that forward ran and ``dout`` has the broadcast shape of ``x`` and ``y``."""
        shape = np.broadcast_shapes(np.shape(self.x), np.shape(self.y))
        return checked_dout(self, dout, self.x, shape)


class MulLayer(_TwoInputs):
    """Multiply two inputs: ``out = x * y``.

    backward: ``dx = dout * y``, ``dy = dout * x`` (each summed back to its input's
    shape if broadcasting stretched it).  Works on Python numbers and on arrays.
    """

    def forward(self, x, y):
        self._keep(x, y)
        return x * y

    def backward(self, dout):
        dout = self._checked_dout(dout)
        dx = _reduce_like(dout * self.y, self.x)
        dy = _reduce_like(dout * self.x, self.y)
        return dx, dy


class AddLayer(_TwoInputs):
    """Add two inputs: ``out = x + y``; backward passes ``dout`` to both unchanged."""

    def forward(self, x, y):
        self._keep(x, y)
        return x + y

    def backward(self, dout):
        dout = self._checked_dout(dout)
        return _reduce_like(dout, self.x), _reduce_like(dout, self.y)


class WeightAndBias:
    """``params`` and ``grads`` of a layer with a weight ``W`` and a bias ``b``.

    Shared by ``Affine`` and ``Convolution``: the very arrays, by name.
    """

    @property
    def params(self) -> dict:
        """Parameters by name; the very arrays ``W`` and ``b``."""
        return {"W": self.W, "b": self.b}

    @property
    def grads(self) -> dict:
        """Gradients by name; the very arrays ``dW`` and ``db``."""
        return {"W": self.dW, "b": self.db}


class Relu:
    """Rectified linear unit: ``out = max(0, x)``.

    backward: ``dx = dout`` where ``x > 0`` and 0 elsewhere.  ``mask`` is True where
    ``x <= 0``, as in the book; unlike the book, ``dout`` is never modified (the
    book's ``dout[self.mask] = 0`` writes into the caller's array).
    """

    def __init__(self):
        self.mask = None

    def forward(self, x):
        x = checked_input(self, x)
        self.mask = x <= 0
        return get_array_module(x).maximum(x, 0)

    def backward(self, dout):
        dout = checked_dout(self, dout, self.mask, getattr(self.mask, "shape", None))
        # dout * ~mask is dout with 0 where the mask is set: ~10x faster than
        # where(mask, 0, dout), and it leaves dout untouched.
        return dout * ~self.mask


class Sigmoid:
    """Logistic sigmoid: ``out = 1 / (1 + exp(-x))``; backward ``dx = dout * out * (1 - out)``."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        x = checked_input(self, x)
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        dout = checked_dout(self, dout, self.out, getattr(self.out, "shape", None))
        return dout * (1.0 - self.out) * self.out


class Tanh:
    """Hyperbolic tangent: ``out = tanh(x)``; backward ``dx = dout * (1 - out**2)``."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        x = checked_input(self, x)
        self.out = get_array_module(x).tanh(x)
        return self.out

    def backward(self, dout):
        dout = checked_dout(self, dout, self.out, getattr(self.out, "shape", None))
        return dout * (1.0 - self.out**2)


class Affine(WeightAndBias):
    """Fully connected layer: ``out = x @ W + b``.

    backward: ``dx = dout @ W.T``, ``dW = x.T @ dout``, ``db = sum(dout, axis=0)``.
    Each backward binds new ``dW`` and ``db`` arrays, as the book does, so gradients
    returned earlier are never overwritten.

    Build it from arrays, as in the book, ``Affine(W, b)``, or from sizes,
    ``Affine(784, 100, init="he", rng=rng)``.  Any input of shape (N, ...) is
    flattened to (N, D) and ``backward`` restores the original shape.

    Parameters
    ----------
    W : array of shape (D, M), or int D
    b : array of shape (M,), or int M
    init : {"he", "xavier"} or float
        Only when built from sizes: the weight scale (``b`` starts at zero).
    rng : numpy.random.Generator, optional
        Only when built from sizes; without it the weights come from NumPy's global
        state, so ``np.random.seed(0)`` repeats a run.
    dtype : dtype, default float32
        Only when built from sizes.  ``x`` and ``dout`` are cast to the weights' dtype.
    """

    def __init__(self, W, b, *, init="he", rng=None, dtype="float32"):
        if isinstance(W, (int, np.integer)) or isinstance(b, (int, np.integer)):
            check_size("Affine", input_size=W, output_size=b)
            W, b = init_weight((int(W), int(b)), init, rng, dtype), np.zeros(int(b), dtype)
        check_float(self, "W", W)
        if W.ndim != 2 or getattr(b, "shape", None) != (W.shape[1],) or b.dtype != W.dtype:
            raise ValueError(
                f"Affine: expected W of shape (D, M) and b of shape (M,) with one dtype, "
                f"got W {getattr(W, 'shape', None)} {W.dtype} and b "
                f"{getattr(b, 'shape', None)} {getattr(b, 'dtype', type(b).__name__)}"
            )
        xp = get_array_module(W)
        self.W = W
        self.b = b
        self.dW = xp.zeros_like(W)
        self.db = xp.zeros_like(b)
        self.x = None
        self.original_x_shape = None

    def forward(self, x):
        x = self._checked_x(x)
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        out = self.x @ self.W
        out += self.b  # in place: one (N, M) array instead of two
        return out

    def backward(self, dout):
        dout = self._checked_dout(dout)
        dx = dout @ self.W.T
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dx.reshape(self.original_x_shape)

    def backward_params_only(self, dout) -> None:
        """Fast twin of :meth:`backward` for a net's first layer: ``dW`` and ``db``, no ``dx``.

        The same ``dW = x.T @ dout`` and ``db = sum(dout, axis=0)`` as ``backward``,
        without ``dx = dout @ W.T``, whose result nobody reads when ``x`` is the data.
        ``Sequential`` calls it for its first layer; on the book's 784-50-10 net it
        saves about a quarter of the step (benchmarks/README.md).
        """
        dout = self._checked_dout(dout)
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)

    def _checked_x(self, x):
        """Check ``x`` (N, D), or (N, ...) with D values per sample; the door of ``forward``."""
        D = self.W.shape[0]
        if getattr(x, "ndim", 0) < 2 or math.prod(x.shape[1:]) != D:
            got = getattr(x, "shape", type(x).__name__)
            hint = "; for one sample use x.reshape(1, -1)" if getattr(x, "ndim", 0) == 1 else ""
            raise ValueError(f"Affine.forward: expected x of shape (N, {D}), got {got}{hint}")
        return checked_input(self, x, self.W)

    def _checked_dout(self, dout):
        shape = None if self.x is None else (self.x.shape[0], self.W.shape[1])
        return checked_dout(self, dout, self.x, shape, self.W)


class LeakyRelu:
    """Leaky ReLU: ``out = x`` where ``x > 0``, else ``slope * x`` (DeZero's ``leaky_relu``).

    backward: ``dx = dout`` where ``x > 0``, else ``slope * dout``.  ``mask`` is True
    where ``x <= 0``, as in :class:`Relu`; ``dout`` is never modified.

    Parameters
    ----------
    slope : float, default 0.2
        Gradient for negative inputs (DeZero's ``leaky_relu(x, slope=0.2)``).
    """

    def __init__(self, slope: float = 0.2):
        self.slope = slope
        self.mask = None

    def forward(self, x):
        x = checked_input(self, x)
        self.mask = x <= 0
        return get_array_module(x).where(self.mask, x * self.slope, x)

    def backward(self, dout):
        dout = checked_dout(self, dout, self.mask, getattr(self.mask, "shape", None))
        return get_array_module(dout).where(self.mask, dout * self.slope, dout)


__all__ += ["LeakyRelu"]
