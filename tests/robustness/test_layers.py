"""Robustness of the hand-written layers: bad input is refused at the door, clearly.

Each case of ``CASES`` is ``(callable, exception type, regex of the message)``; the
message names the layer (or function) and says what was expected.  The checks
run once per call, never per element.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from framework.functions import softmax
from framework.gradient import gradient_check, numerical_gradient
from framework.layers import (
    AddLayer,
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    LeakyRelu,
    MeanSquaredError,
    MulLayer,
    Pooling,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
)

W4 = np.ones((2, 1, 3, 3), dtype=np.float32)
X4 = np.ones((1, 1, 5, 5), dtype=np.float32)
Z = np.array([[1 + 2j, -1 + 0j]])
SCORES = np.zeros((2, 3), dtype=np.float32)
EMPTY_ROWS = np.zeros((0, 4), dtype=np.float32)
EMPTY_IMAGES = np.zeros((0, 1, 5, 5), dtype=np.float32)
NOT_A_DISTRIBUTION = "expected each row of t to be a distribution"


def _loss(t):
    return lambda: SoftmaxWithLoss().forward(SCORES, np.array(t, dtype=np.float32))


CASES = [
    pytest.param(
        lambda: AddLayer().forward([1, 2], [3, 4]),
        TypeError,
        r"AddLayer\.forward: expected x to be a number or an array, got list",
        id="add-lists",
    ),
    pytest.param(
        lambda: MulLayer().forward([1, 2], 3),
        TypeError,
        r"MulLayer\.forward: expected x to be a number or an array, got list",
        id="mul-list",
    ),
    pytest.param(
        lambda: Convolution(W4, stride=1.7),
        ValueError,
        r"Convolution: expected stride >= 1 and pad >= 0 \(ints or pairs",
        id="conv-float-stride",
    ),
    pytest.param(
        lambda: Convolution(W4, pad=(0.5, 1)),
        ValueError,
        r"Convolution: expected stride >= 1 and pad >= 0 \(ints or pairs",
        id="conv-float-pad",
    ),
    pytest.param(
        lambda: Pooling(2.5, 2),
        ValueError,
        r"Pooling: expected pool_h and pool_w to be ints, got 2\.5 and 2",
        id="pool-float-window",
    ),
    pytest.param(
        lambda: Pooling(2, 2, stride=1.5),
        ValueError,
        r"Pooling: expected stride >= 1",
        id="pool-float-stride",
    ),
    *(
        pytest.param(
            (lambda make=make: make().forward(Z)),
            TypeError,
            rf"{name}\.forward: expected x to be a float array, got complex128",
            id=f"{name}-complex",
        )
        for name, make in [
            ("Relu", Relu),
            ("Sigmoid", Sigmoid),
            ("Tanh", Tanh),
            ("LeakyRelu", LeakyRelu),
            ("Dropout", Dropout),
        ]
    ),
    pytest.param(
        lambda: BatchNormalization(4).forward(EMPTY_ROWS),
        ValueError,
        r"BatchNormalization\.forward: got an empty batch \(x of shape \(0, 4\)\)",
        id="bn-empty-batch",
    ),
    pytest.param(
        lambda: BatchNormalization(4, eps=0.0),
        ValueError,
        r"BatchNormalization: expected eps > 0",
        id="bn-eps-zero",
    ),
    pytest.param(
        lambda: BatchNormalization(4, eps=-1e-5),
        ValueError,
        r"BatchNormalization: expected eps > 0",
        id="bn-eps-negative",
    ),
    pytest.param(
        lambda: Affine(4, 3).forward(EMPTY_ROWS),
        ValueError,
        r"Affine\.forward: got an empty batch",
        id="affine-empty-batch",
    ),
    pytest.param(
        lambda: Convolution(W4).forward(EMPTY_IMAGES),
        ValueError,
        r"Convolution\.forward: got an empty batch",
        id="conv-empty-batch",
    ),
    pytest.param(
        lambda: Pooling(2, 2).forward(EMPTY_IMAGES),
        ValueError,
        r"Pooling\.forward: got an empty batch",
        id="pool-empty-batch",
    ),
    pytest.param(
        lambda: Relu().forward(EMPTY_ROWS),
        ValueError,
        r"Relu\.forward: got an empty batch",
        id="relu-empty-batch",
    ),
    pytest.param(
        lambda: SoftmaxWithLoss().forward(EMPTY_ROWS, np.zeros(0, dtype=int)),
        ValueError,
        r"SoftmaxWithLoss\.forward: got an empty batch",
        id="loss-empty-batch",
    ),
    pytest.param(
        lambda: MeanSquaredError().forward(EMPTY_ROWS, EMPTY_ROWS),
        ValueError,
        r"MeanSquaredError\.forward: got an empty batch \(y of shape \(0, 4\)\)",
        id="mse-empty-batch",
    ),
    pytest.param(
        lambda: Affine(784, -5),
        ValueError,
        r"Affine: expected output_size to be a positive int .*got -5",
        id="affine-negative-size",
    ),
    pytest.param(
        lambda: Affine(0, 10),
        ValueError,
        r"Affine: expected input_size to be a positive int .*got 0",
        id="affine-zero-size",
    ),
    pytest.param(
        _loss([[0, 0, 0], [1, 0, 0]]),
        ValueError,
        rf"SoftmaxWithLoss\.forward: {NOT_A_DISTRIBUTION}.*row sums from 0 to 1",
        id="loss-zero-row",
    ),
    pytest.param(
        _loss([[1, 1, 0], [1, 0, 0]]),
        ValueError,
        rf"SoftmaxWithLoss\.forward: {NOT_A_DISTRIBUTION}.*row sums from 1 to 2",
        id="loss-row-sums-to-2",
    ),
    pytest.param(
        _loss([[1.5, -0.5, 0], [1, 0, 0]]),
        ValueError,
        rf"SoftmaxWithLoss\.forward: {NOT_A_DISTRIBUTION}.*smallest entry -0\.5",
        id="loss-negative-entry",
    ),
    pytest.param(
        lambda: gradient_check(42, np.ones(3)),
        TypeError,
        r"gradient_check: expected a net .* or a layer .*got int",
        id="gradient-check-not-a-layer",
    ),
    pytest.param(
        lambda: gradient_check(Relu(), [1.0, 2.0]),
        TypeError,
        r"gradient_check: expected x to be a float array .*got list",
        id="gradient-check-list",
    ),
    pytest.param(
        lambda: numerical_gradient(lambda x: 0.0, np.arange(3)),
        TypeError,
        r"numerical_gradient: expected x to be a float array",
        id="numerical-gradient-int",
    ),
]


@pytest.mark.parametrize(("fn", "exc", "match"), CASES)
def test_bad_input_is_refused_clearly(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_empty_batch_leaves_the_running_statistics_alone():
    bn = BatchNormalization(4, dtype="float32")
    before = bn.running_mean.copy(), bn.running_var.copy()
    with pytest.raises(ValueError, match="empty batch"):
        bn.forward(EMPTY_ROWS, train=True)
    np.testing.assert_array_equal(bn.running_mean, before[0])
    np.testing.assert_array_equal(bn.running_var, before[1])
    assert np.isfinite(bn.running_var).all()


def test_soft_labels_that_sum_to_one_stay_allowed():
    t = np.array([[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]], dtype=np.float32)
    loss = SoftmaxWithLoss().forward(SCORES, t)
    np.testing.assert_allclose(loss, np.log(3), rtol=1e-6)


def test_add_and_mul_still_take_numbers_and_arrays():
    assert AddLayer().forward(1, 2.5) == 3.5
    assert MulLayer().forward(np.float32(2), 3) == 6
    np.testing.assert_array_equal(AddLayer().forward(np.ones(2), np.ones(2)), [2, 2])


def test_softmax_underflow_does_not_raise_under_seterr_raise():
    x = np.array([[0.0, -1000.0, 5.0]])
    with np.errstate(all="raise"):
        y = softmax(x)
        layer = SoftmaxWithLoss()
        loss = layer.forward(x, np.array([1]))
        dx = layer.backward()
    assert y[0, 1] == 0.0 and np.isfinite(loss) and np.isfinite(dx).all()


@given(
    t=hnp.arrays(
        dtype=st.sampled_from([np.int8, np.int64, np.uint8, np.float32, np.float64, np.bool_]),
        shape=st.sampled_from([(4,), (4, 1), (4, 3), (3,), (4, 2), (2, 2, 2)]),
    )
)
def test_any_target_is_accepted_or_refused_by_softmax_with_loss_by_name(t):
    """Targets of every dtype and shape: a finite loss, or an error naming the layer."""
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    try:
        loss = SoftmaxWithLoss().forward(x, t)
    except (ValueError, TypeError) as error:
        assert str(error).startswith("SoftmaxWithLoss.forward: "), error
    else:
        assert np.isfinite(loss)
        assert t.shape in ((4,), (4, 1), (4, 3))
