"""Tests for framework.optimizers against the book's formulas and torch.optim."""

from __future__ import annotations

import math

import numpy as np
import pytest

from framework.backend import to_cpu
from framework.optimizers import (
    SGD,
    AdaDelta,
    AdaGrad,
    Adam,
    ClipGrad,
    FreezeParam,
    Momentum,
    MomentumSGD,
    Nesterov,
    RMSprop,
    WeightDecay,
)

STEPS = 5

# -- the book's formulas, written plainly (new arrays each step, no in-place tricks) ---


def ref_sgd(p, gs, lr):
    for g in gs:
        p = p - lr * g
        yield p


def ref_momentum(p, gs, lr, momentum):
    v = np.zeros_like(p)
    for g in gs:
        v = momentum * v - lr * g
        p = p + v
        yield p


def ref_nesterov(p, gs, lr, momentum):
    v = np.zeros_like(p)
    for g in gs:
        p = p + momentum * momentum * v - (1 + momentum) * lr * g  # v of the previous step
        v = momentum * v - lr * g
        yield p


def ref_adagrad(p, gs, lr):
    h = np.zeros_like(p)
    for g in gs:
        h = h + g * g
        p = p - lr * g / (np.sqrt(h) + 1e-7)
        yield p


def ref_rmsprop(p, gs, lr, decay_rate):
    h = np.zeros_like(p)
    for g in gs:
        h = decay_rate * h + (1 - decay_rate) * g * g
        p = p - lr * g / (np.sqrt(h) + 1e-7)
        yield p


def ref_adam(p, gs, lr, beta1, beta2):
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(gs, start=1):
        lr_t = lr * np.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
        m = m + (1 - beta1) * (g - m)
        v = v + (1 - beta2) * (g**2 - v)
        p = p - lr_t * m / (np.sqrt(v) + 1e-7)
        yield p


CASES = {
    "SGD": (SGD, ref_sgd, {"lr": 0.1}),
    "Momentum": (Momentum, ref_momentum, {"lr": 0.1, "momentum": 0.9}),
    "Nesterov": (Nesterov, ref_nesterov, {"lr": 0.1, "momentum": 0.9}),
    "AdaGrad": (AdaGrad, ref_adagrad, {"lr": 0.1}),
    "RMSprop": (RMSprop, ref_rmsprop, {"lr": 0.01, "decay_rate": 0.9}),
    "Adam": (Adam, ref_adam, {"lr": 0.01, "beta1": 0.8, "beta2": 0.99}),
}


def make_problem(rng, dtype=np.float64):
    """Two parameters and STEPS gradients for each."""
    params = {"W": rng.standard_normal((3, 4)).astype(dtype), "b": rng.standard_normal(4)}
    params["b"] = params["b"].astype(dtype)
    grads = [
        {k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
        for _ in range(STEPS)
    ]
    return params, grads


class FakeParameter:
    """Stand-in for an autograd Parameter: ``.data`` and ``.grad.data``."""

    def __init__(self, data):
        self.data = data
        self.grad = None


class FakeGrad:
    def __init__(self, data):
        self.data = data


class FakeModel:
    """Stand-in for an autograd model: ``params()`` yields its parameters."""

    def __init__(self, *params):
        self._params = params

    def params(self):
        yield from self._params


# -- against the book's formulas -------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_matches_the_books_formulas(name, rng):
    cls, ref, kwargs = CASES[name]
    params, grads = make_problem(rng)
    expected = {k: list(ref(params[k].copy(), [g[k] for g in grads], **kwargs)) for k in params}
    opt = cls(**kwargs)
    arrays = dict(params)  # same array objects
    for step, g in enumerate(grads):
        opt.update(params, g)
        for k in params:
            assert params[k] is arrays[k]  # in place
            np.testing.assert_allclose(params[k], expected[k][step], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(CASES))
def test_setup_and_update_with_a_model(name, rng):
    cls, _, kwargs = CASES[name]
    params, grads = make_problem(rng)
    twin = {k: v.copy() for k, v in params.items()}
    W, b = FakeParameter(params["W"]), FakeParameter(params["b"])
    frozen = FakeParameter(np.ones(2))  # no gradient: left alone
    opt = cls(**kwargs)
    assert opt.setup(FakeModel(W, b, frozen)) is opt
    dict_opt = cls(**kwargs)
    for g in grads:
        W.grad, b.grad = FakeGrad(g["W"]), FakeGrad(g["b"])
        opt.update()
        dict_opt.update(twin, g)
    assert W.data is params["W"] and b.data is params["b"]
    np.testing.assert_allclose(W.data, twin["W"], rtol=1e-12)
    np.testing.assert_allclose(b.data, twin["b"], rtol=1e-12)
    np.testing.assert_array_equal(frozen.data, np.ones(2))


def test_momentum_sgd_is_dezeros_name_for_momentum():
    assert MomentumSGD is Momentum


def test_adam_counts_steps_not_parameters(rng):
    params, grads = make_problem(rng)
    opt = Adam()
    for g in grads[:3]:
        opt.update(params, g)
    assert opt.iter == 3
    assert opt.lr_t == pytest.approx(0.001 * math.sqrt(1 - 0.999**3) / (1 - 0.9**3))


@pytest.mark.parametrize("name", list(CASES))
def test_float32_stays_float32(name, rng):
    cls, _, kwargs = CASES[name]
    # A NumPy float64 scalar lr, as the book's random search draws it, must not promote.
    kwargs = {k: np.float64(v) for k, v in kwargs.items()}
    params, grads = make_problem(rng, np.float32)
    opt = cls(**kwargs)
    opt.add_hook(WeightDecay(np.float64(1e-3)))
    opt.add_hook(ClipGrad(np.float64(10.0)))
    for g in grads:
        opt.update(params, g)
    assert all(p.dtype == np.float32 for p in params.values())
    assert all(g.dtype == np.float32 for gs in grads for g in gs.values())
    for st in opt.state.values():
        assert all(a.dtype == np.float32 for a in st.values())


def test_update_on_the_xp_backend(xp, rng):
    params, grads = make_problem(rng)
    expected = list(ref_adam(params["W"].copy(), [g["W"] for g in grads], 0.01, 0.9, 0.999))[-1]
    W = xp.asarray(params["W"])
    opt = Adam(lr=0.01)
    for g in grads:
        opt.update({"W": W}, {"W": xp.asarray(g["W"])})
    np.testing.assert_allclose(to_cpu(W), expected, rtol=1e-10)


# -- hooks --------------------------------------------------------------------------------


def test_weight_decay_adds_rate_times_param(rng):
    params, grads = make_problem(rng)
    W0, g0 = params["W"].copy(), grads[0]["W"].copy()
    opt = SGD(lr=0.5)
    opt.add_hook(WeightDecay(0.1))
    opt.update(params, grads[0])
    np.testing.assert_allclose(grads[0]["W"], g0 + 0.1 * W0, rtol=1e-14)  # hooks work in place
    np.testing.assert_allclose(params["W"], W0 - 0.5 * (g0 + 0.1 * W0), rtol=1e-14)


def test_clip_grad_rescales_the_joint_norm():
    grads = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]])]  # joint norm 5
    ClipGrad(1.0)([None, None], grads)
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(grads[0], [3 * scale, 0.0], rtol=1e-14)
    np.testing.assert_allclose(grads[1], [[0.0], [4 * scale]], rtol=1e-14)
    total = math.sqrt(sum(float((g * g).sum()) for g in grads))
    assert total == pytest.approx(1.0, rel=1e-6)


def test_clip_grad_leaves_small_gradients_alone():
    grads = [np.array([0.3, 0.4])]
    ClipGrad(1.0)([None], grads)
    np.testing.assert_array_equal(grads[0], [0.3, 0.4])


def test_hooks_run_in_order_before_the_update():
    seen = []
    opt = SGD(lr=1.0)
    opt.add_hook(lambda ps, gs: seen.append(("first", gs[0].copy())))
    opt.add_hook(WeightDecay(1.0))
    opt.add_hook(lambda ps, gs: seen.append(("third", gs[0].copy())))
    p, g = np.array([2.0]), np.array([1.0])
    opt.update({"p": p}, {"p": g})
    assert [s[0] for s in seen] == ["first", "third"]
    np.testing.assert_array_equal(seen[0][1], [1.0])
    np.testing.assert_array_equal(seen[1][1], [3.0])
    np.testing.assert_array_equal(p, [-1.0])


# -- errors -------------------------------------------------------------------------------


def test_update_with_a_missing_gradient(rng):
    params, grads = make_problem(rng)
    del grads[0]["b"]
    with pytest.raises(
        ValueError, match=r"SGD\.update: expected a gradient for every parameter, missing \['b'\]"
    ):
        SGD().update(params, grads[0])
    with pytest.raises(ValueError, match=r"Adam\.update: .*missing \['W', 'b'\]"):
        Adam().update(params)


def test_update_without_setup(rng):
    with pytest.raises(
        RuntimeError, match=r"Momentum\.update: no parameters; call setup\(model\)"
    ):
        Momentum().update()


# -- against torch.optim ------------------------------------------------------------------


def torch_steps(torch, opt_factory, params, grads):
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt = opt_factory(list(tensors.values()))
    for g in grads:
        for k, t in tensors.items():
            t.grad = torch.tensor(g[k])
        opt.step()
    return {k: t.detach().numpy() for k, t in tensors.items()}


TORCH_CASES = {
    # name: (ours, torch factory, (rtol, atol) on the total change of the parameters)
    "SGD": (lambda: SGD(lr=0.1), lambda o, ps: o.SGD(ps, lr=0.1), (1e-12, 1e-14)),
    # torch keeps buf = m*buf + g and steps -lr*buf; with a constant lr, v = -lr*buf.
    "Momentum": (
        lambda: Momentum(lr=0.1, momentum=0.9),
        lambda o, ps: o.SGD(ps, lr=0.1, momentum=0.9),
        (1e-12, 1e-14),
    ),
    # torch's RMSprop(alpha, eps) is the same formula: eps added after the square root.
    "RMSprop": (
        lambda: RMSprop(lr=0.01, decay_rate=0.9),
        lambda o, ps: o.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7),
        (1e-12, 1e-14),
    ),
    # torch's Adagrad also adds eps after the square root, so with eps=1e-7 (and no lr
    # decay, zero initial accumulator) it is the book's formula and agrees tightly.
    "AdaGrad": (
        lambda: AdaGrad(lr=0.1),
        lambda o, ps: o.Adagrad(ps, lr=0.1, eps=1e-7),
        (1e-12, 1e-14),
    ),
    # torch's Adam divides by sqrt(v_hat) + eps; the book folds the bias correction into
    # lr_t and divides by sqrt(v) + eps, which is torch's with eps / sqrt(1 - beta2^t)
    # (about 3e-6 at t = 1 instead of 1e-7).  Where a gradient is small (|g| ~ 0.01) a
    # step then differs by ~3e-4 of its size, so compare loosely: every element within
    # 0.1% of one step (lr = 0.01) after 5 steps.
    "Adam": (
        lambda: Adam(lr=0.01, beta1=0.9, beta2=0.999),
        lambda o, ps: o.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-7),
        (0.0, 1e-3 * 0.01),
    ),
}


@pytest.mark.reference
@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_matches_torch_optim(name, rng):
    torch = pytest.importorskip("torch")
    ours, theirs, (rtol, atol) = TORCH_CASES[name]
    params, grads = make_problem(rng)
    start = {k: v.copy() for k, v in params.items()}
    want = torch_steps(torch, lambda ps: theirs(torch.optim, ps), params, grads)
    opt = ours()
    for g in grads:
        opt.update(params, g)
    for k in params:  # compare the total change, so the tolerance speaks about the updates
        change = params[k] - start[k]
        assert np.abs(change).max() > 5e-3  # the parameters did move
        np.testing.assert_allclose(change, want[k] - start[k], rtol=rtol, atol=atol)


# -- the book's params[key] -= ... semantics ----------------------------------------------


def df(x, y):
    """Gradient of the book's f(x, y) = x**2 / 20 + y**2 (ch06 optimizer_compare_naive)."""
    return x / 10.0, 2.0 * y


@pytest.mark.parametrize("name", list(CASES))
def test_python_float_params_are_updated_in_the_dict(name):
    cls, ref, kwargs = CASES[name]
    params = {"x": -7.0, "y": 2.0}
    want = {k: list(ref(np.array(v), [np.array(1.5)] * 3, **kwargs)) for k, v in params.items()}
    opt = cls(**kwargs)
    for step in range(3):
        opt.update(params, {"x": 1.5, "y": 1.5})
        for k in params:
            assert isinstance(params[k], float)  # a NumPy float64, as the book's -= leaves
            assert params[k] == pytest.approx(float(want[k][step]), rel=1e-12)


def test_sgd_walks_the_books_path_on_scalars():
    params = {"x": -7.0, "y": 2.0}
    opt = SGD(lr=0.95)
    x, y = -7.0, 2.0
    for _ in range(30):
        grads = dict(zip(("x", "y"), df(params["x"], params["y"]), strict=True))
        opt.update(params, grads)
        gx, gy = df(x, y)
        x, y = x - 0.95 * gx, y - 0.95 * gy
    assert params["x"] == x and params["y"] == y
    assert abs(params["x"]) < 7.0  # it did move


def plain_paths(name, lr, steps=30):
    """The book's optimizer_compare_naive.py walk from (-7, 2), in plain Python floats."""
    x, y = -7.0, 2.0
    state = {"v": [0.0, 0.0], "h": [0.0, 0.0], "m": [0.0, 0.0], "t": 0}
    path = []
    for _ in range(steps):
        path.append((x, y))
        p, g = [x, y], list(df(x, y))
        state["t"] += 1
        lr_t = lr * math.sqrt(1 - 0.999 ** state["t"]) / (1 - 0.9 ** state["t"])
        for i in range(2):
            if name == "SGD":
                p[i] -= lr * g[i]
            elif name == "Momentum":
                state["v"][i] = 0.9 * state["v"][i] - lr * g[i]
                p[i] += state["v"][i]
            elif name == "AdaGrad":
                state["h"][i] += g[i] * g[i]
                p[i] -= lr * g[i] / (math.sqrt(state["h"][i]) + 1e-7)
            else:  # Adam
                state["m"][i] += 0.1 * (g[i] - state["m"][i])
                state["h"][i] += 0.001 * (g[i] ** 2 - state["h"][i])
                p[i] -= lr_t * state["m"][i] / (math.sqrt(state["h"][i]) + 1e-7)
        x, y = p
    return path


@pytest.mark.parametrize(
    ("name", "cls", "lr"),
    [
        ("SGD", SGD, 0.95),
        ("Momentum", Momentum, 0.1),
        ("AdaGrad", AdaGrad, 1.5),
        ("Adam", Adam, 0.3),
    ],
)
def test_the_books_optimizer_comparison_on_a_dict_of_floats(name, cls, lr):
    params, grads = {"x": -7.0, "y": 2.0}, {}
    opt = cls(lr=lr)
    path = []
    for _ in range(30):
        path.append((params["x"], params["y"]))
        grads["x"], grads["y"] = df(params["x"], params["y"])
        opt.update(params, grads)
    np.testing.assert_allclose(path, plain_paths(name, lr), rtol=1e-12, atol=1e-12)
    assert abs(path[-1][0]) < 7.0  # every optimizer moved towards the minimum at (0, 0)


def test_zero_d_array_params_change_in_place():
    p = np.array(3.0)
    params = {"p": p}
    Momentum(lr=0.1).update(params, {"p": np.array(2.0)})
    assert params["p"] is p and float(p) == pytest.approx(3.0 - 0.2)


@pytest.mark.parametrize("name", list(CASES))
def test_each_param_updated_in_its_own_dtype(name, rng):
    cls, _, kwargs = CASES[name]
    params = {
        "h": rng.standard_normal(3).astype(np.float16),
        "s": rng.standard_normal(3).astype(np.float32),
        "d": rng.standard_normal(3),
    }
    start = {k: v.copy() for k, v in params.items()}
    opt = cls(**kwargs)
    for _ in range(2):
        # float64 gradients for the float16/32 params, float32 for the float64 one
        opt.update(params, {"h": np.ones(3), "s": np.ones(3), "d": np.ones(3, np.float32)})
    for k, dtype in (("h", np.float16), ("s", np.float32), ("d", np.float64)):
        assert params[k].dtype == dtype and not np.array_equal(params[k], start[k])


# -- AdaDelta and FreezeParam (DeZero) ------------------------------------------------------


def ref_adadelta(p, gs, rho, eps):
    msg, msdx = np.zeros_like(p), np.zeros_like(p)
    for g in gs:
        msg = rho * msg + (1 - rho) * g * g
        dx = np.sqrt((msdx + eps) / (msg + eps)) * g
        msdx = rho * msdx + (1 - rho) * dx * dx
        p = p - dx
        yield p


def test_adadelta_matches_its_formula(rng):
    params, grads = make_problem(rng)
    want = {
        k: list(ref_adadelta(params[k].copy(), [g[k] for g in grads], 0.9, 1e-6)) for k in params
    }
    opt = AdaDelta(rho=0.9, eps=1e-6)
    arrays = dict(params)
    for step, g in enumerate(grads):
        opt.update(params, g)
        for k in params:
            assert params[k] is arrays[k]
            np.testing.assert_allclose(params[k], want[k][step], rtol=1e-12, atol=1e-14)


@pytest.mark.reference
def test_adadelta_matches_torch(rng):
    torch = pytest.importorskip("torch")
    params, grads = make_problem(rng)
    start = {k: v.copy() for k, v in params.items()}
    want = torch_steps(
        torch, lambda ps: torch.optim.Adadelta(ps, lr=1.0, rho=0.9, eps=1e-6), params, grads
    )
    opt = AdaDelta(rho=0.9, eps=1e-6)
    for g in grads:
        opt.update(params, g)
    for k in params:
        np.testing.assert_allclose(
            params[k] - start[k], want[k] - start[k], rtol=1e-10, atol=1e-14
        )


def test_adadelta_with_a_model(rng):
    p = FakeParameter(rng.standard_normal(4))
    p.grad = FakeGrad(rng.standard_normal(4))
    before = p.data.copy()
    AdaDelta().setup(FakeModel(p)).update()
    assert not np.array_equal(p.data, before)


def test_freeze_param_keeps_autograd_parameters_and_their_state(rng):
    a, b = FakeParameter(rng.standard_normal(3)), FakeParameter(rng.standard_normal(3))
    for p in (a, b):
        p.grad = FakeGrad(np.ones(3))
    a0, b0 = a.data.copy(), b.data.copy()
    opt = Momentum(lr=0.1).setup(FakeModel(a, b))
    opt.add_hook(FreezeParam(a))
    opt.update()
    np.testing.assert_array_equal(a.data, a0)
    assert not np.array_equal(b.data, b0)
    assert id(a) not in opt.state  # no velocity builds up behind a frozen parameter


def test_freeze_param_on_a_layer_of_a_layer_net(rng):
    from framework.layers import Affine
    from framework.net import Sequential

    net = Sequential([Affine(4, 3, rng=rng), Affine(3, 2, rng=rng)])
    first = {k: v.copy() for k, v in net.layers[0].params.items()}
    opt = SGD(lr=0.1)
    opt.add_hook(FreezeParam(net.layers[0]))
    x, t = rng.standard_normal((5, 4)).astype(np.float32), rng.integers(0, 2, 5)
    W1 = net.layers[1].W.copy()
    opt.update(net.params, net.gradient(x, t))
    for k, v in net.layers[0].params.items():
        np.testing.assert_array_equal(v, first[k])
    assert not np.array_equal(net.layers[1].W, W1)


def test_freeze_param_on_an_autograd_layer_takes_all_its_params(rng):
    class FakeLayer:
        def __init__(self, *ps):
            self.ps = ps

        def params(self):
            yield from self.ps

    a, b = FakeParameter(rng.standard_normal(3)), FakeParameter(rng.standard_normal(3))
    for p in (a, b):
        p.grad = FakeGrad(np.ones(3))
    kept = a.data.copy(), b.data.copy()
    opt = SGD(0.1).setup(FakeModel(a, b))
    opt.add_hook(FreezeParam(FakeLayer(a, b)))
    opt.update()
    np.testing.assert_array_equal(a.data, kept[0])
    np.testing.assert_array_equal(b.data, kept[1])


# -- plain and fused Adam -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_adam_equals_the_plain_formula(rng, dtype):
    params, grads = make_problem(rng, dtype)
    plain_params = {k: v.copy() for k, v in params.items()}
    fused, plain = Adam(lr=0.05, fused=True), Adam(lr=0.05, fused=False)
    for g in grads:
        fused.update(params, g)
        plain.update(plain_params, g)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for k in params:
        np.testing.assert_allclose(params[k], plain_params[k], rtol=rtol)
        for name in ("m", "v"):
            np.testing.assert_allclose(fused.state[k][name], plain.state[k][name], rtol=rtol)


def test_fused_adam_is_the_default_and_the_plain_form_is_the_books_line(rng):
    assert Adam().fused and not Adam(fused=False).fused
    params, grads = make_problem(rng)
    p = params["W"].copy()
    expected = list(ref_adam(p.copy(), [g["W"] for g in grads], 0.01, 0.9, 0.999))[-1]
    opt = Adam(lr=0.01, fused=False)
    for g in grads:
        opt.update({"W": p}, {"W": g["W"]})
    np.testing.assert_allclose(p, expected, rtol=1e-12)


def test_reset_forgets_state_and_steps(rng):
    params, grads = make_problem(rng)
    opt = Adam()
    opt.update(params, grads[0])
    assert opt.state and opt.iter == 1
    opt.reset()
    assert not opt.state and opt.iter == 0
    other = {k: v.copy() for k, v in params.items()}  # another net's arrays, same names
    opt.update(other, grads[1])  # allowed after reset
    assert opt.iter == 1
