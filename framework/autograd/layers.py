"""Layers for autograd models: containers of ``Parameter``s that are called like functions.

A ``Layer`` finds its parameters by attribute: assigning a ``Parameter`` (or a
sub-``Layer``) to ``self.<name>`` registers the name.  Names are kept in a
``dict`` in the order they were assigned, so ``params()`` always yields the same
order (DeZero keeps a ``set``, whose order changes with ``PYTHONHASHSEED``).
There is no ``backward`` to write: a layer's forward builds a graph, and
``loss.backward()`` fills every ``Parameter.grad``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..npzfile import load_arrays, mismatches, save_arrays
from .core import Parameter
from .functions_conv import conv2d
from .functions_tensor import linear

__all__ = ["Layer", "Linear", "Conv2d"]


class Layer:
    """Base class: parameters and sub-layers registered by attribute, in insertion order."""

    def __init__(self):
        self._params = {}  # attribute name -> None; a dict keeps the insertion order

    def __setattr__(self, name, value):
        registry = self.__dict__.get("_params")
        if isinstance(value, (Parameter, Layer)):
            if registry is None:
                raise RuntimeError(
                    f"{type(self).__name__}: call super().__init__() at the start of "
                    f"__init__, before assigning the parameter or layer {name!r}"
                )
            registry[name] = None
        elif registry is not None and name in registry:
            del registry[name]  # e.g. ``self.b = None``: no longer a parameter
        super().__setattr__(name, value)

    def __call__(self, *inputs):
        return self.forward(*inputs)

    def forward(self, *inputs):
        """Compute the output Variable(s) from the inputs (subclasses write this)."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def params(self):
        """Yield every ``Parameter``, sub-layers' included, in a stable order."""
        for name in self._params:
            obj = self.__dict__[name]
            if isinstance(obj, Layer):
                yield from obj.params()
            else:
                yield obj

    def cleargrads(self) -> None:
        """Reset the gradient of every parameter (they accumulate otherwise)."""
        for param in self.params():
            param.cleargrad()

    def to_cpu(self) -> Layer:
        """Move every parameter to the host; returns the layer."""
        for param in self.params():
            param.to_cpu()
        return self

    def to_gpu(self) -> Layer:
        """Move every parameter to the GPU (``RuntimeError`` without CuPy); returns the layer."""
        for param in self.params():
            param.to_gpu()
        return self

    def _flatten_params(self, params_dict: dict, parent_key: str = "") -> None:
        """Fill ``params_dict`` with ``"l0/W" -> Parameter`` for this layer and its sub-layers."""
        for name in self._params:
            obj = self.__dict__[name]
            key = f"{parent_key}/{name}" if parent_key else name
            if isinstance(obj, Layer):
                obj._flatten_params(params_dict, key)
            else:
                params_dict[key] = obj

    def save_weights(self, path) -> None:
        """Write every initialised parameter to an ``.npz`` file, keys like ``"l0/W"``.

        Atomic: the arrays go to a temporary file in the same folder, which then
        replaces ``path`` in one step, so a failed save leaves an old file intact.
        Parameters on the GPU are copied to the host; the model stays where it is.
        """
        params = {}
        self._flatten_params(params)
        save_arrays(path, {k: p.data for k, p in params.items() if p.data is not None})

    def load_weights(self, path) -> None:
        """Read weights written by ``save_weights``; everything is checked before any change.

        Raises
        ------
        ValueError
            When the file is not a readable ``.npz``, or a name, shape or dtype does
            not match this model; the model is then left as it was.
        """
        name = f"{type(self).__name__}.load_weights"
        loaded = load_arrays(path, name)
        params = {}
        self._flatten_params(params)
        problems = mismatches({k: p.data for k, p in params.items()}, loaded)
        if problems:
            raise ValueError(f"{name}: {path} does not match this model: " + "; ".join(problems))
        for k in set(params) & set(loaded):
            p = params[k]
            if p.data is None:  # not initialised yet (input size unknown): take the file's
                p.data = loaded[k]
            else:
                p.data[...] = backend.get_array_module(p.data).asarray(loaded[k])


def _normal(rng, shape, fan_in: int, dtype):
    """``N(0, 1/fan_in)`` weights, cast last so float32 stays float32 (NEP 50)."""
    rng = np.random.default_rng(0) if rng is None else rng
    return (rng.standard_normal(shape) * math.sqrt(1.0 / fan_in)).astype(dtype)


class Linear(Layer):
    """Fully connected layer ``y = x @ W + b`` with ``W`` of shape (in_size, out_size).

    ``in_size`` may be left out: ``W`` is then created on the first call, from
    ``x.shape[1]``, with scale ``sqrt(1 / in_size)`` (DeZero's), on ``x``'s device.

    Parameters
    ----------
    out_size : int
    nobias : bool
    dtype : dtype, default float32
        The dtype of ``W`` and ``b`` (both; no NumPy-scalar drift to float64).
    in_size : int, optional
    rng : numpy.random.Generator, optional
        Draws ``W``; ``default_rng(0)`` when omitted, so runs repeat.  Give all
        layers of a model one generator (as ``MLP`` does), else two layers of the
        same shape start from the same weights.
    """

    def __init__(self, out_size, nobias=False, dtype=np.float32, in_size=None, rng=None):
        super().__init__()
        self.in_size = in_size
        self.out_size = out_size
        self.dtype = dtype
        self.rng = rng
        self.W = Parameter(None, name="W")
        if in_size is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_size, dtype=dtype), name="b")

    def _init_W(self, xp=np):
        W = _normal(self.rng, (self.in_size, self.out_size), self.in_size, self.dtype)
        self.W.data = xp.asarray(W)

    def forward(self, x):
        if self.W.data is None:
            if getattr(x, "ndim", None) != 2:
                raise ValueError(
                    f"Linear.forward: expected x of shape (N, D), got "
                    f"{getattr(x, 'shape', type(x).__name__)}; flatten it with F.flatten(x)"
                )
            self.in_size = x.shape[1]
            self._init_W(backend.get_array_module(x))
        return linear(x, self.W, self.b)


class Conv2d(Layer):
    """2-D convolution layer with filters ``W`` (out_channels, C, KH, KW) and bias (OC,).

    ``in_channels`` may be left out: ``W`` is created on the first call, from
    ``x.shape[1]``, with scale ``sqrt(1 / (C * KH * KW))``.

    Parameters
    ----------
    out_channels : int
    kernel_size : int or (int, int)
    stride, pad : int
    nobias : bool
    dtype : dtype, default float32
    in_channels : int, optional
    rng : numpy.random.Generator, optional
    """

    def __init__(
        self,
        out_channels,
        kernel_size,
        stride=1,
        pad=0,
        nobias=False,
        dtype=np.float32,
        in_channels=None,
        rng=None,
    ):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = (kernel_size,) * 2 if isinstance(kernel_size, int) else kernel_size
        self.stride = stride
        self.pad = pad
        self.dtype = dtype
        self.rng = rng
        self.W = Parameter(None, name="W")
        if in_channels is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_channels, dtype=dtype), name="b")

    def _init_W(self, xp=np):
        KH, KW = self.kernel_size
        shape = (self.out_channels, self.in_channels, KH, KW)
        self.W.data = xp.asarray(_normal(self.rng, shape, self.in_channels * KH * KW, self.dtype))

    def forward(self, x):
        if self.W.data is None:
            if getattr(x, "ndim", None) != 4:
                raise ValueError(
                    f"Conv2d.forward: expected x of shape (N, C, H, W), got "
                    f"{getattr(x, 'shape', type(x).__name__)}"
                )
            self.in_channels = x.shape[1]
            self._init_W(backend.get_array_module(x))
        return conv2d(x, self.W, self.b, self.stride, self.pad)
