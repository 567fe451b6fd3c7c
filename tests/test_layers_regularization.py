"""Tests for Dropout, BatchNormalization and weight decay (book chapter 6)."""

from __future__ import annotations

import numpy as np
import pytest

from framework.backend import to_cpu
from framework.gradient import gradient_check
from framework.layers import Affine, BatchNormalization, Dropout, Relu
from framework.net import Sequential
from framework.optimizers import SGD, Adam, WeightDecay
from tests.helpers import check_backward

# -- Dropout -------------------------------------------------------------------------


def test_dropout_drops_about_ratio_and_keeps_the_expected_value(rng):
    x = np.ones((200, 500), np.float32)
    layer = Dropout(0.3, rng=rng)
    out = layer.forward(x, train=True)
    assert out.dtype == np.float32
    assert np.mean(out == 0) == pytest.approx(0.3, abs=0.01)
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    assert out.mean() == pytest.approx(1.0, abs=0.01)  # inverted dropout: E[out] = x


def test_dropout_train_and_test_mode_differ(rng):
    x = rng.standard_normal((4, 10))
    layer = Dropout(0.5, rng=rng)
    train_out = layer.forward(x, train=True)
    test_out = layer.forward(x, train=False)
    np.testing.assert_array_equal(test_out, x)
    assert not np.array_equal(train_out, x)
    np.testing.assert_array_equal(layer.backward(np.ones((4, 10))), np.ones((4, 10)))


def test_dropout_backward_uses_the_forward_mask(rng):
    x = rng.standard_normal((5, 8))
    layer = Dropout(0.4, rng=rng)
    out = layer.forward(x)
    g = rng.standard_normal(x.shape)
    dx = layer.backward(g)
    np.testing.assert_array_equal(dx == 0, out == 0)
    np.testing.assert_allclose(dx, g * layer.mask / 0.6)


def test_dropout_gradient_with_a_fixed_mask(rng):
    x = rng.standard_normal((4, 6))
    layer = Dropout(0.5)

    def forward():
        layer.rng = np.random.default_rng(7)  # the same mask on every call
        return layer.forward(x, train=True)

    check_backward(forward, layer.backward, (x,), rng)


def test_dropout_masks_repeat_with_the_seed_and_never_touch_x(rng):
    x = rng.standard_normal((3, 7))
    x0 = x.copy()
    a = Dropout(0.5, rng=np.random.default_rng(1)).forward(x)
    b = Dropout(0.5, rng=np.random.default_rng(1)).forward(x)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x, x0)


def test_dropout_ratio_zero_is_the_identity(rng):
    x = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(Dropout(0.0, rng=rng).forward(x), x)


def test_dropout_bad_input(rng):
    with pytest.raises(ValueError, match=r"Dropout: expected ratio in \[0, 1\), got 1.0"):
        Dropout(1.0)
    layer = Dropout(0.5, rng=rng)
    with pytest.raises(RuntimeError, match="Dropout.backward: called before forward"):
        layer.backward(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="Dropout.forward: expected x to be a float array"):
        layer.forward(np.zeros((2, 2), int))
    layer.forward(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"Dropout.backward: expected dout of shape \(2, 2\)"):
        layer.backward(np.zeros((2, 3)))


# -- BatchNormalization --------------------------------------------------------------


def make_bn(rng, D, dtype=np.float64, **kwargs):
    gamma = (1 + 0.3 * rng.standard_normal(D)).astype(dtype)
    beta = (0.3 * rng.standard_normal(D)).astype(dtype)
    return BatchNormalization(gamma, beta, **kwargs)


def test_batchnorm_normalises_each_feature_in_train_mode(rng):
    x = rng.standard_normal((50, 4)) * [1, 10, 100, 0.1] + [5, -3, 0, 2]
    out = BatchNormalization(4, eps=1e-9).forward(x.astype(np.float32), train=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, rtol=1e-3)


def test_batchnorm_on_images_normalises_per_channel_like_batchnorm2d(rng):
    x = rng.standard_normal((8, 3, 5, 5)) * np.array([1, 5, 0.2])[:, None, None] + 2
    out = BatchNormalization(3, eps=1e-12, dtype="float64").forward(x)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-4)
    assert abs(out[:, :, 0, 0].mean(axis=0)).max() > 0.01  # not per pixel


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 3, 2)])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_gradients(shape, train, rng):
    x = rng.standard_normal(shape) * 2 + 1
    bn = make_bn(rng, shape[1], running_mean=rng.standard_normal(shape[1]),
                 running_var=rng.random(shape[1]) + 0.5)  # fmt: skip
    mean0, var0 = bn.running_mean.copy(), bn.running_var.copy()

    def forward():
        bn.running_mean[...], bn.running_var[...] = mean0, var0  # the check calls it often
        return bn.forward(x, train=train)

    def backward(g):
        return bn.backward(g), bn.dgamma, bn.dbeta

    check_backward(forward, backward, (x, bn.gamma, bn.beta), rng)


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 3, 2)])
def test_batchnorm_train_mode_relative_errors_below_1e_6(shape, rng):
    bn = make_bn(rng, shape[1])
    errors = gradient_check(bn, rng.standard_normal(shape) * 2 + 1, rng=rng)
    assert set(errors) == {"x", "gamma", "beta"} and max(errors.values()) < 1e-6, errors


@pytest.mark.reference
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 3, 2)])
def test_batchnorm_matches_torch_batch_norm_in_train_mode(shape, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape) * 3 + 1
    bn = make_bn(rng, shape[1], momentum=0.9, eps=1e-5)
    out = bn.forward(x, train=True)
    g = rng.standard_normal(shape)
    dx = bn.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tg, tb = (torch.tensor(a, requires_grad=True) for a in (bn.gamma, bn.beta))
    rm, rv = torch.zeros(shape[1], dtype=torch.float64), torch.ones(shape[1], dtype=torch.float64)
    tout = torch.nn.functional.batch_norm(
        tx, rm, rv, tg, tb, training=True, momentum=0.1, eps=1e-5
    )
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(bn.dgamma, tg.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bn.dbeta, tb.grad.numpy(), rtol=1e-10, atol=1e-10)
    # Our momentum 0.9 is torch's 0.1; both keep the unbiased variance (DeZero's convention).
    np.testing.assert_allclose(bn.running_mean, rm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, rv.numpy(), rtol=1e-12)


def test_batchnorm_running_statistics_follow_the_momentum(rng):
    bn = BatchNormalization(2, momentum=0.9, dtype="float64")
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    bn.forward(x, train=True)
    np.testing.assert_allclose(bn.running_mean, [0.1 * 2, 0.1 * 20])
    # Batch variances 1 and 100, unbiased with m / (m - 1) = 2.
    np.testing.assert_allclose(bn.running_var, [0.9 + 0.1 * 2, 0.9 + 0.1 * 200])
    assert bn.eps == 2e-5
    before = bn.running_mean.copy()
    bn.forward(x, train=False)  # testing never moves them
    np.testing.assert_array_equal(bn.running_mean, before)


def test_batchnorm_train_and_test_mode_differ(rng):
    x = rng.standard_normal((16, 3)) * 4 + 7
    bn = BatchNormalization(3, dtype="float64")
    train_out = bn.forward(x, train=True)
    test_out = bn.forward(x, train=False)
    assert np.abs(train_out - test_out).max() > 1
    # Test mode uses the running statistics: (x - running_mean) / sqrt(running_var + eps).
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + bn.eps)
    np.testing.assert_allclose(test_out, expected)


def test_batchnorm_state_is_its_arrays_and_updates_keep_them(rng):
    bn = BatchNormalization(3)
    state = bn.state
    bn.forward(rng.standard_normal((4, 3)).astype(np.float32))
    assert state["running_mean"] is bn.running_mean and state["running_var"] is bn.running_var
    assert bn.running_mean.any()
    assert bn.params["gamma"] is bn.gamma and bn.grads["beta"] is bn.dbeta


def test_sequential_saves_and_loads_batchnorm_running_statistics(tmp_path, rng):
    def build():
        return Sequential(
            [Affine(4, 5, rng=rng), BatchNormalization(5), Relu(), Affine(5, 3, rng=rng)]
        )

    net = build()
    x = (rng.standard_normal((32, 4)) * 3 + 2).astype(np.float32)
    for _ in range(5):
        net.forward(x, train=True)
    assert set(net.state) == {"1.running_mean", "1.running_var"}
    net.save(tmp_path / "bn.npz")
    other = build()
    assert not np.allclose(other.predict(x), net.predict(x))
    bn = other.layers[1]
    mean_array = bn.running_mean
    other.load(tmp_path / "bn.npz")
    assert bn.running_mean is mean_array  # loaded in place
    np.testing.assert_array_equal(bn.running_var, net.layers[1].running_var)
    np.testing.assert_allclose(other.predict(x), net.predict(x), rtol=1e-6)
    with np.load(tmp_path / "bn.npz") as f:
        np.testing.assert_array_equal(f["1.running_mean"], net.layers[1].running_mean)


def test_sequential_passes_train_to_batchnorm_and_dropout(rng):
    net = Sequential([Affine(4, 6, rng=rng), BatchNormalization(6), Dropout(0.5, rng=rng)])
    x = rng.standard_normal((10, 4)).astype(np.float32)
    net.forward(x, train=True)
    assert net.layers[1].train is True and net.layers[2].mask is not None
    np.testing.assert_array_equal(net.predict(x), net.predict(x))  # test mode: no randomness
    assert net.layers[1].train is False and net.layers[2].mask is None


def test_batchnorm_runs_on_each_backend(xp, rng):
    x = xp.asarray(rng.standard_normal((6, 3, 2, 2)).astype(np.float32))
    bn = BatchNormalization(xp.ones(3, dtype=xp.float32))
    out = bn.forward(x)
    dx = bn.backward(xp.ones_like(out))
    assert type(dx) is type(x)
    np.testing.assert_allclose(to_cpu(out).mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(to_cpu(dx), 0, atol=1e-4)  # a constant dout has no effect


def test_batchnorm_bad_input(rng):
    bn = BatchNormalization(3)
    with pytest.raises(RuntimeError, match="BatchNormalization.backward: called before forward"):
        bn.backward(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"expected x of shape \(N, 3\) or \(N, 3, H, W\)"):
        bn.forward(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"got \(2, 4, 5, 5\)"):
        bn.forward(np.zeros((2, 4, 5, 5), np.float32))
    with pytest.raises(TypeError, match="BatchNormalization.forward: expected x of dtype float32"):
        bn.forward(np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match="running_var of the same shape"):
        BatchNormalization(np.ones(3), np.zeros(3), running_var=np.ones(4))
    with pytest.raises(ValueError, match=r"momentum in \[0, 1\]"):
        BatchNormalization(3, momentum=1.5)


def test_batchnorm_trains_on_a_batch_of_one(rng):
    # The book's batch_norm_gradient_check.py uses one sample: its variance is 0, so
    # xn = 0 and the output is beta; everything stays finite.
    bn = make_bn(rng, 4)
    x = rng.standard_normal((1, 4))
    out = bn.forward(x, train=True)
    np.testing.assert_allclose(out, bn.beta.reshape(1, 4), atol=1e-12)
    dx = bn.backward(rng.standard_normal((1, 4)))
    assert np.all(np.isfinite(dx)) and np.all(np.isfinite(bn.dgamma))
    np.testing.assert_allclose(dx, 0, atol=1e-12)  # the output does not depend on x

    def backward(g):
        bn.backward(g)
        return bn.dgamma, bn.dbeta

    check_backward(lambda: bn.forward(x, train=True), backward, (bn.gamma, bn.beta), rng)


def test_batchnorm_computes_in_gammas_dtype(rng):
    x = rng.standard_normal((5, 3))
    for g_dtype in (np.float16, np.float32, np.float64):
        for x_dtype in (np.float16, np.float32, np.float64):
            bn = BatchNormalization(3, dtype=g_dtype)
            out = bn.forward(x.astype(x_dtype))
            dx = bn.backward(np.ones_like(out, dtype=x_dtype))
            assert out.dtype == dx.dtype == bn.dgamma.dtype == g_dtype
            assert bn.running_mean.dtype == g_dtype


def test_batchnorm_backward_binds_new_gradients(rng):
    bn = make_bn(rng, 3)
    bn.forward(rng.standard_normal((4, 3)))
    bn.backward(rng.standard_normal((4, 3)))
    first = dict(bn.grads)
    kept = {k: v.copy() for k, v in first.items()}
    bn.forward(rng.standard_normal((4, 3)))
    bn.backward(rng.standard_normal((4, 3)))
    for k in kept:
        assert bn.grads[k] is not first[k]
        np.testing.assert_array_equal(first[k], kept[k])


def test_dropout_without_rng_draws_from_numpys_global_state():
    x = np.ones((4, 50))
    np.random.seed(0)  # noqa: NPY002 (the global state, on purpose)
    a = Dropout(0.5).forward(x)
    b = Dropout(0.5).forward(x)
    np.random.seed(0)  # noqa: NPY002 (the global state, on purpose)
    np.testing.assert_array_equal(Dropout(0.5).forward(x), a)  # the seed repeats a run
    assert not np.array_equal(a, b)  # two layers, two different masks
    np.random.seed(0)  # noqa: NPY002 (the global state, on purpose)
    keep = np.random.rand(4, 50) > 0.5  # the book's draw  # noqa: NPY002
    np.testing.assert_array_equal(a, keep * 2.0)


# -- weight decay --------------------------------------------------------------------


def test_weight_decay_hook_adds_rate_times_w_for_a_layer_net(rng):
    net = Sequential([Affine(4, 3, rng=rng, dtype="float64")])
    x, t = rng.standard_normal((5, 4)), np.array([0, 1, 2, 1, 0])
    W0 = net.layers[0].W.copy()
    grads = {k: g.copy() for k, g in net.gradient(x, t).items()}
    opt = SGD(lr=0.1)
    opt.add_hook(WeightDecay(0.01))
    opt.update(net.params, net.grads)
    np.testing.assert_allclose(net.layers[0].W, W0 - 0.1 * (grads["0.W"] + 0.01 * W0))


def test_weight_decay_hook_works_for_an_autograd_model(rng):
    import framework.autograd.functions as F
    from framework.autograd.layers import Linear

    model = Linear(3, in_size=4, dtype=np.float64)
    x, t = rng.standard_normal((5, 4)), np.array([0, 1, 2, 1, 0])
    loss = F.softmax_cross_entropy(model(x), t)
    loss.backward()
    W0, gW = model.W.data.copy(), model.W.grad.data.copy()
    opt = SGD(lr=0.1).setup(model)
    opt.add_hook(WeightDecay(0.01))
    opt.update()
    np.testing.assert_allclose(model.W.data, W0 - 0.1 * (gW + 0.01 * W0))


def test_weight_decay_shrinks_the_weights_of_a_trained_net(rng):
    x = rng.standard_normal((64, 10)).astype(np.float32)
    t = rng.integers(0, 3, 64)
    norms = []
    for rate in (0.0, 0.1):
        net = Sequential([Affine(10, 3, rng=np.random.default_rng(0))])
        opt = Adam(lr=0.01)
        opt.add_hook(WeightDecay(rate))
        for _ in range(100):
            opt.update(net.params, net.gradient(x, t))
        norms.append(float(np.linalg.norm(net.layers[0].W)))
    assert norms[1] < 0.8 * norms[0]
