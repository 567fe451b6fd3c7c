"""F.conv2d, F.deconv2d, F.pooling and their plain twins: pairs, floored sizes, gradients.

Each backward is checked against the numerical gradient (float64, random upstream
gradient) and against PyTorch; each ``*_simple`` twin is proved equal to its fused form.
"""

from __future__ import annotations

import numpy as np
import pytest

import framework.autograd.functions as F
from framework.autograd import Variable

from ._helpers import backprop, check_function, torch_compare


def _distinct(rng, shape):
    """Values at least 0.01 apart: no ties for max pooling within eps."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 + rng.uniform(0, 1e-3)


def _conv_arrays(r):
    return [r.standard_normal((2, 3, 7, 6)), r.standard_normal((4, 3, 3, 2)), r.standard_normal(4)]


# name -> (ours, PyTorch's (None: no equivalent), input arrays from rng)
CASES = {
    "conv2d_stride_3_1_pad_1_0": (
        lambda x, W, b: F.conv2d(x, W, b, stride=(3, 1), pad=(1, 0)),
        lambda tf, x, W, b: tf.conv2d(x, W, b, stride=(3, 1), padding=(1, 0)),
        _conv_arrays,
    ),
    "conv2d_floored": (  # (7 + 2 - 3) // 2 + 1 = 4 rows: the last input row is never reached
        lambda x, W, b: F.conv2d(x, W, b, stride=2, pad=1),
        lambda tf, x, W, b: tf.conv2d(x, W, b, stride=2, padding=1),
        _conv_arrays,
    ),
    "conv2d_simple": (
        lambda x, W, b: F.conv2d_simple(x, W, b, stride=(3, 1), pad=(1, 0)),
        lambda tf, x, W, b: tf.conv2d(x, W, b, stride=(3, 1), padding=(1, 0)),
        _conv_arrays,
    ),
    "deconv2d": (
        lambda x, W, b: F.deconv2d(x, W, b, stride=2, pad=1),
        lambda tf, x, W, b: tf.conv_transpose2d(x, W, b, stride=2, padding=1),
        lambda r: [
            r.standard_normal((2, 3, 4, 3)),
            r.standard_normal((3, 2, 3, 3)),
            r.standard_normal(2),
        ],
    ),
    "deconv2d_pairs_nobias": (
        lambda x, W: F.deconv2d(x, W, stride=(2, 1), pad=(0, 1)),
        lambda tf, x, W: tf.conv_transpose2d(x, W, stride=(2, 1), padding=(0, 1)),
        lambda r: [r.standard_normal((1, 2, 3, 4)), r.standard_normal((2, 3, 2, 3))],
    ),
    "deconv2d_outsize": (  # stride 2 maps 7 and 8 rows to 4: outsize picks 8
        lambda x, W: F.deconv2d(x, W, stride=2, pad=1, outsize=(8, 8)),
        lambda tf, x, W: tf.conv_transpose2d(x, W, stride=2, padding=1, output_padding=1),
        lambda r: [r.standard_normal((1, 2, 4, 4)), r.standard_normal((2, 1, 3, 3))],
    ),
    "pooling_stride_2_1": (
        lambda x: F.pooling(x, (2, 3), stride=(2, 1), pad=(1, 0)),
        lambda tf, x: tf.max_pool2d(x, (2, 3), stride=(2, 1), padding=(1, 0)),
        lambda r: [_distinct(r, (2, 2, 5, 6))],
    ),
    "pooling_simple": (
        lambda x: F.pooling_simple(x, 2, stride=2),
        lambda tf, x: tf.max_pool2d(x, 2, stride=2),
        lambda r: [_distinct(r, (2, 3, 5, 5))],  # 5 rows, stride 2: floored to 2
    ),
    "average_pooling_stride_1_2": (
        lambda x: F.average_pooling(x, 2, stride=(1, 2)),
        lambda tf, x: tf.avg_pool2d(x, 2, stride=(1, 2)),
        lambda r: [r.standard_normal((1, 2, 4, 5))],
    ),
    "im2col_pairs": (
        lambda x: F.im2col(x, (2, 3), stride=(3, 1), pad=(1, 0)),
        None,
        lambda r: [r.standard_normal((2, 2, 6, 5))],
    ),
    "col2im_pairs": (
        lambda c: F.col2im(c, (1, 2, 6, 5), (2, 3), stride=(3, 1), pad=(1, 0)),
        None,
        lambda r: [r.standard_normal((9, 12))],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_backward_matches_numerical_gradient(name, rng):
    fn, _, make = CASES[name]
    check_function(fn, *make(rng), rng=rng)


@pytest.mark.reference
@pytest.mark.parametrize("name", [n for n, case in CASES.items() if case[1] is not None])
def test_matches_pytorch(name, rng):
    torch = pytest.importorskip("torch")
    fn, theirs, make = CASES[name]
    tf = torch.nn.functional
    torch_compare(fn, lambda *ts: theirs(tf, *ts), *make(rng), rng=rng, torch=torch, rtol=1e-9)


@pytest.mark.parametrize(
    ("fused", "simple", "make"),
    [
        (F.conv2d, F.conv2d_simple, _conv_arrays),
        (
            lambda x: F.pooling(x, 3, stride=2, pad=1),
            lambda x: F.pooling_simple(x, 3, stride=2, pad=1),
            lambda r: [_distinct(r, (2, 2, 6, 7))],
        ),
    ],
)
def test_simple_twins_equal_the_fused_forms(fused, simple, make, rng):
    arrays = make(rng)
    g = rng.standard_normal(fused(*arrays).shape)
    y1, grads1 = backprop(fused, *arrays, g=g)
    y2, grads2 = backprop(simple, *arrays, g=g)
    np.testing.assert_allclose(y1, y2, rtol=1e-12, atol=1e-12)
    for a, b in zip(grads1, grads2, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_floored_output_sizes_follow_the_book():
    x = np.zeros((1, 1, 7, 7))
    assert F.conv2d(x, np.zeros((1, 1, 3, 3)), stride=2).shape == (1, 1, 3, 3)
    assert F.conv2d(x, np.zeros((1, 1, 3, 3)), stride=(3, 1), pad=(1, 0)).shape == (1, 1, 3, 5)
    assert F.pooling(x, 2, 2).shape == (1, 1, 3, 3)
    assert F.average_pooling(x, 2, 2).shape == (1, 1, 3, 3)
    assert F.im2col(x, 3, stride=2, to_matrix=False).shape == (1, 1, 3, 3, 3, 3)
    assert F.deconv2d(np.zeros((1, 1, 3, 3)), np.zeros((1, 2, 3, 3)), stride=2).shape == (
        1,
        2,
        7,
        7,
    )


def test_conv2d_backward_is_differentiable_again(rng):
    """``create_graph=True`` through conv2d: d/dx of sum(gW**2) exists and is checked."""
    x0, W0 = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 2, 2))

    def f(x):
        W = Variable(W0.copy())
        y = F.conv2d(x, W, stride=2)
        F.sum(y * y).backward(create_graph=True)
        x.cleargrad()  # keep only the gradient of the result below
        return F.sum(W.grad * W.grad)

    check_function(f, x0, rng=rng)


def test_bad_windows_and_deconv_outsize_are_named():
    with pytest.raises(ValueError, match=r"conv2d: expected stride as an int or a pair"):
        F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), stride="2")
    with pytest.raises(ValueError, match=r"pooling: a 5x5 window .* does not fit .* 4x4"):
        F.pooling(np.zeros((1, 1, 4, 4)), 5)
    with pytest.raises(ValueError, match=r"deconv2d: expected x of shape \(N, C, H, W\) and W"):
        F.deconv2d(np.zeros((1, 2, 3, 3)), np.zeros((3, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"deconv2d: outsize \(9, 9\) does not give back"):
        F.deconv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), stride=2, pad=1, outsize=9)


FLOAT32_CASES = ["conv2d_simple", "deconv2d", "pooling_stride_2_1", "im2col_pairs"]


@pytest.mark.parametrize("name", FLOAT32_CASES)
def test_float32_stays_float32(name, rng):
    fn, _, make = CASES[name]
    arrays = [a.astype(np.float32) for a in make(rng)]
    y, grads = backprop(fn, *arrays)
    assert y.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)
