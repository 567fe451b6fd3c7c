"""The bridge: any autograd function or model, used as a layer of a ``Sequential``.

The two ways of getting a gradient meet here.  ``FunctionLayer(fn)`` has the
layer contract (``forward(x)`` returns an array, ``backward(dout)`` returns
``dx``), but nobody wrote its backward: ``forward`` records ``fn``'s graph and
``backward`` back-propagates ``dout`` through it.  So a composed activation such
as ``composed.swish`` drops into a ``Sequential`` with no derivative written.
"""

from __future__ import annotations

from ..autograd.core import Parameter, Variable, as_variable, using_config
from ..autograd.layers import Layer
from ..backend import get_array_module
from ._checks import check_dout, require_forward

__all__ = ["FunctionLayer"]


class FunctionLayer:
    """Run an autograd function in a layer net: forward records a graph, backward walks it.

    forward: ``x -> Variable(x)``, ``y = fn(x)``, returns ``y.data``.
    backward: seeds ``y.grad = dout``, back-propagates, returns ``x.grad`` (shape of x).

    Parameters
    ----------
    fn : callable
        Takes a Variable, returns a Variable: an ``F`` function, a composed
        activation, a lambda, or an autograd ``Layer`` / ``Model``.
    params : dict of str -> Parameter, optional
        Parameters that ``fn`` uses and the optimizer should train.  When ``fn``
        is an autograd ``Layer`` they are found by themselves, named as in
        ``save_weights`` (``"l0/W"``).

    Attributes
    ----------
    params : dict
        Name -> ``Parameter.data``, the very arrays the Parameters hold, so an
        optimizer's in-place update trains them.
    grads : dict
        Name -> the current gradient array.  Back-propagation gives each
        Parameter a *new* ``grad`` Variable, so ``grads`` is a property read
        after ``backward`` (as ``Sequential.gradient`` does), never a dict to keep.
    """

    def __init__(self, fn, params: dict | None = None):
        if not callable(fn):
            raise TypeError(f"FunctionLayer: expected a callable fn, got {type(fn).__name__}")
        found = {}
        if isinstance(fn, Layer):
            fn._flatten_params(found)
        for name, p in (params or {}).items():
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"FunctionLayer: expected params[{name!r}] to be a Parameter, got "
                    f"{type(p).__name__}; wrap the array: Parameter(array)"
                )
            found[name] = p
        self.fn = fn
        self._params = found
        self.x = None  # the input Variable of the last forward
        self.y = None  # the output Variable, end of the recorded graph

    @property
    def params(self) -> dict:
        """Parameters by name: the arrays inside the Parameters (initialised ones only)."""
        return {name: p.data for name, p in self._params.items() if p.data is not None}

    @property
    def grads(self) -> dict:
        """Gradients by name from the last backward (zeros for a parameter left unused)."""
        out = {}
        for name, p in self._params.items():
            if p.data is None:  # a lazily sized layer that has not run yet
                continue
            xp = get_array_module(p.data)
            out[name] = xp.zeros_like(p.data) if p.grad is None else p.grad.data
        return out

    def forward(self, x, train: bool = False):
        self.x = Variable(x)
        with using_config("train", train):
            self.y = as_variable(self.fn(self.x))
        return self.y.data

    def backward(self, dout):
        require_forward(self, self.y)
        check_dout(self, dout, self.y.shape)
        for p in self._params.values():
            p.cleargrad()  # gradients accumulate otherwise
        self.x.cleargrad()
        self.y.backward(grad=Variable(dout))
        if self.x.grad is None:  # the output does not depend on x
            return get_array_module(dout).zeros_like(self.x.data)
        return self.x.grad.data

    def to_gpu(self) -> FunctionLayer:
        """Move the Parameters to the GPU (the recorded graph is dropped)."""
        for p in self._params.values():
            p.to_gpu()
        self.x = self.y = None
        return self

    def to_cpu(self) -> FunctionLayer:
        """Move the Parameters back to NumPy (the recorded graph is dropped)."""
        for p in self._params.values():
            p.to_cpu()
        self.x = self.y = None
        return self

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", type(self.fn).__name__)
        return f"FunctionLayer({name})"
