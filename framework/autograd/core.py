"""The computation graph: ``Variable``, ``Function``, ``Config``.

Define-by-run, as in DeZero's ``core.py``: calling a ``Function`` on variables
computes the output *and* records the call, so every output knows its
``creator`` and every function its ``inputs``.  ``Variable.backward`` walks that
record from the output back to the inputs, youngest function first (by
``generation``), and each function turns the gradient of its outputs into the
gradient of its inputs.  ``backward`` of every function is written with
``Variable`` operations, so with ``create_graph=True`` the backward pass is
itself recorded and can be differentiated again (higher-order derivatives).

Memory: a function keeps its inputs (strong references) and its outputs only as
weak references, so a graph lives exactly as long as its final output does and
no reference cycle keeps it alive.

``Variable`` gets its operators (``+ - * / ** @``, unary ``-``, indexing) and
its tensor methods (``reshape``, ``transpose``, ``T``, ``sum`` ...) in one place,
``operators.setup_variable()``, run when ``framework.autograd`` is imported; the
other functions are in ``functions`` (``F``).
"""

from __future__ import annotations

import contextlib
import heapq
import re
import sys
import weakref

import numpy as np

from .. import backend

__all__ = [
    "Config",
    "using_config",
    "no_grad",
    "test_mode",
    "Variable",
    "Parameter",
    "Function",
    "as_array",
    "as_variable",
    "ShapeError",
]


# DeZero's core.py also holds the arithmetic nodes and ``setup_variable``; ours are in
# ``operators`` (which imports this module), so ``from framework.autograd.core import
# add`` finds them there when asked (PEP 562), and no import cycle is made.
_DEZERO_CORE_NAMES = frozenset(
    "Add add Sub sub rsub Mul mul Div div rdiv Neg neg Pow pow setup_variable".split()
)


def __getattr__(name):
    if name in _DEZERO_CORE_NAMES:
        from . import operators

        return getattr(operators, name)
    if name == "array_types":  # DeZero's tuple of the array classes a Variable may hold
        cp = sys.modules.get("cupy")
        return (np.ndarray,) if cp is None else (np.ndarray, cp.ndarray)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- configuration ------------------------------------------------------------
class Config:
    """Global switches: ``enable_backprop`` (record graphs) and ``train`` (dropout, BN)."""

    enable_backprop = True
    train = True


@contextlib.contextmanager
def using_config(name: str, value):
    """Set ``Config.<name>`` to ``value`` inside a ``with`` block, then restore it."""
    if not hasattr(Config, name):
        raise ValueError(
            f"using_config: unknown setting {name!r}; expected 'enable_backprop' or 'train'"
        )
    old_value = getattr(Config, name)
    setattr(Config, name, value)
    try:
        yield
    finally:
        setattr(Config, name, old_value)


def no_grad():
    """Run without recording the graph (inference, or updating weights by hand)."""
    return using_config("enable_backprop", False)


def test_mode():
    """Run in test mode: dropout passes inputs through, batch norm uses running stats."""
    return using_config("train", False)


# -- Variable -----------------------------------------------------------------
def _is_array(data) -> bool:
    if isinstance(data, np.ndarray):
        return True
    cp = sys.modules.get("cupy")
    return cp is not None and isinstance(data, cp.ndarray)


class Variable:
    """A node of the graph that holds an array ``data`` and, after backward, its ``grad``.

    Parameters
    ----------
    data : numpy.ndarray, cupy.ndarray or None
        The value.  Wrap Python numbers and lists first: ``Variable(np.array(1.0))``.
    name : str, optional
        Shown in graph drawings.

    Attributes
    ----------
    grad : Variable or None
        Gradient of the final output with respect to this variable, filled by
        ``backward``.  Gradients *accumulate*: a second ``backward`` adds to it
        (``x.grad = x.grad + gx``) until ``cleargrad()`` resets it to None, so
        call ``cleargrad()`` (or ``model.cleargrads()``) before each new backward.
    creator : Function or None
        The function that produced this variable (None for inputs and parameters).
    generation : int
        Distance from the inputs; ``backward`` runs younger functions first.

    Notes
    -----
    ``+ - * / ** @``, unary ``-`` and indexing (with broadcasting), and the methods
    ``reshape``, ``transpose``, ``T``, ``sum``, ``max``, ``min``, ``dot`` are attached
    by ``operators.setup_variable()``.
    """

    __array_priority__ = 200  # ndarray + Variable calls Variable.__radd__

    def __init__(self, data, name: str | None = None):
        if not (data is None or isinstance(data, np.ndarray) or _is_array(data)):
            raise TypeError(
                f"Variable: expected data as a numpy.ndarray, a cupy.ndarray or None, "
                f"got {type(data).__name__}; wrap it first, e.g. Variable(np.array(data))"
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
        p = str(self.data).replace("\n", "\n" + " " * 9)
        return f"variable({p})"

    def set_creator(self, func: Function) -> None:
        """Record ``func`` as the creator; the generation is one more than its."""
        self.creator = func
        self.generation = func.generation + 1

    def unchain(self) -> None:
        """Forget the creator, cutting the graph above this variable."""
        self.creator = None

    def cleargrad(self) -> None:
        """Reset ``grad`` to None (gradients otherwise accumulate)."""
        self.grad = None

    def backward(self, retain_grad: bool = False, create_graph: bool = False, grad=None):
        """Backpropagate from this variable to every input of the graph.

        Each function runs its ``backward`` exactly once, after all functions that
        consumed its outputs (highest ``generation`` first).  An input used twice
        receives the sum of both gradients.

        Parameters
        ----------
        retain_grad : bool
            Keep ``grad`` on intermediate variables (by default only the inputs
            and parameters keep theirs, to save memory).
        create_graph : bool
            Record the backward pass too, so that ``x.grad.backward()`` gives the
            second derivative.
        grad : array or Variable, optional
            The gradient to start from, of this variable's shape.  Without it the
            seed is ``self.grad`` if set, else ones: for a non-scalar output that
            means the gradient of ``sum(y)``, as in DeZero.

        Raises
        ------
        ValueError
            When ``grad`` does not have the shape of this variable.
        """
        self._seed_grad(grad)
        funcs, seen, leaves = [], set(), []

        def add_func(f):  # a max-heap on generation: heapq pops the smallest, so negate
            if f not in seen:
                seen.add(f)
                heapq.heappush(funcs, (-f.generation, len(seen), f))  # len: a tie-breaker

        if self.creator is not None:
            add_func(self.creator)
        # The backward pass is itself recorded only when create_graph is True.
        with using_config("enable_backprop", create_graph):
            while funcs:
                f = heapq.heappop(funcs)[2]
                gys = [output().grad for output in f.outputs]  # outputs are weakrefs
                gxs = f.backward(*gys)
                if not isinstance(gxs, tuple):
                    gxs = (gxs,)
                for x, gx in zip(f.inputs, gxs, strict=False):
                    if gx is None:  # no gradient for this input (e.g. labels)
                        continue
                    # Never add in place: x.grad may be shared with another variable.
                    x.grad = gx if x.grad is None else x.grad + gx
                    if x.creator is not None:
                        add_func(x.creator)
                    else:
                        leaves.append(x)
                if not retain_grad:
                    for y in f.outputs:
                        y().grad = None
        if not create_graph:
            _own_grads(leaves)

    def _seed_grad(self, grad) -> None:
        """Set the gradient ``backward`` starts from: ``grad``, else ``self.grad``, else ones."""
        if grad is not None:
            self.grad = as_variable(grad)
        if self.grad is None:
            xp = backend.get_array_module(self.data)
            self.grad = Variable(xp.ones_like(self.data))
        if self.grad.shape != self.shape:
            raise ValueError(
                f"Variable.backward: expected a starting grad of shape {self.shape} (the "
                f"shape of the variable), got {self.grad.shape}"
            )

    def unchain_backward(self) -> None:
        """Cut the graph behind this variable: every variable it came from forgets its creator.

        This variable keeps its own creator; the data stays.  Used to free a long
        graph (truncated backpropagation) or to stop gradients at a point.
        """
        funcs = [self.creator] if self.creator is not None else []
        while funcs:
            f = funcs.pop()
            for x in f.inputs:
                if x.creator is not None:
                    funcs.append(x.creator)
                    x.unchain()

    def to_cpu(self) -> None:
        """Move ``data`` to the host (NumPy)."""
        if self.data is not None:
            self.data = backend.to_cpu(self.data)

    def to_gpu(self) -> None:
        """Move ``data`` to the GPU (CuPy); ``RuntimeError`` when there is none."""
        if self.data is not None:
            self.data = backend.to_gpu(self.data)


class Parameter(Variable):
    """A ``Variable`` that a ``Layer`` trains; layers find their parameters by this type."""


def as_variable(obj) -> Variable:
    """Return ``obj`` if it is a Variable, else wrap it (numbers become 0-d arrays)."""
    if isinstance(obj, Variable):
        return obj
    return Variable(as_array(obj))


# Python and NumPy numbers (``x.sum()`` of a NumPy array returns a NumPy scalar).
SCALAR_TYPES = (int, float, complex, np.generic)


def as_array(x, array_module=np):
    """Turn a Python or NumPy scalar into a 0-d array of ``array_module``; leave arrays."""
    if isinstance(x, np.ndarray) or not isinstance(x, SCALAR_TYPES):  # ndarray: the common case
        return x
    return array_module.asarray(x)


def _own_grads(leaves) -> None:
    """Give every input and parameter a writable gradient array of its own.

    ``Add`` hands one gradient to both of its inputs and ``Sum`` a read-only
    broadcast view; an optimizer hook that changes gradients in place (weight
    decay, clipping) would then change two at once, or fail.  Copy only those.
    """
    owners = set()
    for x in dict.fromkeys(leaves):  # each leaf once, in order
        g = x.grad.data
        owner = id(g if g.base is None else g.base)
        if owner in owners or not getattr(g.flags, "writeable", True):  # CuPy: always
            x.grad = Variable(g.copy())
        else:
            owners.add(owner)


# -- Function -----------------------------------------------------------------
class Function:
    """A node that maps input variables to output variables and knows its derivative.

    Subclasses write ``forward(*xs)`` on raw arrays and ``backward(*gys)`` with
    ``Variable`` operations; they may read ``self.inputs`` and, through the weak
    references ``self.outputs``, their outputs.  ``backward`` returns one gradient
    per input, or None for an input that gets none.

    ``self.needs_input_grad[i]`` (for ``backward``) is False when input ``i`` was
    passed as a plain array: it is wrapped in a Variable here, and nobody can read
    that Variable's gradient, so an expensive backward (``linear``, ``conv2d``) may
    skip it, e.g. the input gradient of a network's first layer.

    Like every attribute of the graph (``inputs``, ``outputs``, ``generation``), it
    is recorded only while ``Config.enable_backprop`` is True: a ``backward`` run
    without ``create_graph`` builds no graph, and saves the bookkeeping.
    """

    def __call__(self, *inputs):
        variables = [as_variable(x) for x in inputs]
        xs = [x.data for x in variables]
        try:
            ys = self.forward(*xs)
        except (ValueError, IndexError, TypeError) as err:  # say NumPy's error in our words
            raise _forward_error(self, err, xs) from err
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Variable(as_array(y)) for y in ys]  # a NumPy scalar is on the host
        if Config.enable_backprop:
            self.generation = max([x.generation for x in variables])
            for output in outputs:
                output.set_creator(self)
            self.inputs = variables
            self.outputs = [weakref.ref(y) for y in outputs]
            self.needs_input_grad = tuple([isinstance(x, Variable) for x in inputs])
        return outputs if len(outputs) > 1 else outputs[0]

    def forward(self, *xs):
        """Compute the outputs from raw arrays."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def backward(self, *gys):
        """Return the input gradients (Variables) given the output gradients."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not written")


# -- errors -------------------------------------------------------------------
class ShapeError(ValueError, IndexError):
    """A shape or index error of a ``Function``, naming it and the shapes it was given.

    A ``ValueError`` (the framework's type for shapes) that is also an
    ``IndexError``, as NumPy's ``AxisError`` is, so that ``for row in x`` over a
    Variable stops at its end as it does over an array.
    """


_NAMED = re.compile(r"^[A-Za-z_][\w.]*: ")  # a message that already names its function
_GRAPH_ATTRIBUTES = frozenset({"inputs", "outputs", "generation", "needs_input_grad"})


def _forward_error(f: Function, err: Exception, xs) -> Exception:
    """``err`` from ``f.forward`` told again: the F function, the node's settings, the shapes.

    Errors the framework wrote itself (``"linear: ..."``) already say all that and
    are returned unchanged.
    """
    if _NAMED.match(str(err)):
        return err
    name = type(f).__name__
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()  # GetItem -> get_item
    F = sys.modules.get(f"{__package__}.functions")
    where = f"F.{snake} ({name}.forward)" if hasattr(F, snake) else f"{name}.forward"
    shapes = " and ".join(str(getattr(x, "shape", type(x).__name__)) for x in xs)
    settings = ", ".join(
        f"{k}={v!r}"
        for k, v in vars(f).items()
        if k not in _GRAPH_ATTRIBUTES and len(repr(v)) < 60
    )
    message = f"{where}: {err}; got input{'s' if len(xs) > 1 else ''} of shape {shapes}"
    message += f" ({settings})" if settings else ""
    message += "; expected inputs and settings that fit each other (see the shapes above)"
    return TypeError(message) if isinstance(err, TypeError) else ShapeError(message)
