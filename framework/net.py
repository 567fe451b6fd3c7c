"""Sequential: a net that chains hand-written layers and ends in a loss layer.

``predict`` runs the layers forward, ``loss`` adds the loss layer, ``gradient``
runs everything backward and returns the gradients, named like the parameters:
``"<layer index>.<name>"`` (``"0.W"``, ``"0.b"``, ``"2.W"`` ...; a nested
Sequential gives ``"1.0.W"``).  ``params`` holds the very arrays of the layers,
so an optimizer's in-place update trains the net.
"""

from __future__ import annotations

import inspect

import numpy as np

from .backend import device_of, get_array_module, move_arrays, to_device
from .gradient import numerical_gradient
from .layers import SoftmaxWithLoss
from .npzfile import load_arrays, mismatches, save_arrays

__all__ = ["Sequential", "accepts_keyword", "batch_mover", "class_indices"]


def accepts_keyword(fn, name: str) -> bool:
    """Return True when ``fn`` takes an argument called ``name``.

    The one "does this forward take ``train``?" probe of the package: ``Sequential``,
    the ``Trainer`` and the plots ask ``accepts_keyword(layer.forward, "train")`` once,
    then tell only such layers (Dropout, BatchNormalization) the mode.  A callable
    whose signature cannot be read (a builtin) takes nothing by name: False.
    """
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


_accepts = accepts_keyword  # the former private name, still imported by older code


def batch_mover(x, device):
    """Return a function that puts a batch of ``x`` on ``device`` ("cpu" or "gpu").

    The data set stays where it is (usually NumPy, in host memory); each batch is
    copied over only when the net's weights live elsewhere.  With ``device`` None
    (a net that does not say) or already ``x``'s device, batches pass as they are.
    """
    if device is None or device_of(x) == device:
        return lambda a: a
    return lambda a: to_device(a, device)


def class_indices(t, scores_shape, who: str = "Sequential.accuracy"):
    """``t`` as class indices (N,): one-hot rows only when ``t`` has the scores' shape.

    Integer labels outside ``[0, C)`` are refused: they would count as wrong
    answers and give a silently low accuracy.
    """
    if t.shape == tuple(scores_shape) and scores_shape[1] > 1:
        return t.argmax(axis=1)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t.reshape(-1)
    if t.ndim != 1:
        raise ValueError(
            f"{who}: expected t as class indices of shape (N,) or (N, 1), or "
            f"one-hot rows of the scores' shape (N, {scores_shape[1]}), got shape {t.shape}"
        )
    if t.dtype.kind in "iu" and len(t) and (int(t.min()) < 0 or int(t.max()) >= scores_shape[1]):
        raise ValueError(
            f"{who}: t holds labels from {int(t.min())} to {int(t.max())}, but the net gives "
            f"{scores_shape[1]} scores per sample; expected labels in [0, {scores_shape[1] - 1}]"
        )
    return t


def _shape_text(sample_shape) -> str:
    return "(" + ", ".join(["N", *map(str, sample_shape)]) + ")"


def _check_layers(layers) -> list:
    """Return ``layers`` as a list, or say what is wrong with it (once, at construction).

    Refused: a single layer instead of a list, a layer class instead of an object,
    an object without ``forward``/``backward``, integer parameters, and the same
    layer object at two places (it would keep only its last input, so the
    gradients of the first place would be silently wrong).
    """
    if hasattr(layers, "forward") or isinstance(layers, (str, bytes)):
        raise TypeError(
            f"Sequential: expected a list of layers, got a single {type(layers).__name__}; "
            f"wrap it in a list: Sequential([layer])"
        )
    try:
        layers = list(layers)
    except TypeError:
        raise TypeError(
            f"Sequential: expected a list of layers, got {type(layers).__name__}; "
            "e.g. Sequential([Affine(784, 100), Relu(), Affine(100, 10)])"
        ) from None
    seen = {}
    for path, layer in _walk(layers):
        if inspect.isclass(layer):
            raise TypeError(
                f"Sequential: layer {path} is the class {layer.__name__}, not a layer; "
                f"use an instance: {layer.__name__}(...)"
            )
        if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
            raise TypeError(
                f"Sequential: layer {path} ({type(layer).__name__}) has no forward/backward "
                "methods; expected a layer object such as Affine(784, 100) or Relu()"
            )
        if id(layer) in seen:
            name = type(layer).__name__
            raise ValueError(
                f"Sequential: the same {name} object is layer {seen[id(layer)]} and layer "
                f"{path}; a layer keeps what its last forward saw, so one object used twice "
                f"gives wrong gradients; make two instances ({name}(...) and {name}(...))"
            )
        seen[id(layer)] = path
        params = getattr(layer, "params", None)
        for name, p in params.items() if isinstance(params, dict) else ():
            kind = getattr(getattr(p, "dtype", None), "kind", None)
            if kind != "f":
                got = p.dtype if kind is not None else type(p).__name__
                raise TypeError(
                    f"Sequential: layer {path} ({type(layer).__name__}) has parameter "
                    f"{name} of type {got}; gradient steps need floats: expected a float "
                    f"array, e.g. {name}.astype(np.float32)"
                )
    return layers


def _walk(layers, prefix=""):
    """Yield ``(position, layer)`` for ``layers`` and the layers of nested Sequentials."""
    for i, layer in enumerate(layers):
        yield f"{prefix}{i}", layer
        if isinstance(layer, Sequential):
            yield from _walk(layer.layers, f"{prefix}{i}.")


def _check_loss(loss):
    """Return ``loss`` when it is a loss layer object, else raise ``TypeError`` with a hint."""
    if isinstance(loss, str) or inspect.isclass(loss) or not hasattr(loss, "forward"):
        got = loss.__name__ if inspect.isclass(loss) else repr(loss)
        raise TypeError(
            f"Sequential: expected loss to be a loss layer object, got {got}; "
            "use e.g. loss=SoftmaxWithLoss() or loss=MeanSquaredError()"
        )
    return loss


def _check_batch_size(who: str, batch_size) -> None:
    """Raise unless ``batch_size`` is an int of at least 1."""
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool):
        raise TypeError(
            f"{who}: expected batch_size to be an int, got {type(batch_size).__name__}"
        )
    if batch_size < 1:
        raise ValueError(f"{who}: expected batch_size >= 1, got {batch_size}")


def _check_samples(who: str, x) -> None:
    """Raise unless ``x`` is an array holding at least one sample."""
    shape = getattr(x, "shape", None)
    if not shape:
        got = type(x).__name__ if shape is None else f"a 0-d array {x!r}"
        raise TypeError(f"{who}: expected x to be an array with one row per sample, got {got}")
    if shape[0] == 0:
        raise ValueError(
            f"{who}: x holds no samples (shape {tuple(shape)}); expected at least one"
        )


def _has_params_only_twin(layer) -> bool:
    """Tell whether the class that defines ``layer.backward`` also has ``backward_params_only``.

    A subclass that overrides only ``backward`` keeps its own backward: the fast twin
    (``dW`` and ``db`` without ``dx``, for a net's first layer) is used only where the
    class that defines ``backward`` also defines the twin.
    """
    owner = next((c for c in type(layer).__mro__ if "backward" in vars(c)), None)
    return owner is not None and "backward_params_only" in vars(owner)


class Sequential:
    """Layers applied in order, then a loss layer.

    Parameters
    ----------
    layers : list
        Objects with ``forward(x)`` / ``backward(dout)``; those with parameters
        expose ``params`` and ``grads`` dicts, those with running statistics a
        ``state`` dict.  A layer whose ``forward`` takes ``train`` is told the mode.
    loss : loss layer, default ``SoftmaxWithLoss()``
        ``forward(y, t)`` gives the loss, ``backward(dout=1)`` its gradient.
    """

    def __init__(self, layers, loss=None):
        layers = _check_layers(layers)
        loss = SoftmaxWithLoss() if loss is None else _check_loss(loss)
        self.layers = layers
        self.loss_layer = loss
        self._takes_train = [accepts_keyword(layer.forward, "train") for layer in layers]
        self._first_skips_dx = bool(layers) and _has_params_only_twin(layers[0])
        self._from_loss = False  # did the last forward pass end in the loss layer?

    # -- parameters -----------------------------------------------------------
    def _flat(self, attr: str) -> dict:
        out = {}
        for i, layer in enumerate(self.layers):
            for name, arr in getattr(layer, attr, {}).items():
                out[f"{i}.{name}"] = arr
        return out

    @property
    def params(self) -> dict:
        """All parameters, ``{"0.W": layers[0].W, ...}`` (the layers' own arrays)."""
        return self._flat("params")

    @property
    def grads(self) -> dict:
        """Gradients from the last ``backward``, keyed like ``params``."""
        return self._flat("grads")

    @property
    def state(self) -> dict:
        """Arrays that are not trained but saved, e.g. BatchNorm's running mean."""
        return self._flat("state")

    # -- devices --------------------------------------------------------------
    @property
    def device(self) -> str:
        """``"gpu"`` when the weights are CuPy arrays, else ``"cpu"``."""
        params = self.params
        return device_of(next(iter(params.values()))) if params else "cpu"

    def to_gpu(self) -> Sequential:
        """Move every layer's arrays (weights, grads, running statistics) to the GPU."""
        return self._move("gpu")

    def to_cpu(self) -> Sequential:
        """Move every layer's arrays back to NumPy."""
        return self._move("cpu")

    def _move(self, device: str) -> Sequential:
        for layer in [*self.layers, self.loss_layer]:
            mover = getattr(layer, f"to_{device}", None)
            if mover is not None:
                mover()
            else:
                move_arrays(layer, device)
        return self

    def _batch_mover(self, x):
        """Return a function that puts a batch of ``x`` where the weights are."""
        return batch_mover(x, self.device)

    # -- forward and backward -------------------------------------------------
    def forward(self, x, train: bool = False):
        """Run every layer on ``x``; layers that take ``train`` get the mode."""
        self._from_loss = False
        for layer, takes_train in zip(self.layers, self._takes_train, strict=True):
            x = layer.forward(x, train=train) if takes_train else layer.forward(x)
        return x

    def predict(self, x, train: bool = False, batch_size: int = 1000):
        """Scores for ``x``, computed ``batch_size`` samples at a time in test mode.

        Running in batches keeps memory bounded for 10,000 test images.  On a
        GPU net, NumPy input is moved over one batch at a time; the scores stay
        on the net's device.
        """
        _check_samples("Sequential.predict", x)
        _check_batch_size("Sequential.predict", batch_size)
        move = self._batch_mover(x)
        if train or len(x) <= batch_size:
            return self.forward(move(x), train)
        outs = [self.forward(move(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
        return get_array_module(outs[0]).concatenate(outs)

    def loss(self, x, t, train: bool = False) -> float:
        """Loss of the net on ``(x, t)``."""
        _check_samples("Sequential.loss", x)
        loss = self.loss_layer.forward(self.forward(x, train), t)
        self._from_loss = True
        return loss

    def backward(self, dout=1, need_dx: bool | None = None):
        """Backpropagate; fill every layer's grads; return ``dx``.

        After ``loss``, ``dout`` is the gradient of the loss and the first layer
        skips its input gradient when it can (nobody needs it): ``None`` is
        returned.  After ``forward`` (a Sequential nested in another one is used
        as a layer), ``dout`` is the gradient of the output and ``dx`` is returned.
        """
        if need_dx is None:
            need_dx = not self._from_loss
        if self._from_loss:
            dout = self.loss_layer.backward(dout)
        for i in range(len(self.layers) - 1, 0, -1):
            dout = self.layers[i].backward(dout)
        if not self.layers:
            return dout
        if self._first_skips_dx and not need_dx:
            return self.layers[0].backward_params_only(dout)
        return self.layers[0].backward(dout)

    def gradient(self, x, t) -> dict:
        """Gradients of the training-mode loss by backprop, keyed like ``params``.

        The returned arrays are the layers' own ``dW``, ``db``, ...; each backward
        binds new ones (as the book does), so the next call leaves them intact.
        """
        self.loss(x, t, train=True)
        self.backward()
        return self.grads

    def numerical_gradient(self, x, t, eps: float = 1e-4) -> dict:
        """Gradients by central differences (slow; use float64): the referee for backprop."""

        def f(_):
            return self.loss(x, t, train=True)

        return {k: numerical_gradient(f, p, eps) for k, p in self.params.items()}

    def accuracy(self, x, t, batch_size: int = 1000) -> float:
        """Fraction of samples whose top score is the true class.

        ``t`` holds class indices, of shape (N,) or (N, 1), or one-hot rows; it is
        read as one-hot only when it has the scores' shape (N, C).
        """
        _check_samples("Sequential.accuracy", x)
        _check_batch_size("Sequential.accuracy", batch_size)
        if len(x) != len(t):
            raise ValueError(
                f"Sequential.accuracy: x has {len(x)} samples but t has {len(t)}; "
                "they must hold the same samples"
            )
        move = self._batch_mover(x)
        correct = 0
        for i in range(0, len(x), batch_size):
            scores = self.forward(move(x[i : i + batch_size]))
            tb = class_indices(move(t[i : i + batch_size]), scores.shape)
            correct += int((scores.argmax(axis=1) == tb).sum())
        return correct / len(x)

    # -- saving and loading ---------------------------------------------------
    def save(self, path) -> None:
        """Write parameters and state to an ``.npz`` file (atomic: all or nothing).

        The arrays go to a temporary file in the same folder, which then replaces
        ``path`` in one step, so a failed save leaves any old file intact.
        """
        save_arrays(path, {**self.params, **self.state})

    def load(self, path) -> None:
        """Read weights saved by ``save``; every name, shape and dtype is checked first.

        Raises
        ------
        ValueError
            When the file is not a readable ``.npz`` or does not match this net; the
            net is then left exactly as it was.
        """
        loaded = load_arrays(path, "Sequential.load")
        targets = {**self.params, **self.state}
        problems = mismatches(targets, loaded)
        if problems:
            raise ValueError(
                f"Sequential.load: {path} does not match this net: " + "; ".join(problems)
            )
        for k, dst in targets.items():
            dst[...] = get_array_module(dst).asarray(loaded[k])

    # -- description ----------------------------------------------------------
    def summary(self, input_shape: tuple | None = None, print_fn=print) -> str:
        """Print a table of layers, output shapes and parameter counts; return it.

        ``input_shape`` is one sample's shape, e.g. ``(784,)`` or ``(1, 28, 28)``;
        without it the width of a first ``Affine`` is used, if there is one.
        """
        if input_shape is None:
            W = getattr(self.layers[0], "W", None) if self.layers else None
            if W is None or W.ndim != 2:
                raise ValueError(
                    "Sequential.summary: cannot guess the input shape; pass one sample's "
                    "shape, e.g. summary((1, 28, 28))"
                )
            input_shape = (W.shape[0],)
        params = self.params
        dtype = next(iter(params.values())).dtype if params else np.float32
        xp = get_array_module(*params.values()) if params else np
        x = xp.zeros((1, *input_shape), dtype=dtype)
        rows = [("#", "layer", "output shape", "params")]
        rows.append(("", "input", _shape_text(input_shape), ""))
        total = 0
        for i, layer in enumerate(self.layers):
            x = layer.forward(x, train=False) if self._takes_train[i] else layer.forward(x)
            count = sum(int(p.size) for p in getattr(layer, "params", {}).values())
            total += count
            rows.append((str(i), type(layer).__name__, _shape_text(x.shape[1:]), f"{count:,}"))
        rows.append(("", type(self.loss_layer).__name__, "loss", ""))
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(f"total parameters: {total:,}")
        text = "\n".join(line.rstrip() for line in lines)
        print_fn(text)
        return text

    def __repr__(self) -> str:
        inner = ",\n".join(
            f"  ({i}) {type(layer).__name__}" for i, layer in enumerate(self.layers)
        )
        return f"Sequential(\n{inner},\n  loss={type(self.loss_layer).__name__}\n)"
