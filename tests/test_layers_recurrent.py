"""Tests for framework.layers.recurrent: Embedding, RNN, LSTM.

Each backward is checked against a numerical gradient (float64, random upstream
gradient, over several time steps that start from a carried state), against an
autograd twin built from ``framework.autograd.functions`` (equal to 1e-10), and
against PyTorch.  The sin-curve task of DeZero's step 60 trains the LSTM.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import framework.autograd.functions as F
from framework.autograd import Variable
from framework.backend import to_cpu
from framework.layers import LSTM, RNN, Affine, Embedding
from framework.optimizers import Adam
from tests.helpers import check_backward

N, T, D, H = 3, 4, 5, 6
GATES = "fgio"  # the order of the four blocks of LSTM's Wx, Wh and b


# -- weight mapping, reusable for other twins (DeZero's L.RNN / L.LSTM) ------------------


def rnn_weights(layer) -> dict:
    """``{"Wx": (D, H), "Wh": (H, H), "b": (H,)}``: h = tanh(x @ Wx + h @ Wh + b).

    DeZero's ``L.RNN``: ``x2h.W = Wx``, ``x2h.b = b``, ``h2h.W = Wh``.
    """
    return {"Wx": layer.Wx, "Wh": layer.Wh, "b": layer.b}


def lstm_gate_weights(layer) -> dict:
    """Per gate ``"f", "g", "i", "o"``: ``(Wx_gate (D, H), Wh_gate (H, H), b_gate (H,))``.

    DeZero's ``L.LSTM`` names the gates ``f, i, o, u`` (``u`` is our ``g``):
    ``x2f.W, h2f.W, x2f.b = lstm_gate_weights(layer)["f"]`` (``.data`` of each) and so on.
    """
    Hh = layer.Wh.shape[0]
    return {
        gate: (
            layer.Wx[:, k * Hh : (k + 1) * Hh],
            layer.Wh[:, k * Hh : (k + 1) * Hh],
            layer.b[k * Hh : (k + 1) * Hh],
        )
        for k, gate in enumerate(GATES)
    }


def lstm_grads_by_gate(layer) -> dict:
    """The gradients ``dWx, dWh, db`` cut into gates like :func:`lstm_gate_weights`."""
    Hh = layer.Wh.shape[0]
    return {
        gate: (
            layer.dWx[:, k * Hh : (k + 1) * Hh],
            layer.dWh[:, k * Hh : (k + 1) * Hh],
            layer.db[k * Hh : (k + 1) * Hh],
        )
        for k, gate in enumerate(GATES)
    }


# -- helpers ------------------------------------------------------------------------------


def _carried(layer, rng):
    """Run one block of 2 steps so the layer carries a state; return that state."""
    layer.forward(rng.standard_normal((N, 2, D)))
    return (layer.h.copy(), layer.c.copy()) if isinstance(layer, LSTM) else (layer.h.copy(),)


def _set_state(layer, state):
    layer.h = state[0]
    if isinstance(layer, LSTM):
        layer.c = state[1]


# -- numerical gradients -------------------------------------------------------------------


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_backward_matches_numerical_gradient_with_carried_state(cls, rng):
    layer = cls(D, H, rng=rng, dtype=np.float64)
    layer.b[...] = rng.standard_normal(layer.b.shape)  # a non-zero bias is checked too
    state = _carried(layer, rng)
    xs = rng.standard_normal((N, T, D))

    def forward():
        _set_state(layer, state)  # the same starting state for every nudge
        return layer.forward(xs)

    def backward(g):
        dxs = layer.backward(g)
        d_state = (layer.dh, layer.dc) if cls is LSTM else (layer.dh,)
        return (dxs, layer.dWx, layer.dWh, layer.db, *d_state)

    check_backward(forward, backward, [xs, layer.Wx, layer.Wh, layer.b, *state], rng)


def test_embedding_backward_matches_numerical_gradient_with_repeated_ids(rng):
    layer = Embedding(7, D, rng=rng, dtype=np.float64)
    idx = np.array([[0, 3, 3], [6, 0, 3]])  # ids repeat: their gradients must add up

    def backward(g):
        assert layer.backward(g) is None
        return (layer.dW,)

    check_backward(lambda: layer.forward(idx), backward, [layer.W], rng)


# -- the autograd twin ---------------------------------------------------------------------


def _twin_rnn(xs, Wx, Wh, b, h):
    """``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)`` from autograd functions; list of h_t."""
    hs = []
    for t in range(xs.shape[1]):
        h = F.tanh(F.linear(F.get_item(xs, (slice(None), t)), Wx, b) + F.matmul(h, Wh))
        hs.append(h)
    return hs


def _twin_lstm(xs, Wx, Wh, b, h, c):
    """The LSTM of the docstring (gates f, g, i, o) from autograd functions; list of h_t."""
    Hh = Wh.shape[0]

    def gate(A, k):
        return F.get_item(A, (slice(None), slice(k * Hh, (k + 1) * Hh)))

    hs = []
    for t in range(xs.shape[1]):
        A = F.linear(F.get_item(xs, (slice(None), t)), Wx, b) + F.matmul(h, Wh)
        f, g = F.sigmoid(gate(A, 0)), F.tanh(gate(A, 1))
        i, o = F.sigmoid(gate(A, 2)), F.sigmoid(gate(A, 3))
        c = f * c + g * i
        h = o * F.tanh(c)
        hs.append(h)
    return hs


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_equal_to_autograd_twin_forward_and_backward(cls, rng):
    layer = cls(D, H, rng=rng, dtype=np.float64)
    layer.b[...] = rng.standard_normal(layer.b.shape)
    state = _carried(layer, rng)
    xs = rng.standard_normal((N, T, D))
    g = rng.standard_normal((N, T, H))
    hs = layer.forward(xs)
    dxs = layer.backward(g)

    v = {name: Variable(arr.copy()) for name, arr in layer.params.items()}
    v_xs, v_state = Variable(xs.copy()), [Variable(s.copy()) for s in state]
    twin = _twin_lstm if cls is LSTM else _twin_rnn
    twin_hs = twin(v_xs, v["Wx"], v["Wh"], v["b"], *v_state)
    loss = sum(F.sum(h_t * g[:, t]) for t, h_t in enumerate(twin_hs))
    loss.backward()

    for t, h_t in enumerate(twin_hs):
        np.testing.assert_allclose(hs[:, t], h_t.data, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dxs, v_xs.grad.data, rtol=1e-10, atol=1e-14)
    for name, grad in layer.grads.items():
        np.testing.assert_allclose(grad, v[name].grad.data, rtol=1e-10, atol=1e-14)
    d_state = [layer.dh, layer.dc] if cls is LSTM else [layer.dh]
    for ours, var in zip(d_state, v_state, strict=True):
        np.testing.assert_allclose(ours, var.grad.data, rtol=1e-10, atol=1e-14)


def test_embedding_equal_to_autograd_get_item(rng):
    layer = Embedding(7, D, rng=rng, dtype=np.float64)
    idx = np.array([[0, 3, 3], [6, 0, 3]])
    g = rng.standard_normal((2, 3, D))
    out = layer.forward(idx)
    layer.backward(g)
    W = Variable(layer.W.copy())
    y = F.get_item(W, idx)
    F.sum(y * g).backward()
    np.testing.assert_array_equal(out, y.data)
    np.testing.assert_allclose(layer.dW, W.grad.data, rtol=1e-10, atol=1e-14)


def test_lstm_gate_weights_cut_in_the_documented_order(rng):
    layer = LSTM(2, 3, rng=rng)
    blocks = lstm_gate_weights(layer)
    assert list(blocks) == ["f", "g", "i", "o"]
    np.testing.assert_array_equal(np.concatenate([blocks[k][0] for k in GATES], 1), layer.Wx)
    np.testing.assert_array_equal(np.concatenate([blocks[k][1] for k in GATES], 1), layer.Wh)
    np.testing.assert_array_equal(np.concatenate([blocks[k][2] for k in GATES]), layer.b)
    layer.forward(rng.standard_normal((1, 2, 2)))
    layer.backward(rng.standard_normal((1, 2, 3)))
    grads = lstm_grads_by_gate(layer)
    assert list(grads) == ["f", "g", "i", "o"]
    np.testing.assert_array_equal(np.concatenate([grads[k][0] for k in GATES], 1), layer.dWx)
    np.testing.assert_array_equal(np.concatenate([grads[k][2] for k in GATES]), layer.db)


# -- PyTorch ------------------------------------------------------------------------------


def _torch_reference(cls, layer, xs, state, g):
    """Run torch.nn.RNN / LSTM with our weights; return (hs, dxs, grads by our names, d_state)."""
    torch = pytest.importorskip("torch")
    Hh = layer.Wh.shape[0]
    if cls is RNN:
        net = torch.nn.RNN(D, Hh, nonlinearity="tanh", batch_first=True).double()
        w = rnn_weights(layer)
        w_ih, w_hh, b_ih = w["Wx"].T, w["Wh"].T, w["b"]
    else:
        net = torch.nn.LSTM(D, Hh, batch_first=True).double()
        blocks = lstm_gate_weights(layer)  # torch stacks its gates as i, f, g, o
        w_ih = np.concatenate([blocks[k][0] for k in "ifgo"], axis=1).T
        w_hh = np.concatenate([blocks[k][1] for k in "ifgo"], axis=1).T
        b_ih = np.concatenate([blocks[k][2] for k in "ifgo"])
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(w_ih)))
        net.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(w_hh)))
        net.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        net.bias_hh_l0.zero_()
    x = torch.tensor(xs, requires_grad=True)
    s = [torch.tensor(a[None], requires_grad=True) for a in state]
    out, _ = net(x, s[0] if cls is RNN else tuple(s))
    out.backward(torch.from_numpy(g))
    gw_ih, gw_hh = net.weight_ih_l0.grad.numpy().T, net.weight_hh_l0.grad.numpy().T
    gb = net.bias_ih_l0.grad.numpy()
    if cls is LSTM:  # back from i, f, g, o to f, g, i, o

        def reorder(a):
            parts = dict(zip("ifgo", np.split(a, 4, axis=-1), strict=True))
            return np.concatenate([parts[k] for k in GATES], axis=-1)

        gw_ih, gw_hh, gb = reorder(gw_ih), reorder(gw_hh), reorder(gb)
    grads = {"Wx": gw_ih, "Wh": gw_hh, "b": gb}
    return out.detach().numpy(), x.grad.numpy(), grads, [a.grad.numpy()[0] for a in s]


@pytest.mark.reference
@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_matches_pytorch(cls, rng):
    layer = cls(D, H, rng=rng, dtype=np.float64)
    layer.b[...] = rng.standard_normal(layer.b.shape)
    state = _carried(layer, rng)
    xs = rng.standard_normal((N, T, D))
    g = rng.standard_normal((N, T, H))
    ref_hs, ref_dxs, ref_grads, ref_state = _torch_reference(cls, layer, xs, state, g)
    np.testing.assert_allclose(layer.forward(xs), ref_hs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.backward(g), ref_dxs, rtol=1e-10, atol=1e-12)
    for name, grad in layer.grads.items():
        np.testing.assert_allclose(grad, ref_grads[name], rtol=1e-10, atol=1e-12)
    d_state = [layer.dh, layer.dc] if cls is LSTM else [layer.dh]
    for ours, ref in zip(d_state, ref_state, strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.reference
def test_embedding_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    layer = Embedding(7, D, rng=rng, dtype=np.float64)
    idx = np.array([[0, 3, 3], [6, 0, 3]])
    g = rng.standard_normal((2, 3, D))
    emb = torch.nn.Embedding(7, D).double()
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(layer.W))
    out = emb(torch.from_numpy(idx))
    out.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(layer.forward(idx), out.detach().numpy())
    layer.backward(g)
    np.testing.assert_allclose(layer.dW, emb.weight.grad.numpy(), rtol=1e-12, atol=1e-14)


# -- state, truncation, construction --------------------------------------------------------


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_state_carries_over_blocks_and_reset_starts_again(cls, rng):
    layer = cls(D, H, rng=rng, dtype=np.float64)
    xs = rng.standard_normal((N, 6, D))
    whole = layer.forward(xs)
    layer.reset_state()
    first, second = layer.forward(xs[:, :4]), layer.forward(xs[:, 4:])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-13)
    layer.reset_state()
    fresh = layer.forward(xs[:, 4:])
    assert not np.allclose(fresh, second)  # without the carried state the output differs
    layer.stateful = False
    np.testing.assert_array_equal(layer.forward(xs[:, 4:]), fresh)
    np.testing.assert_array_equal(layer.forward(xs[:, 4:]), fresh)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_backward_stops_at_the_block_boundary(cls, rng):
    """Truncated BPTT: dxs of a block depends only on that block's dhs."""
    layer = cls(D, H, rng=rng, dtype=np.float64)
    xs = rng.standard_normal((N, 6, D))
    layer.forward(xs[:, :3])
    layer.forward(xs[:, 3:])
    dxs = layer.backward(rng.standard_normal((N, 3, H)))
    assert dxs.shape == (N, 3, D)
    assert layer.dh.shape == (N, H)  # the gradient that truncation drops


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_params_and_grads_are_the_layer_arrays(cls, rng):
    layer = cls(D, H, rng=rng)
    width = 4 * H if cls is LSTM else H
    assert {k: v.shape for k, v in layer.params.items()} == {
        "Wx": (D, width),
        "Wh": (H, width),
        "b": (width,),
    }
    assert layer.params["Wx"] is layer.Wx and layer.params["b"] is layer.b
    layer.forward(rng.standard_normal((N, T, D)))
    layer.backward(rng.standard_normal((N, T, H)))
    assert layer.grads["Wh"] is layer.dWh
    first = layer.dWx
    layer.backward(rng.standard_normal((N, T, H)))
    assert layer.dWx is not first  # a new array: gradients kept from before stay intact


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_float32_by_default_and_float64_input_is_converted(cls, rng):
    layer = cls(D, H, rng=rng)
    assert all(p.dtype == np.float32 for p in layer.params.values())
    hs = layer.forward(rng.standard_normal((N, T, D)))  # float64 input
    assert hs.dtype == np.float32
    dxs = layer.backward(rng.standard_normal((N, T, H)))
    assert dxs.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


@pytest.mark.parametrize("cls", [RNN, LSTM, Embedding])
def test_weights_from_global_state_unless_rng_given(cls, rng):
    np.random.seed(0)  # noqa: NPY002 (the global state is what is tested)
    a = cls(D, H)
    b = cls(D, H)
    np.random.seed(0)  # noqa: NPY002 (the global state is what is tested)
    a2 = cls(D, H)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], a2.params[name])
    first = "W" if cls is Embedding else "Wx"
    assert not np.array_equal(a.params[first], b.params[first])  # no fixed seed per layer
    c = cls(D, H, rng=np.random.default_rng(5))
    d = cls(D, H, rng=np.random.default_rng(5))
    for name in c.params:
        np.testing.assert_array_equal(c.params[name], d.params[name])


def test_lstm_from_arrays_and_xavier_scale(rng):
    layer = LSTM(400, 50, rng=rng)
    assert layer.Wx.std() == pytest.approx(np.sqrt(1 / 400), rel=0.05)
    assert layer.Wh.std() == pytest.approx(np.sqrt(1 / 50), rel=0.05)
    assert not layer.b.any()
    again = LSTM(layer.Wx, layer.Wh, layer.b)
    assert again.Wx is layer.Wx


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_recurrent_layers_on_the_xp_backend(cls, xp, rng):
    host = cls(D, H, rng=rng, dtype=np.float64)
    layer = cls(*(xp.asarray(host.params[k]) for k in ("Wx", "Wh", "b")))
    xs, g = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    np.testing.assert_allclose(to_cpu(layer.forward(xp.asarray(xs))), host.forward(xs), rtol=1e-10)
    np.testing.assert_allclose(to_cpu(layer.backward(xp.asarray(g))), host.backward(g), rtol=1e-10)
    for name, grad in host.grads.items():
        np.testing.assert_allclose(to_cpu(layer.grads[name]), grad, rtol=1e-10, atol=1e-13)


def test_embedding_on_the_xp_backend(xp, rng):
    host = Embedding(7, D, rng=rng, dtype=np.float64)
    layer = Embedding(xp.asarray(host.W))
    idx, g = np.array([[0, 3, 3], [6, 0, 3]]), rng.standard_normal((2, 3, D))
    np.testing.assert_array_equal(to_cpu(layer.forward(xp.asarray(idx))), host.forward(idx))
    layer.backward(xp.asarray(g))
    host.backward(g)
    np.testing.assert_allclose(to_cpu(layer.dW), host.dW, rtol=1e-12)


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_clear_errors(cls, rng):
    layer = cls(D, H, rng=rng)
    with pytest.raises(RuntimeError, match=rf"{cls.__name__}.backward: called before forward"):
        layer.backward(np.zeros((N, T, H), np.float32))
    with pytest.raises(
        ValueError, match=r"expected xs of shape \(N, T, 5\).*xs.reshape\(N, 1, D\)"
    ):
        layer.forward(np.zeros((N, D), np.float32))
    with pytest.raises(ValueError, match=rf"{cls.__name__}.forward: expected xs of shape"):
        layer.forward(np.zeros((N, T, D + 1), np.float32))
    with pytest.raises(TypeError, match=rf"{cls.__name__}.forward: expected xs to be a float"):
        layer.forward(np.zeros((N, T, D), dtype=int))
    layer.forward(np.zeros((N, T, D), np.float32))
    with pytest.raises(ValueError, match=rf"{cls.__name__}.backward: expected dout of shape"):
        layer.backward(np.zeros((N, T, H + 1), np.float32))
    with pytest.raises(ValueError, match=r"carried state h is for a batch of 3.*reset_state\(\)"):
        layer.forward(np.zeros((N + 1, T, D), np.float32))
    layer.reset_state()
    assert layer.forward(np.zeros((N + 1, T, D), np.float32)).shape == (N + 1, T, H)
    with pytest.raises(ValueError, match=rf"{cls.__name__}: expected Wx of shape"):
        cls(layer.Wx, layer.Wx, layer.b)
    with pytest.raises(TypeError, match=rf"{cls.__name__}: expected Wx to be a float array"):
        cls(layer.Wx.astype(int), layer.Wh, layer.b)


def test_embedding_clear_errors(rng):
    layer = Embedding(4, 2, rng=rng)
    with pytest.raises(RuntimeError, match="Embedding.backward: called before forward"):
        layer.backward(np.zeros((1, 2), np.float32))
    with pytest.raises(TypeError, match="Embedding.forward: expected idx to be an integer"):
        layer.forward(np.array([0.0, 1.0]))
    for bad in ([4], [-1]):
        with pytest.raises(ValueError, match=r"expected ids in \[0, 3\] \(W has 4 rows\)"):
            layer.forward(np.array(bad))
    layer.forward(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"Embedding.backward: expected dout of shape \(2, 2\)"):
        layer.backward(np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(layer.forward([3, 0]), layer.W[[3, 0]])  # ids as a list
    np.testing.assert_array_equal(layer.forward(2), layer.W[2])
    with pytest.raises(TypeError, match="Embedding: expected Embedding"):
        Embedding(np.zeros((4, 2)), 2)


# -- DeZero step 60: the sin curve ------------------------------------------------------------


def _sin_curve():
    """DeZero's ``SinCurve(train=True)``: 999 (x, t) pairs of a noisy sine, t the next point."""
    x = np.linspace(0, 2 * np.pi, 1000)
    y = np.sin(x) + np.random.uniform(-0.05, 0.05, size=x.shape)  # noqa: NPY002 (as DeZero)
    return y[:-1, None], y[1:, None]


def _dezero_draw(in_size, out_size):
    """A weight as DeZero's ``L.Linear`` draws it: float32 N(0, 1) times sqrt(1 / in_size)."""
    return np.random.randn(in_size, out_size).astype(np.float32) * np.sqrt(1 / in_size)  # noqa: NPY002


def _step60_weights(dtype):
    """The initial weights of step 60's model, drawn from NumPy's global state in DeZero's order.

    ``h2f, h2i, h2o, h2u`` are drawn when ``L.LSTM`` is built (their input size is
    known); ``x2f, x2i, x2o, x2u`` and then the final ``L.Linear(1)`` at the first
    call.  DeZero's gate ``u`` is our ``g``; biases start at zero.
    """
    Wh = {gate: _dezero_draw(100, 100) for gate in "fiog"}
    Wx = {gate: _dezero_draw(1, 100) for gate in "fiog"}
    W_fc = _dezero_draw(100, 1)
    lstm = LSTM(
        np.concatenate([Wx[k] for k in GATES], axis=1).astype(dtype),
        np.concatenate([Wh[k] for k in GATES], axis=1).astype(dtype),
        np.zeros(400, dtype=dtype),
    )
    return lstm, Affine(W_fc.astype(dtype), np.zeros(1, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sin_curve_lstm_as_in_dezero_step60(dtype):
    """Hidden 100, a final Affine to 1 output, BPTT length 30, batch 30, Adam(lr=0.001).

    ``np.random.seed(0)`` then the noise and the weights drawn as DeZero draws
    them: the run of the book's ``steps/step60.py`` under ``np.random.seed(0)``,
    whose last epoch prints ``loss 0.008289`` (measured with the book's code; the
    first epochs print 0.48303, 0.38310, 0.29670).

    DeZero's ``SeqDataLoader`` gives 34 batches per epoch; batch ``k`` holds points
    ``i * 33 + k`` of the curve for the 30 rows ``i``.  Step 60 backpropagates when
    ``count % 30 == 0``; ``count == seqlen`` (999) never comes, so the last 4
    batches of an epoch only add to the loss.  The loss of a batch is DeZero's
    ``mean_squared_error``, ``sum((y - t)**2) / N``; it is summed over the batches.
    """
    np.random.seed(0)  # noqa: NPY002 (the book's run)
    data, label = _sin_curve()
    lstm, fc = _step60_weights(dtype)
    batch, bptt, jump = 30, 30, len(data) // 30
    steps = -(-len(data) // batch)  # 34 batches per epoch
    rows = (np.arange(batch)[:, None] * jump + np.arange(steps)) % len(data)
    xs, ts = data[rows], label[rows, 0]  # (30, 34, 1) and (30, 34): row i, time k
    optimizer = Adam(lr=0.001)
    params = {**{f"rnn.{k}": v for k, v in lstm.params.items()}, "fc.W": fc.W, "fc.b": fc.b}

    def predict(x_block):
        hs = lstm.forward(x_block)
        return fc.forward(hs.reshape(-1, 100)).reshape(batch, -1)

    losses = []
    start = time.perf_counter()
    for _ in range(100):
        lstm.reset_state()
        y = predict(xs[:, :bptt])
        diff = y - ts[:, :bptt]
        loss = np.sum(diff**2) / batch  # summed over the 30 steps
        dy = (2.0 / batch * diff).astype(dtype).reshape(-1, 1)
        lstm.backward(fc.backward(dy).reshape(batch, bptt, 100))
        grads = {**{f"rnn.{k}": v for k, v in lstm.grads.items()}, "fc.W": fc.dW, "fc.b": fc.db}
        optimizer.update(params, grads)
        y = predict(xs[:, bptt:])  # the last 4 batches: loss only
        loss += np.sum((y - ts[:, bptt:]) ** 2) / batch
        losses.append(loss / steps)
    seconds = time.perf_counter() - start
    assert losses[-1] < 0.01, f"loss {losses[-1]:.4f} after 100 epochs ({seconds:.1f} s)"
    # The book's run, epoch by epoch (DeZero's Adam has eps 1e-8, ours 1e-7).
    np.testing.assert_allclose(losses[:3], [0.48303, 0.38310, 0.29670], rtol=1e-4)
    assert losses[-1] == pytest.approx(0.008289, rel=0.02)
