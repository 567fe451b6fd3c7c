"""DeZero's simple core (steps 1-32): a graph whose gradients are plain arrays.

This is the core a learner builds in the first stages of DeZero, standing alone:
``Variable``, ``Function``, ``no_grad`` / ``using_config`` and the four arithmetic
operations with their operators.  It differs from :mod:`framework.autograd.core`
in one idea: ``Variable.grad`` is a NumPy array (or, for 0-d data, a NumPy
scalar, as in DeZero), not a ``Variable``, so the
backward pass is not itself recorded (no higher-order derivatives) and no
broadcasting is summed back (both operands of ``+`` must have one shape).

DeZero's steps 28 and 29 import it by name::

    from framework.autograd.core_simple import Variable, setup_variable
    setup_variable()

Its ``Variable`` is a class of its own: do not mix it with the full core's
variables or with ``framework.autograd.functions``.  ``setup_variable()`` gives
it its operators; it has already run when this module is imported.
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np

__all__ = [
    "Config",
    "using_config",
    "no_grad",
    "Variable",
    "Function",
    "as_array",
    "as_variable",
    "Add",
    "Mul",
    "Neg",
    "Sub",
    "Div",
    "Pow",
    "add",
    "mul",
    "neg",
    "sub",
    "rsub",
    "div",
    "rdiv",
    "pow",
    "setup_variable",
]


class Config:
    """``enable_backprop``: record the graph (False inside ``no_grad()``)."""

    enable_backprop = True


@contextlib.contextmanager
def using_config(name: str, value):
    """Set ``Config.<name>`` to ``value`` inside a ``with`` block, then restore it."""
    old_value = getattr(Config, name)
    setattr(Config, name, value)
    try:
        yield
    finally:
        setattr(Config, name, old_value)


def no_grad():
    """Run without recording the graph."""
    return using_config("enable_backprop", False)


class Variable:
    """A box for an array ``data``; after ``backward``, ``grad`` holds an array of its shape."""

    __array_priority__ = 200  # ndarray * Variable calls Variable.__rmul__

    def __init__(self, data, name: str | None = None):
        if data is not None and not isinstance(data, np.ndarray):
            raise TypeError(
                f"core_simple.Variable: expected data as a numpy.ndarray or None, got "
                f"{type(data).__name__}; wrap it first, e.g. Variable(np.array(data))"
            )
        self.data = data
        self.name = name
        self.grad = None
        self.creator = None
        self.generation = 0

    @property
    def shape(self) -> tuple:
        """Shape of ``data``."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """Number of axes of ``data``."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements of ``data``."""
        return self.data.size

    @property
    def dtype(self):
        """The dtype of ``data``."""
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        if self.data is None:
            return "variable(None)"
        return "variable(" + str(self.data).replace("\n", "\n" + " " * 9) + ")"

    def set_creator(self, func: Function) -> None:
        """Record ``func`` as the creator; the generation is one more than its."""
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self) -> None:
        """Reset ``grad`` to None (gradients otherwise accumulate)."""
        self.grad = None

    def backward(self, retain_grad: bool = False) -> None:
        """Backpropagate from this variable; every function runs once, youngest first.

        ``retain_grad`` keeps the gradients of intermediate variables too.
        """
        if self.grad is None:
            self.grad = np.ones_like(self.data)
        funcs, seen = [], set()

        def add_func(f):
            if f not in seen:
                seen.add(f)
                funcs.append(f)
                funcs.sort(key=lambda func: func.generation)

        if self.creator is not None:
            add_func(self.creator)
        while funcs:
            f = funcs.pop()  # the highest generation
            gys = [output().grad for output in f.outputs]
            gxs = f.backward(*gys)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for x, gx in zip(f.inputs, gxs, strict=True):
                x.grad = gx if x.grad is None else x.grad + gx  # a new array: never in place
                if x.creator is not None:
                    add_func(x.creator)
            if not retain_grad:
                for y in f.outputs:
                    y().grad = None


def as_variable(obj) -> Variable:
    """Return ``obj`` if it is a Variable, else wrap it (numbers become 0-d arrays)."""
    return obj if isinstance(obj, Variable) else Variable(as_array(obj))


def as_array(x):
    """Turn a Python or NumPy scalar into a 0-d array; leave arrays."""
    return np.array(x) if np.isscalar(x) else x


class Function:
    """A node: ``forward`` on arrays, ``backward`` from output to input gradients (arrays)."""

    def __call__(self, *inputs):
        inputs = [as_variable(x) for x in inputs]
        ys = self.forward(*[x.data for x in inputs])
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Variable(as_array(y)) for y in ys]
        if Config.enable_backprop:
            self.generation = max(x.generation for x in inputs)
            for output in outputs:
                output.set_creator(self)
            self.inputs = inputs
            self.outputs = [weakref.ref(output) for output in outputs]
        return outputs if len(outputs) > 1 else outputs[0]

    def forward(self, *xs):
        """Compute the outputs from arrays."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def backward(self, *gys):
        """Return the input gradients (arrays) given the output gradients."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not written")


class Add(Function):
    """``y = x0 + x1``; ``gx0 = gx1 = gy``."""

    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return gy, gy


class Mul(Function):
    """``y = x0 * x1``; ``gx0 = gy * x1``, ``gx1 = gy * x0``."""

    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs[0].data, self.inputs[1].data
        return gy * x1, gy * x0


class Neg(Function):
    """``y = -x``; ``gx = -gy``."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Sub(Function):
    """``y = x0 - x1``; ``gx0 = gy``, ``gx1 = -gy``."""

    def forward(self, x0, x1):
        return x0 - x1

    def backward(self, gy):
        return gy, -gy


class Div(Function):
    """``y = x0 / x1``; ``gx0 = gy / x1``, ``gx1 = -gy x0 / x1**2``."""

    def forward(self, x0, x1):
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.inputs[0].data, self.inputs[1].data
        return gy / x1, gy * (-x0 / x1**2)


class Pow(Function):
    """``y = x ** c`` for a constant ``c``; ``gx = c x ** (c - 1) gy``."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x**self.c

    def backward(self, gy):
        x = self.inputs[0].data
        return self.c * x ** (self.c - 1) * gy


def add(x0, x1) -> Variable:
    """``x0 + x1``."""
    return Add()(x0, as_array(x1))


def mul(x0, x1) -> Variable:
    """``x0 * x1``."""
    return Mul()(x0, as_array(x1))


def neg(x) -> Variable:
    """``-x``."""
    return Neg()(x)


def sub(x0, x1) -> Variable:
    """``x0 - x1``."""
    return Sub()(x0, as_array(x1))


def rsub(x0, x1) -> Variable:
    """``x1 - x0`` (for ``2.0 - x``)."""
    return Sub()(as_array(x1), x0)


def div(x0, x1) -> Variable:
    """``x0 / x1``."""
    return Div()(x0, as_array(x1))


def rdiv(x0, x1) -> Variable:
    """``x1 / x0`` (for ``1.0 / x``)."""
    return Div()(as_array(x1), x0)


def pow(x, c) -> Variable:
    """``x ** c`` for a Python number ``c``."""
    return Pow(c)(x)


def setup_variable() -> None:
    """Attach ``+ - * / **`` and unary ``-`` to this module's ``Variable``."""
    Variable.__add__ = add
    Variable.__radd__ = add
    Variable.__mul__ = mul
    Variable.__rmul__ = mul
    Variable.__neg__ = neg
    Variable.__sub__ = sub
    Variable.__rsub__ = rsub
    Variable.__truediv__ = div
    Variable.__rtruediv__ = rdiv
    Variable.__pow__ = pow


setup_variable()
