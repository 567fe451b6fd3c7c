"""The two worlds proven equal: each hand-written layer against its autograd twins.

For every layer of :mod:`framework.layers` the forward output and the backward
gradients (input and parameters, from a random upstream gradient ``g``) must equal
those of the autograd function (``F.*``) and, where there is one, of its twin
assembled from primitive nodes (``F.*_simple``, :mod:`framework.autograd.composed`),
in float64 to a relative 1e-10.  The autograd side is differentiated through the
scalar ``sum(g * y)``, whose gradient with respect to ``y`` is ``g``.
"""

from __future__ import annotations

import numpy as np
import pytest

import framework.autograd.composed as C
import framework.autograd.functions as F
import framework.autograd.layers as L
from framework.autograd import Variable
from framework.autograd import test_mode as eval_mode
from framework.layers import (
    LSTM,
    RNN,
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Embedding,
    LeakyRelu,
    MeanSquaredError,
    Pooling,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
)

RTOL, ATOL = 1e-10, 1e-12


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def graph(fn, arrays, g):
    """Run ``fn`` on Variables of ``arrays``; backprop ``sum(g * y)``; return y and grads."""
    inputs = [Variable(a.copy()) for a in arrays]
    y = fn(*inputs)
    F.sum(y * Variable(np.asarray(g, dtype=np.float64))).backward()
    return y.data, [v.grad.data for v in inputs]


def layer_run(layer, x, g, *rest, **kwargs):
    """Forward and backward of a hand-written layer: ``(out, dx)``."""
    out = layer.forward(x, *rest, **kwargs)
    return out, layer.backward(g)


# -- Affine / linear ----------------------------------------------------------------------
@pytest.mark.parametrize("fn", [F.linear, F.linear_simple])
def test_affine_equals_linear(fn, rng):
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    layer = Affine(W.copy(), b.copy())
    g = rng.standard_normal((5, 3))
    out, dx = layer_run(layer, x, g)
    y, (gx, gW, gb) = graph(fn, [x, W, b], g)
    close(out, y)
    close(dx, gx)
    close(layer.dW, gW)
    close(layer.db, gb)


# -- Convolution / conv2d -----------------------------------------------------------------
CONV_CASES = [
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, 0),
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, 1),
    ((2, 2, 7, 7), (3, 2, 3, 3), 2, 1),
    ((2, 2, 7, 5), (3, 2, 3, 2), (3, 1), (1, 0)),
    ((1, 2, 8, 7), (2, 2, 2, 3), (2, 3), (0, 1)),
]


@pytest.mark.parametrize("fn", [F.conv2d, F.conv2d_simple])
@pytest.mark.parametrize(("x_shape", "W_shape", "stride", "pad"), CONV_CASES)
def test_convolution_equals_conv2d(fn, x_shape, W_shape, stride, pad, rng):
    x, W = rng.standard_normal(x_shape), rng.standard_normal(W_shape)
    b = rng.standard_normal(W_shape[0])
    layer = Convolution(W.copy(), b.copy(), stride, pad)
    out = layer.forward(x)
    g = rng.standard_normal(out.shape)
    dx = layer.backward(g)
    y, (gx, gW, gb) = graph(lambda x, W, b: fn(x, W, b, stride, pad), [x, W, b], g)
    close(out, y)
    close(dx, gx)
    close(layer.dW, gW)
    close(layer.db, gb)


# -- Pooling / pooling, average_pooling ---------------------------------------------------
POOL_CASES = [(2, 2, 2, 0), (3, 3, 1, 0), (3, 3, 2, 0), (2, 2, 1, 1), (3, 2, (2, 1), (1, 0))]


@pytest.mark.parametrize(("pool_h", "pool_w", "stride", "pad"), POOL_CASES)
@pytest.mark.parametrize(
    ("mode", "fn"),
    [("max", F.pooling), ("max", F.pooling_simple), ("average", F.average_pooling)],
)
def test_pooling_equals_pooling(pool_h, pool_w, stride, pad, mode, fn, rng):
    # Distinct values (no ties: pooling_simple's max splits a tie), all positive: the
    # layer pads max pooling with -inf, DeZero's F.pooling with 0, which differ only
    # where a padded window holds negative numbers alone.
    x = rng.permutation(2 * 3 * 7 * 7).reshape(2, 3, 7, 7) / 10.0 + 1.0
    layer = Pooling(pool_h, pool_w, stride, pad, mode=mode)
    out = layer.forward(x)
    g = rng.standard_normal(out.shape)
    dx = layer.backward(g)
    y, (gx,) = graph(lambda x: fn(x, (pool_h, pool_w), stride, pad), [x], g)
    close(out, y)
    close(dx, gx)


# -- BatchNormalization / batch_norm ------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 5)])
def test_batchnorm_equals_batch_norm_train_then_test(shape, rng):
    C_ = shape[1]
    gamma, beta = rng.standard_normal(C_), rng.standard_normal(C_)
    layer = BatchNormalization(gamma.copy(), beta.copy())
    mean, var = np.zeros(C_), np.ones(C_)  # F.batch_norm's running arrays, as the layer's
    for step in range(3):  # train steps move the running statistics alike
        x = rng.standard_normal(shape) * 3 + step
        g = rng.standard_normal(shape)
        out = layer.forward(x, train=True)
        dx = layer.backward(g)
        y, (gx, ggamma, gbeta) = graph(
            lambda x, gm, bt: F.batch_norm(x, gm, bt, mean, var), [x, gamma, beta], g
        )
        close(out, y)
        close(dx, gx)
        close(layer.dgamma, ggamma)
        close(layer.dbeta, gbeta)
        close(layer.running_mean, mean)
        close(layer.running_var, var)
    x = rng.standard_normal(shape)
    g = rng.standard_normal(shape)
    out = layer.forward(x, train=False)
    dx = layer.backward(g)
    with eval_mode():
        y, (gx, ggamma, gbeta) = graph(
            lambda x, gm, bt: F.batch_norm(x, gm, bt, mean, var), [x, gamma, beta], g
        )
    close(out, y)
    close(dx, gx)
    close(layer.dgamma, ggamma)
    close(layer.dbeta, gbeta)
    close(layer.running_var, var)  # test mode moves neither


# -- Dropout / dropout --------------------------------------------------------------------
def test_dropout_equals_dropout_with_the_same_seed(rng):
    x, g = rng.standard_normal((8, 6)), rng.standard_normal((8, 6))
    np.random.seed(7)  # noqa: NPY002 (both draw from NumPy's global state)
    out, dx = layer_run(Dropout(0.3), x, g)
    np.random.seed(7)  # noqa: NPY002
    y, (gx,) = graph(lambda x: F.dropout(x, 0.3), [x], g)
    assert (out == 0).any()
    close(out, y)
    close(dx, gx)
    with eval_mode():
        y, (gx,) = graph(lambda x: F.dropout(x, 0.3), [x], g)
    out, dx = layer_run(Dropout(0.3), x, g, train=False)
    close(out, y)
    close(dx, gx)


# -- activations --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "fn"),
    [
        (Relu, F.relu),
        (Relu, C.relu),
        (Sigmoid, F.sigmoid),
        (Sigmoid, C.sigmoid),
        (Tanh, F.tanh),
        (Tanh, C.tanh),
        (LeakyRelu, F.leaky_relu),
        (lambda: LeakyRelu(0.1), lambda x: F.leaky_relu(x, 0.1)),
    ],
)
def test_activations_equal_their_functions(make, fn, rng):
    x = rng.standard_normal((4, 5)) * 3
    x[x == 0] = 1.0  # away from the kink
    g = rng.standard_normal((4, 5))
    out, dx = layer_run(make(), x, g)
    y, (gx,) = graph(fn, [x], g)
    close(out, y)
    close(dx, gx)


# -- losses -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn", [F.softmax_cross_entropy, F.softmax_cross_entropy_simple, C.softmax_cross_entropy]
)
def test_softmax_with_loss_equals_softmax_cross_entropy_on_labels(fn, rng):
    x, t = rng.standard_normal((6, 4)) * 2, rng.integers(0, 4, 6)
    g = 1.7  # a random upstream gradient of the scalar loss
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    dx = layer.backward(g)
    y, (gx,) = graph(lambda x: fn(x, t), [x], g)
    close(loss, y)
    close(dx, gx)


def test_softmax_with_loss_equals_softmax_cross_entropy_on_one_hot_rows(rng):
    x, t = rng.standard_normal((6, 4)) * 2, rng.integers(0, 4, 6)
    one_hot = np.eye(4)[t]
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, one_hot)
    dx = layer.backward(0.6)
    y, (gx,) = graph(lambda x: F.softmax_cross_entropy(x, one_hot), [x], 0.6)
    close(loss, y)
    close(dx, gx)


@pytest.mark.parametrize("fn", [F.mean_squared_error, F.mean_squared_error_simple])
def test_mean_squared_error_is_half_of_dezeros(fn, rng):
    """The book's loss is ``sum((y - t)**2) / (2 N)``; DeZero's has no 1/2."""
    y0, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    layer = MeanSquaredError()
    loss = layer.forward(y0, t)
    dy = layer.backward(1.3)
    y, (gy, _) = graph(fn, [y0, t], 1.3 / 2)
    close(loss, y / 2)
    close(dy, gy)


# -- recurrent layers ---------------------------------------------------------------------
def _dezero_rnn(layer):
    twin = L.RNN(layer.Wh.shape[0], in_size=layer.Wx.shape[0])
    twin.x2h.W.data, twin.x2h.b.data = layer.Wx.copy(), layer.b.copy()
    twin.h2h.W.data = layer.Wh.copy()
    return twin, {"Wx": twin.x2h.W, "b": twin.x2h.b, "Wh": twin.h2h.W}


def _dezero_lstm(layer):
    H = layer.Wh.shape[0]
    twin = L.LSTM(H, in_size=layer.Wx.shape[0])
    params = {}
    for k, (ours, theirs) in enumerate(zip("fgio", "fuio", strict=True)):
        cut = slice(k * H, (k + 1) * H)
        x2, h2 = getattr(twin, f"x2{theirs}"), getattr(twin, f"h2{theirs}")
        x2.W.data, x2.b.data = layer.Wx[:, cut].copy(), layer.b[cut].copy()
        h2.W.data = layer.Wh[:, cut].copy()
        params[ours] = (x2.W, h2.W, x2.b)
    return twin, params


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_recurrent_layers_equal_dezeros_layers(cls, rng):
    N, T, D, H = 3, 4, 5, 6
    layer = cls(D, H, rng=rng, dtype="float64")
    layer.b[...] = rng.standard_normal(layer.b.shape)
    twin, params = (_dezero_rnn if cls is RNN else _dezero_lstm)(layer)
    xs, g = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    hs = layer.forward(xs)
    dxs = layer.backward(g)
    x_vars = [Variable(xs[:, t].copy()) for t in range(T)]
    loss = 0
    for t in range(T):
        h = twin(x_vars[t])
        close(hs[:, t], h.data)
        loss = loss + F.sum(h * Variable(g[:, t].copy()))
    loss.backward()
    close(dxs, np.stack([v.grad.data for v in x_vars], axis=1))
    if cls is RNN:
        close(layer.dWx, params["Wx"].grad.data)
        close(layer.dWh, params["Wh"].grad.data)
        close(layer.db, params["b"].grad.data)
    else:
        for k, gate in enumerate("fgio"):
            cut = slice(k * H, (k + 1) * H)
            Wx, Wh, b = params[gate]
            close(layer.dWx[:, cut], Wx.grad.data)
            close(layer.dWh[:, cut], Wh.grad.data)
            close(layer.db[cut], b.grad.data)


def test_embedding_equals_embed_id(rng):
    V, D = 7, 3
    layer = Embedding(V, D, rng=rng, dtype="float64")
    twin = L.EmbedID(V, D, dtype=np.float64)
    twin.W.data = layer.W.copy()
    idx = np.array([[1, 3, 1], [6, 0, 3]])  # repeated ids sum their gradients
    g = rng.standard_normal((2, 3, D))
    out = layer.forward(idx)
    layer.backward(g)
    y = twin(idx)
    F.sum(y * Variable(g)).backward()
    close(out, y.data)
    close(layer.dW, twin.W.grad.data)
