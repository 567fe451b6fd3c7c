"""Robustness of ``Sequential``: bad layers, losses, batch sizes and inputs, named clearly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from framework.layers import Affine, Convolution, Relu, SoftmaxWithLoss
from framework.models import deep_cnn, mlp, simple_cnn
from framework.net import Sequential, accepts_keyword, batch_mover


def _net():
    rng = np.random.default_rng(0)
    return Sequential([Affine(4, 3, rng=rng), Relu(), Affine(3, 2, rng=rng)])


def _x(n=5):
    return np.zeros((n, 4), np.float32)


def _shared_relu():
    r = Relu()
    return Sequential([Affine(4, 3), r, Affine(3, 3), r, Affine(3, 2)])


def _shared_in_nested():
    a = Affine(4, 4)
    return Sequential([a, Relu(), Sequential([Affine(4, 4), a])])


class _NoMethods:
    pass


class _IntegerScale:
    """A home-made layer whose parameter is (wrongly) an integer array."""

    def __init__(self):
        self.params = {"s": np.ones(4, int)}
        self.grads = {"s": np.zeros(4, int)}

    def forward(self, x):
        return x * self.params["s"]

    def backward(self, dout):
        return dout * self.params["s"]


def _int_weights():
    return Sequential([_IntegerScale(), Affine(4, 2)])


CASES = [
    pytest.param(
        _shared_relu,
        ValueError,
        r"Sequential: the same Relu object is layer 1 "
        r"and layer 3.*make two instances",
        id="same-layer-twice",
    ),
    pytest.param(
        _shared_in_nested,
        ValueError,
        r"layer 0 and layer 2\.1.*two instances",
        id="same-layer-in-nested",
    ),
    pytest.param(
        lambda: Sequential([Affine(4, 3), Relu, Affine(3, 2)]),
        TypeError,
        r"Sequential: layer 1 is the class Relu.*use an instance: Relu\(",
        id="class-not-instance",
    ),
    pytest.param(
        lambda: Sequential(Affine(4, 3)),
        TypeError,
        r"Sequential: expected a list of layers, got a single Affine.*\[layer\]",
        id="single-layer",
    ),
    pytest.param(
        lambda: Sequential(42),
        TypeError,
        r"Sequential: expected a list of layers",
        id="not-a-list",
    ),
    pytest.param(
        lambda: Sequential([Affine(4, 3), _NoMethods()]),
        TypeError,
        r"Sequential: layer 1 \(_NoMethods\) has no forward/backward",
        id="no-forward",
    ),
    pytest.param(
        lambda: Sequential([Affine(4, 3)], loss="softmax"),
        TypeError,
        r"Sequential: expected loss to be a loss layer object.*SoftmaxWithLoss\(\)",
        id="loss-string",
    ),
    pytest.param(
        lambda: Sequential([Affine(4, 3)], loss=SoftmaxWithLoss),
        TypeError,
        r"got SoftmaxWithLoss; use e\.g\. loss=SoftmaxWithLoss\(\)",
        id="loss-class",
    ),
    pytest.param(
        _int_weights,
        TypeError,
        r"Sequential: layer 0 \(_IntegerScale\) has parameter s of type int64.*float",
        id="integer-parameters",
    ),
    pytest.param(
        lambda: _net().predict(_x(), batch_size=0),
        ValueError,
        r"Sequential\.predict: expected batch_size >= 1, got 0",
        id="predict-batch-0",
    ),
    pytest.param(
        lambda: _net().predict(_x(), batch_size=-3),
        ValueError,
        r"Sequential\.predict: expected batch_size >= 1, got -3",
        id="predict-batch-negative",
    ),
    pytest.param(
        lambda: _net().predict(_x(), batch_size=2.5),
        TypeError,
        r"Sequential\.predict: expected batch_size to be an int, got float",
        id="predict-batch-float",
    ),
    pytest.param(
        lambda: _net().accuracy(_x(), np.zeros(5, int), batch_size=0),
        ValueError,
        r"Sequential\.accuracy: expected batch_size >= 1",
        id="accuracy-batch-0",
    ),
    pytest.param(
        lambda: _net().predict(_x(0)),
        ValueError,
        r"Sequential\.predict: x holds no samples \(shape \(0, 4\)\)",
        id="predict-empty",
    ),
    pytest.param(
        lambda: _net().accuracy(_x(0), np.zeros(0, int)),
        ValueError,
        r"Sequential\.accuracy: x holds no samples",
        id="accuracy-empty",
    ),
    pytest.param(
        lambda: _net().predict([[0.0] * 4]),
        TypeError,
        r"Sequential\.predict: expected x to be an array.*got list",
        id="predict-list",
    ),
    pytest.param(
        lambda: _net().predict(np.float32(1)),
        TypeError,
        r"Sequential\.predict: expected x to be an array",
        id="predict-scalar",
    ),
]

CASES += [
    pytest.param(
        lambda: _net().loss(_x(0), np.zeros(0, int)),
        ValueError,
        r"Sequential\.loss: x holds no samples",
        id="loss-empty",
    ),
    pytest.param(
        lambda: _net().gradient(_x(0), np.zeros(0, int)),
        ValueError,
        r"Sequential\.loss: x holds no samples",
        id="gradient-empty",
    ),
]

# -- the ready-made nets of framework.models ----------------------------------------------
CASES += [
    pytest.param(
        lambda: mlp(activation="gelu"),
        ValueError,
        r"mlp: expected activation in \['relu', 'sigmoid', 'tanh'\]",
        id="mlp-activation",
    ),
    pytest.param(
        lambda: mlp(hidden_sizes=(0,)),
        ValueError,
        r"mlp: expected positive integer layer sizes, got \[784, 0, 10\]",
        id="mlp-0",
    ),
    pytest.param(
        lambda: mlp(hidden_sizes="100"),
        ValueError,
        r"mlp: expected hidden_sizes as a tuple of ints, got '100'",
        id="mlp-string",
    ),
    pytest.param(
        lambda: simple_cnn(input_dim=(28, 28)),
        ValueError,
        r"simple_cnn: expected input_dim as \(channels, height, width\)",
        id="cnn-2d-input",
    ),
    pytest.param(
        lambda: simple_cnn(filter_num=0),
        ValueError,
        r"simple_cnn: expected filter_num to be a positive integer, got 0",
        id="cnn-0",
    ),
    pytest.param(
        lambda: simple_cnn(hidden_size=0),
        ValueError,
        r"simple_cnn: expected hidden_size to be a positive integer",
        id="cnn-hidden-0",
    ),
    pytest.param(
        lambda: simple_cnn(output_size=-1),
        ValueError,
        r"simple_cnn: expected output_size to be a positive integer, got -1",
        id="cnn-output-negative",
    ),
    pytest.param(
        lambda: simple_cnn(filter_size=5.0),
        TypeError,
        r"simple_cnn: expected filter_size to be an int, got 5\.0",
        id="cnn-float-size",
    ),
    pytest.param(
        lambda: simple_cnn(filter_size=40),
        ValueError,
        r"simple_cnn: a 40x40 filter on 28x28 images",
        id="cnn-filter-too-big",
    ),
    pytest.param(
        lambda: deep_cnn(input_dim=(0, 28, 28)),
        ValueError,
        r"deep_cnn: expected channels to be a positive integer, got 0",
        id="deep-0-ch",
    ),
    pytest.param(
        lambda: deep_cnn(hidden_size=0),
        ValueError,
        r"deep_cnn: expected hidden_size to be a positive integer",
        id="deep-hidden-0",
    ),
    pytest.param(
        lambda: deep_cnn(input_dim=(1, 32, 32)),
        ValueError,
        r"deep_cnn: expected 28x28 images",
        id="deep-32",
    ),
]


def test_models_take_numpy_integers():
    net = mlp(np.int64(6), (np.int64(5),), np.int32(3), rng=np.random.default_rng(0))
    assert net.predict(np.zeros((2, 6), np.float32)).shape == (2, 3)


@pytest.mark.parametrize(("fn", "exc", "regex"), CASES)
def test_case(fn, exc, regex):
    with pytest.raises(exc, match=regex):
        fn()


def test_distinct_instances_of_one_class_are_fine():
    net = Sequential([Affine(4, 3), Relu(), Affine(3, 3), Relu(), Affine(3, 2)])
    assert len(net.layers) == 5


BAD_DTYPES = st.one_of(
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.complex_number_dtypes(),
    st.just(np.dtype(bool)),
    st.just(np.dtype(object)),
)


@given(dtype=BAD_DTYPES, n=st.integers(1, 4))
def test_non_float_x_is_refused_by_name(raises_clearly, dtype, n):
    net = _net()
    x = np.zeros((n, 4)).astype(dtype)
    for call in (
        lambda: net.predict(x),
        lambda: net.loss(x, np.zeros(n, int)),
        lambda: net.accuracy(x, np.zeros(n, int)),
    ):
        raises_clearly(call, TypeError, r"(Affine\.forward|Sequential)")


@given(dtype=BAD_DTYPES)
def test_non_float_images_are_refused_by_a_cnn(raises_clearly, dtype):
    rng = np.random.default_rng(0)
    net = Sequential([Convolution((2, 1, 3, 3), rng=rng), Relu(), Affine(2 * 2 * 2, 3, rng=rng)])
    x = np.zeros((2, 1, 4, 4)).astype(dtype)
    raises_clearly(lambda: net.predict(x), TypeError, r"Convolution\.forward")


@given(batch_size=st.one_of(st.integers(max_value=0), st.floats(allow_nan=True)))
def test_any_bad_batch_size_is_refused(raises_clearly, batch_size):
    raises_clearly(
        lambda: _net().predict(_x(), batch_size=batch_size),
        (TypeError, ValueError),
        r"Sequential\.predict: expected batch_size",
    )


@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=3))
def test_empty_or_odd_shaped_x_names_the_net_or_layer(raises_clearly, shape):
    x = np.zeros(shape, np.float32)
    if x.size and len(shape) >= 2 and np.prod(shape[1:]) == 4:
        _net().predict(x)  # four features per sample (Affine flattens): works
        return
    raises_clearly(lambda: _net().predict(x), ValueError, r"(Sequential\.predict|Affine\.forward)")


def test_accepts_keyword_is_the_one_probe():
    import framework.net

    assert accepts_keyword(lambda x, train=True: x, "train")
    assert not accepts_keyword(lambda x: x, "train")
    assert not accepts_keyword(len, "train")  # a builtin: no readable signature
    assert framework.net._accepts is accepts_keyword  # the old name still works


def test_batch_mover_passes_batches_through_on_the_same_device():
    x = np.ones((3, 2))
    for device in (None, "cpu"):
        assert batch_mover(x, device)(x) is x
