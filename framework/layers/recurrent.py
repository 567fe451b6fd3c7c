"""Hand-written layers for sequences: ``Embedding``, ``RNN`` and ``LSTM``.

The recurrent layers work on a whole block of time steps at once, as the time
layers of "Deep Learning from Scratch 2" do: ``forward(xs)`` takes ``xs`` of shape
(N, T, D) and returns the hidden states ``hs`` of shape (N, T, H);
``backward(dhs)`` returns ``dxs`` and fills the parameter gradients.

The last hidden state (and, for the LSTM, the last cell state) is carried into
the next ``forward`` call, so a long sequence can be fed block by block;
``reset_state()`` starts a new sequence.  ``backward`` stops at the start of the
block: the carried state counts as a constant.  This is *truncated
backpropagation through time*, what DeZero's ``loss.unchain_backward()`` does.

Dtypes: a layer computes in its weights' dtype (float32 unless built otherwise);
float input of another dtype is converted, integer input is refused.
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module, scatter_add
from ..functions import sigmoid
from ..initializers import init_weight
from ._checks import check_device, check_float, checked_dout

__all__ = ["Embedding", "RNN", "LSTM"]


def _is_size(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_sequence(layer, xs, D: int, weight):
    """Check that ``xs`` is a float (N, T, D) block; return it in the weights' dtype."""
    name = type(layer).__name__
    if getattr(xs, "ndim", None) != 3 or xs.shape[2] != D:
        got = getattr(xs, "shape", type(xs).__name__)
        hint = ""
        if getattr(xs, "ndim", None) == 2 and xs.shape[1] == D:
            hint = "; for one time step use xs.reshape(N, 1, D)"
        raise ValueError(
            f"{name}.forward: expected xs of shape (N, T, {D}) (batch, time, features), "
            f"got {got}{hint}"
        )
    check_float(layer, "xs", xs)
    check_device(layer, xs, weight)
    return xs.astype(weight.dtype, copy=False)


def _check_state(layer, name: str, state, N: int) -> None:
    """Raise ``ValueError`` when a carried state does not match the batch size of ``xs``."""
    if state is not None and state.shape[0] != N:
        raise ValueError(
            f"{type(layer).__name__}.forward: the carried state {name} is for a batch of "
            f"{state.shape[0]} sequences but xs has {N}; call reset_state() before "
            "feeding a batch of another size"
        )


class Embedding:
    """Look up one row of ``W`` per word id: ``out = W[idx]``.

    backward: ``dW[k] = sum of dout over the positions where idx == k``
    (``np.add.at``, since an id can repeat); the ids get no gradient.

    Build it from the array, ``Embedding(W)``, or from sizes,
    ``Embedding(vocab_size, dim)``, with ``W`` from N(0, 1) as in DeZero's
    ``EmbedID(in_size, out_size)``.

    ``forward(idx)`` takes integer ids of any shape (an int, a list, an (N,) or
    (N, T) array) and returns ``W[idx]`` of shape ``idx.shape + (D,)``.

    Parameters
    ----------
    W : array of shape (V, D), or int V
        One row of D numbers per id ``0 .. V-1``.
    out_size : int D, only when built from sizes
    rng : numpy.random.Generator, optional
        Without it, NumPy's global state (``np.random.seed`` repeats a run).
    dtype : dtype, default float32
    """

    def __init__(self, W, out_size=None, *, rng=None, dtype="float32"):
        if _is_size(W) and _is_size(out_size):
            W = init_weight((int(W), int(out_size)), 1.0, rng, dtype)
        elif out_size is not None:
            raise TypeError(
                "Embedding: expected Embedding(W) with an array W of shape (V, D), or "
                f"Embedding(V, D) with two ints, got {type(W).__name__} and {out_size!r}"
            )
        _check_float_weight(self, "W", W)
        if W.ndim != 2:
            raise ValueError(f"Embedding: expected W of shape (V, D), got {W.shape}")
        xp = get_array_module(W)
        self.W = W
        self.dW = xp.zeros_like(W)
        self.idx = None

    @property
    def params(self) -> dict:
        """Parameters by name; the very array ``W``."""
        return {"W": self.W}

    @property
    def grads(self) -> dict:
        """Gradients by name; the array ``dW`` of the last ``backward``."""
        return {"W": self.dW}

    def forward(self, idx):
        V = self.W.shape[0]
        if not hasattr(idx, "dtype"):  # a Python int or list of ids, as the books allow
            idx = get_array_module(self.W).asarray(idx)
        kind = getattr(getattr(idx, "dtype", None), "kind", None)
        if kind not in ("i", "u"):
            got = idx.dtype if kind is not None else type(idx).__name__
            raise TypeError(
                f"Embedding.forward: expected idx to be an integer array of word ids, got "
                f"{got}; convert it with idx.astype(int)"
            )
        check_device(self, idx, self.W)
        # Checked by hand: a negative id would silently wrap, and CuPy wraps any id.
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= V):
            raise ValueError(
                f"Embedding.forward: expected ids in [0, {V - 1}] (W has {V} rows), got "
                f"values from {int(idx.min())} to {int(idx.max())}"
            )
        self.idx = idx
        return self.W[idx]

    def backward(self, dout):
        """Fill ``dW`` and return ``None`` (ids have no gradient)."""
        shape = None if self.idx is None else (*self.idx.shape, self.W.shape[1])
        dout = checked_dout(self, dout, self.idx, shape)
        xp = get_array_module(self.W)
        dW = xp.zeros_like(self.W)
        scatter_add(dW, self.idx, dout.astype(self.W.dtype, copy=False))
        self.dW = dW
        return None


class _Recurrent:
    """What ``RNN`` and ``LSTM`` share: weights ``Wx``, ``Wh``, ``b`` and the carried state.

    ``gates`` blocks of H columns each (1 for the RNN, 4 for the LSTM).  Built from
    arrays, or from sizes ``(D, H)``: Xavier scale, ``Wx`` from N(0, 1/D), ``Wh``
    from N(0, 1/H), ``b`` zero.
    """

    gates = 1

    def __init__(self, Wx, Wh, b=None, *, stateful=True, rng=None, dtype="float32"):
        if _is_size(Wx) and _is_size(Wh) and b is None:
            D, width = int(Wx), self.gates * int(Wh)
            Wx = init_weight((D, width), "xavier", rng, dtype)
            Wh = init_weight((int(Wh), width), "xavier", rng, dtype)
            b = np.zeros(width, dtype=dtype)
        _check_weights(self, Wx, Wh, b, gates=self.gates)
        xp = get_array_module(Wx)
        self.Wx, self.Wh, self.b = Wx, Wh, b
        self.dWx, self.dWh, self.db = xp.zeros_like(Wx), xp.zeros_like(Wh), xp.zeros_like(b)
        self.stateful = stateful
        self.h = self.c = None  # carried states (c: the LSTM's memory cell)
        self.dh = self.dc = None
        self.xs = self.hs = self.cs = self.gate_values = None
        self.h0 = self.c0 = None

    @property
    def params(self) -> dict:
        """Parameters by name; the very arrays ``Wx``, ``Wh`` and ``b``."""
        return {"Wx": self.Wx, "Wh": self.Wh, "b": self.b}

    @property
    def grads(self) -> dict:
        """Gradients by name: ``dWx``, ``dWh``, ``db`` of the last ``backward``."""
        return {"Wx": self.dWx, "Wh": self.dWh, "b": self.db}

    def reset_state(self) -> None:
        """Forget the carried states: the next ``forward`` starts from ``h = c = 0``."""
        self.h = None
        self.c = None

    def _checked_xs(self, xs):
        """Check ``xs`` (N, T, D) and set the start states ``h0`` (and ``c0``); return ``xs``."""
        xs = _check_sequence(self, xs, self.Wx.shape[0], self.Wx)
        if not self.stateful:
            self.reset_state()
        _check_state(self, "h", self.h, xs.shape[0])
        zeros = get_array_module(xs).zeros((xs.shape[0], self.Wh.shape[0]), dtype=self.Wx.dtype)
        self.h0 = zeros if self.h is None else self.h
        self.c0 = zeros if self.c is None else self.c
        return xs

    def _checked_dhs(self, dhs):
        """Check that forward ran and ``dhs`` has the shape of ``hs``; cast it to the weights."""
        return checked_dout(self, dhs, self.hs, getattr(self.hs, "shape", None), self.Wx)


class RNN(_Recurrent):
    """Elman RNN with tanh over a block of T time steps.

    forward, for ``t = 0 .. T-1``::

        h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)

    with ``h_{-1}`` the state carried from the last call (zeros after
    ``reset_state()``).  backward, from ``t = T-1`` down to 0, with ``dh`` the
    gradient arriving from step ``t + 1`` (0 at the end of the block)::

        da = (dhs[:, t] + dh) * (1 - h_t**2)
        dWx += x_t.T @ da;  dWh += h_{t-1}.T @ da;  db += sum(da, axis=0)
        dxs[:, t] = da @ Wx.T;  dh = da @ Wh.T

    Build it from arrays, ``RNN(Wx, Wh, b)``, or from sizes, ``RNN(D, H)``
    (Xavier scale: ``Wx`` from N(0, 1/D), ``Wh`` from N(0, 1/H), ``b`` zero).

    Parameters
    ----------
    Wx : array of shape (D, H), or int D (input features)
    Wh : array of shape (H, H), or int H (hidden units)
    b : array of shape (H,); only with arrays
    stateful : bool, default True
        Carry the last ``h`` into the next ``forward``; with False every call
        starts from zeros.
    rng : numpy.random.Generator, optional
        Only with sizes; without it, NumPy's global state.
    dtype : dtype, default float32
        Only with sizes.

    Attributes
    ----------
    h : array (N, H) or None
        The carried hidden state.
    dh : array (N, H) or None
        After ``backward``: the gradient with respect to the state the block
        started from (not passed further back).
    """

    gates = 1

    def forward(self, xs):
        xs = self._checked_xs(xs)
        xp = get_array_module(xs)
        N, T, _ = xs.shape
        h = self.h0
        hs = xp.empty((N, T, self.Wh.shape[0]), dtype=self.Wx.dtype)
        for t in range(T):
            h = xp.tanh(xs[:, t] @ self.Wx + h @ self.Wh + self.b)
            hs[:, t] = h
        self.xs, self.hs, self.h = xs, hs, h
        return hs

    def backward(self, dhs):
        dhs = self._checked_dhs(dhs)
        xp = get_array_module(dhs)
        T = self.xs.shape[1]
        dxs = xp.empty(self.xs.shape, dtype=self.Wx.dtype)
        dWx, dWh, db = xp.zeros_like(self.Wx), xp.zeros_like(self.Wh), xp.zeros_like(self.b)
        dh = xp.zeros_like(self.h0)  # nothing comes back from after the block
        for t in reversed(range(T)):
            h = self.hs[:, t]
            h_prev = self.h0 if t == 0 else self.hs[:, t - 1]
            da = (dhs[:, t] + dh) * (1.0 - h * h)
            dWx += self.xs[:, t].T @ da
            dWh += h_prev.T @ da
            db += da.sum(axis=0)
            dxs[:, t] = da @ self.Wx.T
            dh = da @ self.Wh.T
        self.dWx, self.dWh, self.db, self.dh = dWx, dWh, db, dh
        return dxs


class LSTM(_Recurrent):
    """Long short-term memory over a block of T time steps.

    forward, for ``t = 0 .. T-1``, with ``A = x_t @ Wx + h_{t-1} @ Wh + b`` of
    shape (N, 4H) cut into four gates in the order **f, g, i, o** (the order of
    "Deep Learning from Scratch 2"; DeZero calls ``g`` ``u``)::

        f = sigmoid(A[:, :H])       forget gate
        g = tanh(A[:, H:2H])        new memory (candidate)
        i = sigmoid(A[:, 2H:3H])    input gate
        o = sigmoid(A[:, 3H:])      output gate
        c_t = f * c_{t-1} + g * i
        h_t = o * tanh(c_t)

    ``h_{-1}``, ``c_{-1}`` are the states carried from the last call (zeros after
    ``reset_state()``).  backward, from ``t = T-1`` down to 0, with ``dh``, ``dc``
    the gradients from step ``t + 1`` (0 at the end of the block)::

        dh = dhs[:, t] + dh
        ds = dc + dh * o * (1 - tanh(c_t)**2)
        df = ds * c_{t-1} * f (1 - f);   dg = ds * i * (1 - g**2)
        di = ds * g * i (1 - i);         do = dh * tanh(c_t) * o (1 - o)
        dA = [df, dg, di, do]
        dWx += x_t.T @ dA;  dWh += h_{t-1}.T @ dA;  db += sum(dA, axis=0)
        dxs[:, t] = dA @ Wx.T;  dh = dA @ Wh.T;  dc = ds * f

    Build it from arrays, ``LSTM(Wx, Wh, b)``, or from sizes, ``LSTM(D, H)``
    (Xavier scale: ``Wx`` from N(0, 1/D), ``Wh`` from N(0, 1/H), ``b`` zero).

    Parameters
    ----------
    Wx : array of shape (D, 4H), or int D (input features)
    Wh : array of shape (H, 4H), or int H (hidden units)
    b : array of shape (4H,); only with arrays
    stateful : bool, default True
        Carry the last ``h`` and ``c`` into the next ``forward``; with False
        every call starts from zeros.
    rng : numpy.random.Generator, optional
        Only with sizes; without it, NumPy's global state.
    dtype : dtype, default float32
        Only with sizes.

    Attributes
    ----------
    h, c : arrays (N, H) or None
        The carried hidden and cell states.
    dh, dc : arrays (N, H) or None
        After ``backward``: the gradients with respect to the states the block
        started from (not passed further back).
    """

    gates = 4

    def forward(self, xs):
        xs = self._checked_xs(xs)
        xp = get_array_module(xs)
        N, T, _ = xs.shape
        H = self.Wh.shape[0]
        dtype = self.Wx.dtype
        h, c = self.h0, self.c0
        hs = xp.empty((N, T, H), dtype=dtype)
        cs = xp.empty((N, T, H), dtype=dtype)
        gates = xp.empty((N, T, 4 * H), dtype=dtype)  # f, g, i, o after their activations
        for t in range(T):
            A = xs[:, t] @ self.Wx + h @ self.Wh + self.b
            f = sigmoid(A[:, :H])
            g = xp.tanh(A[:, H : 2 * H])
            i = sigmoid(A[:, 2 * H : 3 * H])
            o = sigmoid(A[:, 3 * H :])
            c = f * c + g * i
            h = o * xp.tanh(c)
            gates[:, t] = xp.concatenate([f, g, i, o], axis=1)
            hs[:, t], cs[:, t] = h, c
        self.xs, self.hs, self.cs, self.gate_values = xs, hs, cs, gates
        self.h, self.c = h, c
        return hs

    def backward(self, dhs):
        dhs = self._checked_dhs(dhs)
        xp = get_array_module(dhs)
        T = self.xs.shape[1]
        H = self.Wh.shape[0]
        dxs = xp.empty(self.xs.shape, dtype=self.Wx.dtype)
        dWx, dWh, db = xp.zeros_like(self.Wx), xp.zeros_like(self.Wh), xp.zeros_like(self.b)
        dh, dc = xp.zeros_like(self.h0), xp.zeros_like(self.c0)  # nothing from after the block
        for t in reversed(range(T)):
            gate = self.gate_values[:, t]
            f, g, i, o = gate[:, :H], gate[:, H : 2 * H], gate[:, 2 * H : 3 * H], gate[:, 3 * H :]
            c_prev = self.c0 if t == 0 else self.cs[:, t - 1]
            h_prev = self.h0 if t == 0 else self.hs[:, t - 1]
            tanh_c = xp.tanh(self.cs[:, t])
            dh = dhs[:, t] + dh
            ds = dc + dh * o * (1.0 - tanh_c * tanh_c)
            df = ds * c_prev * f * (1.0 - f)
            dg = ds * i * (1.0 - g * g)
            di = ds * g * i * (1.0 - i)
            do = dh * tanh_c * o * (1.0 - o)
            dA = xp.concatenate([df, dg, di, do], axis=1)
            dWx += self.xs[:, t].T @ dA
            dWh += h_prev.T @ dA
            db += dA.sum(axis=0)
            dxs[:, t] = dA @ self.Wx.T
            dh = dA @ self.Wh.T
            dc = ds * f
        self.dWx, self.dWh, self.db, self.dh, self.dc = dWx, dWh, db, dh, dc
        return dxs


def _check_float_weight(layer, label: str, w) -> None:
    kind = getattr(getattr(w, "dtype", None), "kind", None)
    if kind != "f":
        got = w.dtype if kind is not None else type(w).__name__
        name = type(layer).__name__
        raise TypeError(
            f"{name}: expected {label} to be a float array, got {got}; pass float arrays "
            f"such as {label}.astype(np.float32), or build the layer from sizes"
        )


def _check_weights(layer, Wx, Wh, b, gates: int) -> None:
    """Wx (D, gates*H), Wh (H, gates*H), b (gates*H,), one float dtype, or a clear error."""
    for label, w in (("Wx", Wx), ("Wh", Wh), ("b", b)):
        _check_float_weight(layer, label, w)
    H = Wh.shape[0] if Wh.ndim == 2 else -1
    width = gates * H
    ok = (
        Wx.ndim == 2
        and Wx.shape[1] == width
        and Wh.shape == (H, width)
        and b.shape == (width,)
        and Wx.dtype == Wh.dtype == b.dtype
    )
    if not ok:
        name = type(layer).__name__
        g = "" if gates == 1 else f"{gates}"
        raise ValueError(
            f"{name}: expected Wx of shape (D, {g}H), Wh of shape (H, {g}H) and b of shape "
            f"({g}H,) with one dtype, got Wx {Wx.shape} {Wx.dtype}, Wh {Wh.shape} {Wh.dtype}, "
            f"b {b.shape} {b.dtype}; or build it from sizes: {name}(D, H)"
        )
