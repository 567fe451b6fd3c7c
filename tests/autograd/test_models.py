"""Models: Sequential, MLP, VGG16, ResNet, Model.plot, and an autograd MLP trained side by
side with a layer Sequential."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import framework.autograd.functions as F
from framework import SGD, Adam, Affine, Momentum, Relu, Sequential
from framework.autograd import Model, models, utils
from framework.autograd.layers import Linear
from framework.autograd.models import MLP, VGG16, ResNet, ResNet50
from framework.optimizers import WeightDecay


def test_mlp_layers_and_forward(rng):
    model = MLP((10, 3), activation=F.relu, rng=rng)
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "Linear"]
    assert model.l0 is model.layers[0]
    y = model(rng.standard_normal((4, 6)).astype(np.float32))
    assert y.shape == (4, 3) and y.dtype == np.float32
    names = {}
    model._flatten_params(names)
    assert list(names) == ["l0/W", "l0/b", "l1/W", "l1/b"]
    assert MLP((2,)).activation is F.sigmoid  # DeZero's default


class TwoLayerNet(Model):
    """784-style MLP from Model + Linear + relu, float64 for the comparison."""

    def __init__(self, W1, b1, W2, b2):
        super().__init__()
        self.l1 = Linear(W1.shape[1], dtype=np.float64, in_size=W1.shape[0])
        self.l2 = Linear(W2.shape[1], dtype=np.float64, in_size=W2.shape[0])
        for p, value in zip(self.params(), (W1, b1, W2, b2), strict=True):
            p.data[...] = value

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: SGD(lr=0.1),
        lambda: Momentum(lr=0.05, momentum=0.9),
        lambda: Adam(lr=0.01),
        "adam+decay",
    ],
    ids=["SGD", "Momentum", "Adam", "Adam+WeightDecay"],
)
def test_autograd_mlp_and_layer_sequential_train_identically(make_optimizer, rng):
    D, H, C, N = 20, 16, 5, 200
    x_all = rng.standard_normal((N, D))
    t_all = (x_all[:, :C].argmax(axis=1) + (x_all[:, C] > 1)) % C  # learnable labels
    W1, b1 = rng.standard_normal((D, H)) * np.sqrt(2 / D), np.zeros(H)
    W2, b2 = rng.standard_normal((H, C)) * np.sqrt(2 / H), np.zeros(C)

    def optimizer():
        if make_optimizer == "adam+decay":
            opt = Adam(lr=0.01)
            opt.add_hook(WeightDecay(1e-3))
            return opt
        return make_optimizer()

    net = Sequential([Affine(W1.copy(), b1.copy()), Relu(), Affine(W2.copy(), b2.copy())])
    model = TwoLayerNet(W1, b1, W2, b2)
    opt_net, opt_model = optimizer(), optimizer().setup(model)
    losses_net, losses_model = [], []
    for step in range(100):
        idx = np.random.default_rng(step).choice(N, 32, replace=False)
        x, t = x_all[idx], t_all[idx]
        grads = net.gradient(x, t)
        losses_net.append(net.loss_layer.loss)
        opt_net.update(net.params, grads)

        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt_model.update()
        losses_model.append(float(loss.data))
    np.testing.assert_allclose(losses_model, losses_net, rtol=1e-6, atol=0)
    assert losses_net[-1] < 0.7 * losses_net[0]  # they did learn
    np.testing.assert_allclose(model.l1.W.data, net.params["0.W"], rtol=1e-6, atol=1e-9)


def test_model_plot_draws_or_returns_dot_with_a_hint(tmp_path, rng, monkeypatch):
    model = MLP((3, 2), rng=rng)
    x = rng.standard_normal((1, 4)).astype(np.float32)
    if shutil.which("dot") is not None:
        out = tmp_path / "model.png"
        model.plot(x, to_file=str(out))
        assert out.read_bytes()[:4] == b"\x89PNG"
    monkeypatch.setattr(utils.shutil, "which", lambda name: None)
    with pytest.warns(UserWarning, match="pip install graphviz; apt-get install graphviz"):
        text = model.plot(x, to_file=str(tmp_path / "none.png"))
    assert text.startswith("// to draw graphs install graphviz")
    assert "Linear" in text and "Sigmoid" in text
    assert not (tmp_path / "none.png").exists()


def test_training_step_on_either_backend(xp, rng):
    """The same MLP trained on NumPy and on ``xp`` (CuPy where a GPU is present) agrees."""
    from framework.backend import to_cpu

    x = rng.standard_normal((16, 6)).astype(np.float32)
    t = rng.integers(0, 3, 16)
    losses = {}
    for name, module in (("numpy", np), ("xp", xp)):
        model = MLP((8, 3), activation=F.relu, rng=np.random.default_rng(0))
        opt = SGD(lr=0.5).setup(model)
        xb, tb = module.asarray(x), module.asarray(t)
        losses[name] = []
        for _ in range(5):
            loss = F.softmax_cross_entropy(model(xb), tb)
            model.cleargrads()
            loss.backward()
            opt.update()
            losses[name].append(float(to_cpu(loss.data)))
        assert type(model.l0.W.data) is type(xb)  # the weights live where the data does
    np.testing.assert_allclose(losses["xp"], losses["numpy"], rtol=1e-5)
    assert losses["numpy"][-1] < losses["numpy"][0]


def _count(model, trainable_only=True):
    names = {}
    model._flatten_params(names)
    skip = ("avg_mean", "avg_var") if trainable_only else ()
    return sum(p.data.size for k, p in names.items() if not k.endswith(skip))


def test_sequential_takes_layers_as_arguments(rng):
    model = models.Sequential(Linear(5, rng=rng), F.relu, Linear(2, rng=rng))
    assert model.l0 is model.layers[0] and model.l1 is F.relu
    x = rng.standard_normal((3, 4)).astype(np.float32)
    expected = model.l2(F.relu(model.l0(x)))
    np.testing.assert_array_equal(model(x).data, expected.data)
    names = {}
    model._flatten_params(names)
    assert list(names) == ["l0/W", "l0/b", "l2/W", "l2/b"]


@pytest.mark.slow
def test_vgg16_architecture(rng):
    model = VGG16()
    convs = [n for n in model._params if n.startswith("conv")]
    assert convs == [
        f"conv{b}_{i}"
        for b, n in [(1, 2), (2, 2), (3, 3), (4, 3), (5, 3)]
        for i in range(1, n + 1)
    ]
    y = model(rng.standard_normal((1, 3, 32, 32)).astype(np.float32))  # 5 poolings: 32 -> 1
    assert y.shape == (1, 1000) and y.dtype == np.float32
    conv_params = sum(getattr(model, n).W.size + getattr(model, n).b.size for n in convs)
    assert conv_params == 14_714_688  # VGG-16's 13 convolutions, as published
    assert model.fc6.W.shape == (512, 4096) and model.fc8.W.shape == (4096, 1000)


def test_resnet50_architecture(rng):
    model = ResNet50()
    assert isinstance(model, ResNet)
    assert [len(b._forward) for b in (model.res2, model.res3, model.res4, model.res5)] == [
        3,
        4,
        6,
        3,
    ]
    y = model(rng.standard_normal((1, 3, 32, 32)).astype(np.float32))
    assert y.shape == (1, 1000)
    # torchvision's resnet50 has 25,557,032; DeZero's conv1 adds a bias of 64
    assert _count(model) == 25_557_032 + 64


def test_resnet_depths_and_pretrained_need_a_download():
    assert [len(ResNet(n).res4._forward) for n in (101, 152)] == [23, 36]
    with pytest.raises(ValueError, match="should be either 50, 101, or 152, but 34 was given"):
        ResNet(34)


@pytest.mark.parametrize(
    ("build", "url"),
    [
        (lambda: VGG16(pretrained=True), VGG16.WEIGHTS_PATH),
        (lambda: ResNet(101, pretrained=True), ResNet.WEIGHTS_PATH.format(101)),
    ],
    ids=["VGG16", "ResNet101"],
)
def test_pretrained_downloads_with_get_file_then_loads_the_weights(build, url, monkeypatch):
    from framework.autograd import models, utils

    calls = []
    monkeypatch.setattr(utils, "get_file", lambda u: calls.append(u) or "/cache/weights.npz")
    monkeypatch.setattr(models.Model, "load_weights", lambda self, path: calls.append(path))
    build()
    assert calls == [url, "/cache/weights.npz"]
    assert url.startswith("https://github.com/koki0702/dezero-models/releases/download/v0.1/")


def test_pretrained_offline_says_what_it_tried_and_the_way_by_hand(tmp_path, monkeypatch):
    from framework.autograd import utils

    monkeypatch.setattr(utils, "cache_dir", str(tmp_path))  # nothing cached
    monkeypatch.setattr(VGG16, "WEIGHTS_PATH", "http://127.0.0.1:9/vgg16.npz")  # refused at once
    pytest.importorskip("pooch")
    with pytest.raises(
        ConnectionError,
        match=r"VGG16\(pretrained=True\): cannot fetch .*get_file: cannot download "
        r"http://127\.0\.0\.1:9/vgg16\.npz.*pretrained=False.*load_weights",
    ):
        VGG16(pretrained=True)
    assert list(tmp_path.iterdir()) == []
