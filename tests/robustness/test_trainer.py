"""Robustness of the ``Trainer``, ``minibatches`` and ``compare_optimizers``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from framework.layers import Affine, Relu
from framework.net import Sequential
from framework.optimizers import SGD, Adam
from framework.trainer import Trainer, compare_optimizers, minibatches

RNG = np.random.default_rng(0)
X = RNG.standard_normal((12, 4)).astype(np.float32)
T = np.arange(12) % 3


def _net(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential([Affine(4, 5, rng=rng), Relu(), Affine(5, 3, rng=rng)])


def _trainer(**kwargs):
    args = {"network": _net(), "x_train": X, "t_train": T, "verbose": False, **kwargs}
    return Trainer(**args)


def _optimizer_shared_by_two_nets():
    opt = Adam()
    _trainer(optimizer=opt, epochs=1).train()
    second = _trainer(optimizer=opt, epochs=1)
    second.network = _net(seed=1)  # another net with the same names and shapes
    return second.train


def _test_label_too_large():
    t_test = T.copy()
    t_test[-1] = 7
    return _trainer(x_test=X, t_test=t_test, epochs=1).train


CASES = [
    pytest.param(
        lambda: _trainer(x_train=X.tolist()),
        TypeError,
        r"Trainer: expected x_train to be an array with one row per sample, got list",
        id="x-list",
    ),
    pytest.param(
        lambda: _trainer(t_train=T[:5]),
        ValueError,
        r"Trainer: x_train has 12 samples but t_train has 5",
        id="lengths-differ",
    ),
    pytest.param(
        lambda: _trainer(x_train=X[:0], t_train=T[:0]),
        ValueError,
        r"Trainer: x_train holds no samples",
        id="empty",
    ),
    pytest.param(
        lambda: _trainer(x_test=X),
        ValueError,
        r"Trainer: pass both x_test and t_test, or neither",
        id="x-test-alone",
    ),
    pytest.param(
        lambda: _trainer(x_test=X[:, :3], t_test=T),
        ValueError,
        r"Trainer: x_test samples have shape \(3,\) but x_train samples have shape "
        r"\(4,\); expected the same",
        id="x-test-other-shape",
    ),
    pytest.param(
        lambda: _trainer(epochs=-1),
        ValueError,
        r"Trainer: expected epochs >= 0",
        id="epochs-negative",
    ),
    pytest.param(
        lambda: _trainer(epochs=2.5),
        TypeError,
        r"Trainer: expected epochs to be an int, got float",
        id="epochs-float",
    ),
    pytest.param(
        lambda: _trainer(mini_batch_size=0),
        ValueError,
        r"Trainer: expected mini_batch_size >= 1, got 0",
        id="batch-0",
    ),
    pytest.param(
        lambda: _trainer(evaluate_sample_num_per_epoch=0),
        ValueError,
        r"Trainer: expected evaluate_sample_num_per_epoch >= 1",
        id="evaluate-0",
    ),
    pytest.param(
        lambda: _trainer(optimizer="adamw"),
        ValueError,
        r"Trainer: unknown optimizer 'adamw'; expected one of",
        id="optimizer-name",
    ),
    pytest.param(
        lambda: _trainer(optimizer="sgd", optimizer_param={"lr": -1}),
        ValueError,
        r"SGD: expected lr > 0 and finite, got -1",
        id="optimizer-param-negative-lr",
    ),
    pytest.param(
        lambda: _trainer(optimizer="momentum", optimizer_param={"momentum": 5}),
        ValueError,
        r"Momentum: expected momentum in \[0, 1\)",
        id="optimizer-param-5",
    ),
    pytest.param(
        lambda: _trainer(optimizer="adam", optimizer_param={"alpha": 0.1}),
        TypeError,
        r"Trainer: optimizer_param \{'alpha': 0\.1\} does not fit Adam",
        id="optimizer-param-unknown",
    ),
    pytest.param(
        lambda: _trainer(optimizer=SGD(0.1), optimizer_param={"lr": 0.1}),
        ValueError,
        r"Trainer: optimizer_param .* leave it out",
        id="optimizer-object-and-param",
    ),
    pytest.param(
        lambda: _trainer(optimizer=SGD),
        TypeError,
        r"Trainer: optimizer is the class SGD; expected an instance, e\.g\. SGD\(lr=",
        id="optimizer-class",
    ),
    pytest.param(
        lambda: _trainer(optimizer=42),
        TypeError,
        r"Trainer: expected optimizer to be a name such as 'Adam' or an object",
        id="optimizer-number",
    ),
    pytest.param(
        lambda: _trainer(network="mlp"),
        TypeError,
        r"Trainer: cannot train a str",
        id="network-string",
    ),
    pytest.param(
        lambda: _trainer(rng="seed"),
        TypeError,
        r"Trainer: expected rng to be a numpy\.random\.Generator or an int seed",
        id="rng-string",
    ),
    pytest.param(
        lambda: _trainer(t_train=T - 1),
        ValueError,
        r"Trainer: t_train holds the label -1; expected class indices",
        id="label-neg",
    ),
    pytest.param(
        lambda: _trainer(x_test=X, t_test=T - 2),
        ValueError,
        r"Trainer: t_test holds the label -2",
        id="test-label-negative",
    ),
    pytest.param(
        _test_label_too_large(),
        ValueError,
        r"Sequential\.accuracy: t holds labels from 0 to 7, but the net gives 3 scores "
        r"per sample; expected labels in \[0, 2\]",
        id="test-label-too-large",
    ),
    pytest.param(
        _optimizer_shared_by_two_nets(),
        ValueError,
        r"Adam\.update: the state kept for '0\.W' belongs to another array.*new "
        r"optimizer for each net",
        id="optimizer-shared-by-two-nets",
    ),
    pytest.param(
        lambda: list(minibatches(X, T, 0)),
        ValueError,
        r"minibatches: expected batch_size >= 1, got 0",
        id="minibatches-batch-0",
    ),
    pytest.param(
        lambda: list(minibatches(X, T[:3], 4)),
        ValueError,
        r"minibatches: x has 12 samples but t has 3",
        id="minibatches-lengths",
    ),
    pytest.param(
        lambda: compare_optimizers(_net(), [SGD(0.1)], X, T),
        TypeError,
        r"compare_optimizers: expected optimizers as a dict",
        id="compare-list",
    ),
    pytest.param(
        lambda: compare_optimizers(_net(), {"SGD": SGD(0.1)}, X, T, iters=0),
        ValueError,
        r"compare_optimizers: expected iters >= 1",
        id="compare-iters-0",
    ),
    pytest.param(
        lambda: compare_optimizers(_net(), {"SGD": SGD(0.1)}, X, T, batch_size=-1),
        ValueError,
        r"compare_optimizers: expected batch_size >= 1",
        id="compare-batch-negative",
    ),
]


@pytest.mark.parametrize(("fn", "exc", "regex"), CASES)
def test_case(fn, exc, regex):
    with pytest.raises(exc, match=regex):
        fn()


LABEL_DTYPES = st.one_of(
    hnp.integer_dtypes(endianness="="),
    hnp.unsigned_integer_dtypes(endianness="="),
    hnp.floating_dtypes(endianness="="),
    hnp.complex_number_dtypes(endianness="="),
    st.just(np.dtype(bool)),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    t=st.tuples(
        LABEL_DTYPES, st.sampled_from([(12,), (12, 1), (12, 3), (12, 4), (12, 2, 2)])
    ).flatmap(
        lambda ds: hnp.arrays(np.int64, ds[1], elements=st.integers(-2, 4)).map(
            lambda a: a.astype(ds[0])
        )
    )
)
def test_any_label_array_trains_or_is_refused_by_name(raises_clearly, t):
    """Labels of any dtype and shape: the net trains, or a framework name says why not."""

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _trainer(t_train=t, x_test=X, t_test=t, epochs=1, mini_batch_size=5).train()

    refusals = (TypeError, ValueError, FloatingPointError)  # the last: targets giving loss inf
    try:
        run()
    except refusals:
        raises_clearly(run, refusals, r"(Trainer|Sequential|SoftmaxWithLoss)")
    else:  # trained: the labels were usable class indices or one-hot rows
        assert t.dtype.kind in "iuf" or t.dtype == bool


def test_an_optimizer_reset_between_nets_trains_both():
    opt = Adam()
    _trainer(optimizer=opt, epochs=1).train()
    opt.reset()
    second = _trainer(optimizer=opt, epochs=1)
    second.network = _net(seed=1)
    assert len(second.train()["loss"]) == 1  # 12 samples, one batch
