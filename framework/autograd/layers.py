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
import weakref

import numpy as np

from .. import backend
from ..npzfile import ArraySpec, load_arrays, save_arrays
from .core import Parameter
from .functions import batch_norm, embed_id, linear, sigmoid, tanh
from .functions_conv import _pair, conv2d, deconv2d, pair  # noqa: F401 (pair: DeZero's place)

__all__ = ["Layer", "Linear", "Conv2d", "Deconv2d", "RNN", "LSTM", "EmbedID", "BatchNorm"]


def _weak(obj):
    """Return a weak reference to ``obj`` (a plain getter for ints, which allow none)."""
    try:
        return weakref.ref(obj)
    except TypeError:
        return lambda: obj


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
        """Run ``forward``; keep weak references to the inputs and outputs, as DeZero does.

        ``layer.outputs[0]()`` is then the last output while it is alive (DeZero's
        Grad-CAM example reads a convolution's output this way).
        """
        outputs = self.forward(*inputs)
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        self.inputs = [_weak(x) for x in inputs]
        self.outputs = [_weak(y) for y in outs]
        return outputs

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
        arrays = {k: p.data for k, p in params.items() if p.data is not None}
        save_arrays(path, arrays, owner=f"{type(self).__name__}.save_weights")

    def load_weights(self, path) -> None:
        """Read weights written by ``save_weights``; everything is checked before any change.

        Raises
        ------
        ValueError
            When the file is not a readable ``.npz``, or a name, shape or dtype does
            not match this model; the model is then left as it was.
        """
        name = f"{type(self).__name__}.load_weights"
        specs = {}
        self._param_specs(specs)
        # names, shapes and dtypes are checked from the file's headers, before any data
        loaded = load_arrays(path, name, expected=specs, target="this model")
        params = {}
        self._flatten_params(params)
        for k in set(params) & set(loaded):
            p = params[k]
            if p.data is None:  # not initialised yet (input size unknown): take the file's
                p.data = loaded[k]
            else:
                p.data[...] = backend.get_array_module(p.data).asarray(loaded[k])
        self._sync_sizes()

    def _param_specs(self, specs: dict, parent_key: str = "") -> None:
        """Fill ``specs`` with ``"l0/W" -> array``, or the spec of a parameter not sized yet."""
        for name in self._params:
            obj = self.__dict__[name]
            key = f"{parent_key}/{name}" if parent_key else name
            if isinstance(obj, Layer):
                obj._param_specs(specs, key)
            else:
                specs[key] = obj.data if obj.data is not None else self._lazy_spec(name)

    def _lazy_spec(self, name: str):
        """Return the ``ArraySpec`` of parameter ``name`` before it is sized (None: anything)."""
        return None

    def _sync_sizes(self) -> None:
        """After loading, let layers read their sizes (e.g. ``in_size``) from the new weights."""
        for name in self._params:
            obj = self.__dict__[name]
            if isinstance(obj, Layer):
                obj._sync_sizes()


def _normal(rng, shape, fan_in: int, dtype):
    """``N(0, 1/fan_in)`` weights of ``dtype``.

    Without ``rng`` the draws come from NumPy's global state in DeZero's order
    (``np.random.randn(*shape).astype(dtype) * sqrt(1 / fan_in)``), so
    ``np.random.seed(0)`` gives DeZero's weights; the result is cast to ``dtype``
    last, so float32 stays float32 (DeZero's NumPy-scalar factor makes it float64).
    """
    draws = np.random.randn(*shape) if rng is None else rng.standard_normal(shape)  # noqa: NPY002
    return (draws.astype(dtype) * math.sqrt(1.0 / fan_in)).astype(dtype)


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
        Draws ``W``; NumPy's global state when omitted (``np.random.seed(0)``
        repeats a run, and gives DeZero's weights).
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

    def _lazy_spec(self, name):
        return ArraySpec((None, self.out_size), self.dtype) if name == "W" else None

    def _sync_sizes(self) -> None:
        if self.W.data is not None:
            self.in_size = self.W.data.shape[0]

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
    stride, pad : int or (int, int)
    nobias : bool
    dtype : dtype, default float32
    in_channels : int, optional
    rng : numpy.random.Generator, optional
        Draws ``W``; NumPy's global state when omitted.
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
        self.kernel_size = _pair(type(self).__name__, "kernel_size", kernel_size)
        self.stride = stride
        self.pad = pad
        self.dtype = dtype
        self.rng = rng
        self.W = Parameter(None, name="W")
        if in_channels is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_channels, dtype=dtype), name="b")

    _C_AXIS = 1  # where the input channels stand in W: (OC, C, KH, KW)

    def _W_shape(self, C) -> tuple:
        """Shape of ``W`` for ``C`` input channels (None: not known yet)."""
        KH, KW = self.kernel_size
        return (self.out_channels, C, KH, KW)

    def _lazy_spec(self, name):
        return ArraySpec(self._W_shape(None), self.dtype) if name == "W" else None

    def _sync_sizes(self) -> None:
        if self.W.data is not None:
            self.in_channels = self.W.data.shape[self._C_AXIS]

    def _init_W(self, xp=np):
        KH, KW = self.kernel_size
        fan_in = self.in_channels * KH * KW
        W = _normal(self.rng, self._W_shape(self.in_channels), fan_in, self.dtype)
        self.W.data = xp.asarray(W)

    def _size_from(self, x) -> None:
        """Create ``W`` on the first call, with ``in_channels`` read from ``x`` (N, C, H, W)."""
        if getattr(x, "ndim", None) != 4:
            raise ValueError(
                f"{type(self).__name__}.forward: expected x of shape (N, C, H, W), got "
                f"{getattr(x, 'shape', type(x).__name__)}"
            )
        self.in_channels = x.shape[1]
        self._init_W(backend.get_array_module(x))

    def forward(self, x):
        if self.W.data is None:
            self._size_from(x)
        return conv2d(x, self.W, self.b, self.stride, self.pad)


class Deconv2d(Conv2d):
    """Transposed 2-D convolution layer (``F.deconv2d``): W (in_channels, out_channels, KH, KW).

    The arguments are ``Conv2d``'s.  It upsamples: with stride ``s`` an image of
    H rows becomes ``s (H - 1) + KH - 2 pad`` rows.  ``W`` is drawn with scale
    ``sqrt(1 / (C * KH * KW))`` (DeZero's); ``in_channels`` may be inferred.
    """

    _C_AXIS = 0  # W: (C, OC, KH, KW)

    def _W_shape(self, C) -> tuple:
        KH, KW = self.kernel_size
        return (C, self.out_channels, KH, KW)

    def forward(self, x):
        if self.W.data is None:
            self._size_from(x)
        return deconv2d(x, self.W, self.b, self.stride, self.pad)


class RNN(Layer):
    """Elman RNN cell with tanh: ``h_new = tanh(x @ Wx + bx + h @ Wh)``.

    The hidden state ``h`` stays in the layer between calls, so a sequence is fed
    one time step per call; the graph then runs through all the steps until
    ``reset_state()`` or ``h.unchain_backward()`` (truncated BPTT).  The first
    step after a reset has no ``h``: ``h_new = tanh(x @ Wx + bx)``.

    Parameters are those of two ``Linear`` layers: ``x2h`` (``W`` (I, H), ``b``
    (H,)) and ``h2h`` (``W`` (H, H), no bias); flattened names ``"x2h/W"``,
    ``"x2h/b"``, ``"h2h/W"``.  DeZero builds ``h2h`` with ``in_size=in_size``, which
    fails whenever ``in_size != hidden_size``; here ``h2h`` maps H to H.

    Parameters
    ----------
    hidden_size : int
    in_size : int, optional
        Inferred from the first input when omitted.
    """

    def __init__(self, hidden_size, in_size=None):
        super().__init__()
        self.x2h = Linear(hidden_size, in_size=in_size)
        # W of h2h is drawn on its first use (the second step) when in_size is unknown,
        # so that NumPy's global random stream is used in DeZero's order.
        self.h2h = Linear(
            hidden_size, in_size=None if in_size is None else hidden_size, nobias=True
        )
        self.h = None

    def reset_state(self) -> None:
        """Forget the hidden state: the next call starts a new sequence."""
        self.h = None

    def forward(self, x):
        if self.h is None:
            h_new = tanh(self.x2h(x))
        else:
            h_new = tanh(self.x2h(x) + self.h2h(self.h))
        self.h = h_new
        return h_new


class LSTM(Layer):
    """Long short-term memory cell; ``h`` and the memory cell ``c`` stay between calls.

    With ``a2b`` the Linear layer from ``a`` to gate ``b``::

        f = sigmoid(x2f(x) + h2f(h))    forget gate
        i = sigmoid(x2i(x) + h2i(h))    input gate
        o = sigmoid(x2o(x) + h2o(h))    output gate
        u = tanh(x2u(x) + h2u(h))       new memory
        c_new = f * c + i * u
        h_new = o * tanh(c_new)

    On the first step after ``reset_state()`` the ``h2*`` terms and ``f * c`` are
    absent (``h`` and ``c`` are zero).  Parameters, in this order: ``x2f, x2i, x2o,
    x2u`` (each ``W`` (I, H) and ``b`` (H,)) and ``h2f, h2i, h2o, h2u`` (each ``W``
    (H, H), no bias); flattened names ``"x2f/W"``, ``"x2f/b"``, ..., ``"h2u/W"``.

    Parameters
    ----------
    hidden_size : int
    in_size : int, optional
        Inferred from the first input when omitted.
    """

    def __init__(self, hidden_size, in_size=None):
        super().__init__()
        H, I = hidden_size, in_size
        self.x2f = Linear(H, in_size=I)
        self.x2i = Linear(H, in_size=I)
        self.x2o = Linear(H, in_size=I)
        self.x2u = Linear(H, in_size=I)
        self.h2f = Linear(H, in_size=H, nobias=True)
        self.h2i = Linear(H, in_size=H, nobias=True)
        self.h2o = Linear(H, in_size=H, nobias=True)
        self.h2u = Linear(H, in_size=H, nobias=True)
        self.reset_state()

    def reset_state(self) -> None:
        """Forget ``h`` and ``c``: the next call starts a new sequence."""
        self.h = None
        self.c = None

    def forward(self, x):
        if self.h is None:
            f = sigmoid(self.x2f(x))
            i = sigmoid(self.x2i(x))
            o = sigmoid(self.x2o(x))
            u = tanh(self.x2u(x))
        else:
            f = sigmoid(self.x2f(x) + self.h2f(self.h))
            i = sigmoid(self.x2i(x) + self.h2i(self.h))
            o = sigmoid(self.x2o(x) + self.h2o(self.h))
            u = tanh(self.x2u(x) + self.h2u(self.h))
        c_new = i * u if self.c is None else f * self.c + i * u
        h_new = o * tanh(c_new)
        self.h, self.c = h_new, c_new
        return h_new


class EmbedID(Layer):
    """Word embedding: row ``x`` of ``W`` (in_size, out_size) for each word id ``x``.

    ``W`` is drawn from the standard normal (DeZero's ``np.random.randn``), in
    ``dtype``: float32 by default, where DeZero leaves it float64.

    Parameters
    ----------
    in_size : int
        Vocabulary size V.
    out_size : int
        Embedding size D.
    dtype : dtype, default float32
    rng : numpy.random.Generator, optional
        Draws ``W``; NumPy's global state when omitted.
    """

    def __init__(self, in_size, out_size, dtype=np.float32, rng=None):
        super().__init__()
        shape = (in_size, out_size)
        draws = np.random.randn(*shape) if rng is None else rng.standard_normal(shape)  # noqa: NPY002
        self.W = Parameter(draws.astype(dtype), name="W")

    def forward(self, x):
        return embed_id(x, self.W)


class BatchNorm(Layer):
    """Batch normalization layer (``F.batch_norm``), sizes inferred on the first call.

    Parameters (created on the first call, of ``x``'s dtype and device, C features
    or channels): ``gamma`` (ones) and ``beta`` (zeros), learned; ``avg_mean`` and
    ``avg_var``, the running statistics, updated in place while training and used
    in test mode.  All four are ``Parameter``s so that ``save_weights`` stores them
    (DeZero's names); the running ones never get a gradient, so optimizers skip them.
    """

    def __init__(self):
        super().__init__()
        self.avg_mean = Parameter(None, name="avg_mean")
        self.avg_var = Parameter(None, name="avg_var")
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")

    def _init_params(self, x):
        xp = backend.get_array_module(x)
        C = x.shape[1]
        if self.avg_mean.data is None:
            self.avg_mean.data = xp.zeros(C, dtype=x.dtype)
        if self.avg_var.data is None:
            self.avg_var.data = xp.ones(C, dtype=x.dtype)
        if self.gamma.data is None:
            self.gamma.data = xp.ones(C, dtype=x.dtype)
        if self.beta.data is None:
            self.beta.data = xp.zeros(C, dtype=x.dtype)

    def forward(self, x):
        if getattr(x, "ndim", None) not in (2, 4):
            raise ValueError(
                f"BatchNorm.forward: expected x of shape (N, C) or (N, C, H, W), got "
                f"{getattr(x, 'shape', type(x).__name__)}"
            )
        if self.avg_mean.data is None:
            self._init_params(x)
        return batch_norm(x, self.gamma, self.beta, self.avg_mean.data, self.avg_var.data)
