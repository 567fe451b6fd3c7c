"""DeZero stage 5 (steps 53-60) on our framework: saving weights, dropout and test mode,
im2col and convolution, VGG16, and recurrent networks on the sine curve.

Each test writes, in our own words, what the step does with the names imported
from their DeZero place (``dezero``, ``dezero.functions``, ``dezero.layers``,
``dezero.models``) and asserts the numbers the step prints.  Where a step reads
data (MNIST, the sine curve), the test makes the data itself: the sine curve
exactly as DeZero's ``SinCurve`` does, read in batches as DeZero's
``SeqDataLoader`` reads them.  Reference numbers come from DeZero itself run on the
same seed; DeZero computes the recurrent nets in float64 (NumPy 2 promotes its
float32 weights), ours in float32, hence rtol 1e-4 to 1e-3 there.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import framework.autograd as dezero
import framework.autograd.functions as F
import framework.autograd.layers as L
from framework.autograd import Model, Variable
from framework.autograd.models import MLP, VGG16
from framework.autograd.optimizers import SGD, Adam  # DeZero's place, dezero.optimizers


# -- step 53: save and load the weights of a model ------------------------------------
def _train(model, x, t, epochs=3, batch_size=100):
    optimizer = SGD().setup(model)
    for _ in range(epochs):
        for i in range(0, len(x), batch_size):
            loss = F.softmax_cross_entropy(model(x[i : i + batch_size]), t[i : i + batch_size])
            model.cleargrads()
            loss.backward()
            optimizer.update()
    return float(loss.data)


def test_step53_save_weights_then_load_them_into_a_new_model(tmp_path, rng):
    x = rng.random((300, 784)).astype(np.float32)  # stands in for MNIST
    t = rng.integers(0, 10, 300)
    path = tmp_path / "my_mlp.npz"
    model = MLP((1000, 10))
    _train(model, x, t)
    model.save_weights(str(path))

    with np.load(path) as npz:  # a plain .npz with DeZero's keys
        assert sorted(npz.files) == ["l0/W", "l0/b", "l1/W", "l1/b"]
        assert npz["l0/W"].shape == (784, 1000)

    again = MLP((1000, 10))
    if path.exists():  # step 53 loads before its first forward
        again.load_weights(str(path))
    np.testing.assert_array_equal(again(x).data, model(x).data)
    # and trains on from there exactly as the saved model does
    assert _train(again, x, t, epochs=1) == _train(model, x, t, epochs=1)


# -- step 54: dropout and test mode ------------------------------------------------------
def test_step54_dropout_in_training_and_in_test_mode():
    x = np.ones(5)
    np.random.seed(0)  # noqa: NPY002 (DeZero draws the mask from NumPy's global state)
    y = F.dropout(x)
    np.testing.assert_array_equal(y.data, [2.0, 2.0, 2.0, 2.0, 0.0])  # DeZero's, seed 0
    with dezero.test_mode():
        y = F.dropout(x)
    np.testing.assert_array_equal(y.data, x)


# -- steps 55 and 57: output sizes, im2col, conv2d ------------------------------------
def test_step55_output_size_of_a_padded_convolution():
    y = F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), stride=1, pad=1)
    assert y.shape[2:] == (4, 4)  # step 55 prints 4 4


def test_step57_im2col_and_conv2d_simple():
    x1 = np.random.rand(1, 3, 7, 7)  # noqa: NPY002 (as in the step)
    col1 = F.im2col(x1, kernel_size=5, stride=1, pad=0, to_matrix=True)
    assert col1.shape == (9, 75)
    x2 = np.random.rand(10, 3, 7, 7)  # noqa: NPY002
    col2 = F.im2col(x2, (5, 5), (1, 1), (0, 0), to_matrix=True)
    assert col2.shape == (90, 75)

    N, C, H, W = 1, 5, 15, 15
    OC, (KH, KW) = 8, (3, 3)
    x = Variable(np.random.randn(N, C, H, W))  # noqa: NPY002
    W = np.random.randn(OC, C, KH, KW)  # noqa: NPY002
    y = F.conv2d_simple(x, W, b=None, stride=1, pad=1)
    y.backward()
    assert y.shape == (1, 8, 15, 15)
    assert x.grad.shape == (1, 5, 15, 15)
    np.testing.assert_allclose(y.data, F.conv2d(x.data, W, stride=1, pad=1).data, rtol=1e-12)


# -- step 58: VGG16 --------------------------------------------------------------------
def test_step58_vgg16_preprocess_and_pretrained_weights(rng):
    Image = pytest.importorskip("PIL.Image")
    pixels = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    img = Image.fromarray(pixels)
    x = VGG16.preprocess(img)
    assert x.shape == (3, 224, 224) and x.dtype == np.float32
    resized = np.asarray(img.resize((224, 224)), dtype=np.float32)
    expected = resized[:, :, ::-1] - np.array([103.939, 116.779, 123.68], dtype=np.float32)
    np.testing.assert_allclose(x, expected.transpose(2, 0, 1), rtol=1e-6)
    assert x[np.newaxis].shape == (1, 3, 224, 224)
    assert VGG16.WEIGHTS_PATH.endswith("dezero-models/releases/download/v0.1/vgg16.npz")


@pytest.mark.slow
def test_step58_vgg16_predicts_in_test_mode(rng):
    model = VGG16()
    x = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)  # 224 x 224 in the step
    with dezero.test_mode():
        y = model(x)
        again = model(x)
    assert y.shape == (1, 1000)
    np.testing.assert_array_equal(y.data, again.data)  # no dropout in test mode
    assert 0 <= int(np.argmax(y.data)) < 1000


# -- steps 59 and 60: RNN and LSTM on the sine curve -------------------------------------
def _sin_curve(train=True):
    """DeZero's ``SinCurve``: 1000 points of sin on [0, 2 pi] plus uniform noise +-0.05."""
    x = np.linspace(0, 2 * np.pi, 1000)
    noise = np.random.uniform(-0.05, 0.05, size=x.shape)  # noqa: NPY002 (DeZero's draw)
    y = np.sin(x) + noise if train else np.cos(x)
    return y[:-1][:, np.newaxis], y[1:][:, np.newaxis]  # data, label: predict the next point


def _seq_batches(data, label, batch_size):
    """DeZero's ``SeqDataLoader``: ``batch_size`` streams, ``len // batch_size`` apart."""
    size = len(data)
    jump = size // batch_size
    for it in range(-(-size // batch_size)):  # ceil(size / batch_size) batches an epoch
        index = [(i * jump + it) % size for i in range(batch_size)]
        yield data[index], label[index]


class SimpleRNN(Model):
    def __init__(self, hidden_size, out_size):
        super().__init__()
        self.rnn = L.RNN(hidden_size)
        self.fc = L.Linear(out_size)

    def reset_state(self):
        self.rnn.reset_state()

    def __call__(self, x):  # step 59 overrides __call__, not forward
        return self.fc(self.rnn(x))


class BetterRNN(Model):
    def __init__(self, hidden_size, out_size):
        super().__init__()
        self.rnn = L.LSTM(hidden_size)
        self.fc = L.Linear(out_size)

    def reset_state(self):
        self.rnn.reset_state()

    def __call__(self, x):
        return self.fc(self.rnn(x))


def _train_bptt(model, batches, epochs, seqlen, bptt_length=30):
    """Steps 59 and 60: sum the losses, backprop every ``bptt_length`` steps, then unchain."""
    optimizer = Adam().setup(model)
    history = []
    for _ in range(epochs):
        model.reset_state()
        loss, count = 0, 0
        for x, t in batches():
            loss += F.mean_squared_error(model(x), t)
            count += 1
            if count % bptt_length == 0 or count == seqlen:
                model.cleargrads()
                loss.backward()
                loss.unchain_backward()
                optimizer.update()
        history.append(float(loss.data) / count)  # step 59/60 print this average
    return history


def test_step59_rnn_learns_the_sine_curve():
    np.random.seed(0)  # noqa: NPY002
    data, label = _sin_curve(train=True)
    model = SimpleRNN(100, 1)

    def batches():  # batch size 1, one point at a time, as step 59 iterates the dataset
        for x, t in zip(data, label, strict=True):
            yield x.reshape(1, 1), t  # a (1, 1) output against a (1,) target, as in the step

    history = _train_bptt(model, batches, epochs=3, seqlen=len(data))
    # DeZero, same seed: | epoch 1 | loss 0.290638 ... (its first three epochs); float32
    # against DeZero's float64 drifts by up to 1.6e-4 over 2000 Adam steps
    np.testing.assert_allclose(
        history, [0.290637800497603, 0.01800462346641904, 0.05368640264046761], rtol=5e-4
    )
    xs = np.cos(np.linspace(0, 4 * np.pi, 1000))[:5]
    model.reset_state()
    with dezero.no_grad():
        pred = [float(model(np.array(x).reshape(1, 1)).data[0, 0]) for x in xs]
    np.testing.assert_allclose(
        pred,
        [
            -0.06551514918327109,
            0.8876390079156214,
            0.840171472617724,
            0.9294970224609818,
            0.9028206365929435,
        ],
        rtol=1e-3,
    )


@pytest.mark.slow
def test_step60_lstm_with_seq_batches_gets_below_0_01():
    """Step 60's settings: LSTM(100) + Linear(1), batch 30, BPTT length 30, Adam, 100 epochs."""
    np.random.seed(0)  # noqa: NPY002
    data, label = _sin_curve(train=True)
    model = BetterRNN(100, 1)
    start = time.perf_counter()
    history = _train_bptt(model, lambda: _seq_batches(data, label, 30), 100, seqlen=len(data))
    seconds = time.perf_counter() - start
    assert history[-1] < 0.01, f"loss {history[-1]:.5f} after 100 epochs ({seconds:.1f} s)"
    # DeZero, same seed: epoch 1 0.48302829, epoch 100 0.00828901
    assert history[0] == pytest.approx(0.48302829219132104, rel=1e-4)
    assert history[-1] == pytest.approx(0.008289006161791613, rel=1e-3)
    assert all(b < a * 1.5 for a, b in zip(history, history[1:], strict=False))  # no blow-up
