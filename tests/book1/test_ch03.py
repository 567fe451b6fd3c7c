"""Book 1, chapter 3 (neural networks): the use its scripts make of ``common/functions.py``.

Written in our own words: activation functions on the plotting ranges, the
hand-built 3-layer network, softmax and its overflow countermeasure, and the
batched inference of ``neuralnet_mnist_batch.py`` (random weights of the shapes of
the book's ``sample_weight.pkl``, float32 images mixed with float64 weights).
The numbers are those the book prints.
"""

from __future__ import annotations

import numpy as np
import pytest

from framework.functions import identity_function, relu, sigmoid, softmax, step_function

pytestmark = pytest.mark.filterwarnings("error")  # the book's arithmetic raises no warning


def test_activation_functions_on_the_plotting_range():
    x = np.arange(-5.0, 5.0, 0.1)  # step_function.py, sigmoid.py, relu.py
    step, sig, rel = step_function(x), sigmoid(x), relu(x)
    assert step.shape == sig.shape == rel.shape == (100,)
    np.testing.assert_array_equal(step, (x > 0).astype(int))
    assert np.all((sig > 0) & (sig < 1)) and np.all(np.diff(sig) > 0)  # smooth, increasing
    np.testing.assert_array_equal(rel, np.where(x > 0, x, 0.0))
    # sig_step_compare.py: both lie in [0, 1] and agree far from 0.
    assert np.all(np.abs(sig - step)[np.abs(x) > 4.5] < 0.011)


def test_activation_values_the_book_prints():
    x = np.array([-1.0, 1.0, 2.0])
    np.testing.assert_array_equal(step_function(x), [0, 1, 1])
    np.testing.assert_allclose(sigmoid(x), [0.26894142, 0.73105858, 0.88079708], atol=1e-8)
    np.testing.assert_array_equal(relu(x), [0.0, 1.0, 2.0])


def _init_network():
    """The 3-layer network of section 3.4.3 with the book's hand-chosen weights."""
    return {
        "W1": np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]),
        "b1": np.array([0.1, 0.2, 0.3]),
        "W2": np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]),
        "b2": np.array([0.1, 0.2]),
        "W3": np.array([[0.1, 0.3], [0.2, 0.4]]),
        "b3": np.array([0.1, 0.2]),
    }


def _forward(network, x, output=identity_function):
    z1 = sigmoid(x @ network["W1"] + network["b1"])
    z2 = sigmoid(z1 @ network["W2"] + network["b2"])
    return output(z2 @ network["W3"] + network["b3"])


def test_three_layer_network_forward():
    y = _forward(_init_network(), np.array([1.0, 0.5]))
    np.testing.assert_allclose(y, [0.31682708, 0.69627909], atol=1e-8)
    # The first layer alone, as the book prints it step by step.
    a1 = np.array([1.0, 0.5]) @ _init_network()["W1"] + _init_network()["b1"]
    np.testing.assert_allclose(a1, [0.3, 0.7, 1.1], atol=1e-12)
    np.testing.assert_allclose(sigmoid(a1), [0.57444252, 0.66818777, 0.75026011], atol=1e-8)


def test_softmax_example_and_overflow_countermeasure():
    y = softmax(np.array([0.3, 2.9, 4.0]))
    np.testing.assert_allclose(y, [0.01821127, 0.24519181, 0.73659691], atol=1e-8)
    assert np.sum(y) == pytest.approx(1.0, abs=1e-15)
    big = softmax(np.array([1010.0, 1000.0, 990.0]))  # the naive form gives nan here
    np.testing.assert_allclose(big, [9.99954600e-01, 4.53978686e-05, 2.06106005e-09], rtol=1e-7)


def test_batched_inference_equals_one_by_one_with_mixed_dtypes():
    rng = np.random.default_rng(0)
    # The shapes of sample_weight.pkl; weights float64, images float32 as load_mnist gives.
    network = {
        "W1": rng.standard_normal((784, 50)) * 0.1,
        "b1": rng.standard_normal(50) * 0.1,
        "W2": rng.standard_normal((50, 100)) * 0.1,
        "b2": rng.standard_normal(100) * 0.1,
        "W3": rng.standard_normal((100, 10)) * 0.1,
        "b3": rng.standard_normal(10) * 0.1,
    }
    x = rng.random((300, 784), dtype=np.float32)
    t = rng.integers(0, 10, 300)
    y_batch = np.concatenate([_forward(network, x[i : i + 100], softmax) for i in (0, 100, 200)])
    assert y_batch.shape == (300, 10)
    np.testing.assert_allclose(y_batch.sum(axis=1), 1.0, rtol=1e-12)
    singles = np.array([_forward(network, x[i], softmax) for i in range(300)])  # 1-D samples
    np.testing.assert_allclose(y_batch, singles, rtol=1e-6, atol=1e-12)
    p = np.argmax(y_batch, axis=1)
    assert p.shape == (300,)
    accuracy_cnt = int(np.sum(p == t))
    assert accuracy_cnt == sum(int(np.argmax(singles[i]) == t[i]) for i in range(300))
