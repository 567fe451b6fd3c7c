"""Tests for im2col/col2im and the Convolution, Pooling and Flatten layers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework.backend import to_cpu
from framework.functions import (
    col2im,
    col2im_channels_last,
    conv_output_size,
    im2col,
    im2col_channels_last,
    pair,
)
from framework.gradient import gradient_check
from framework.layers import Convolution, Flatten, Pooling
from framework.layers.conv import ConvolutionChannelsLast, PoolingWindowLoop
from tests.helpers import check_backward

# (x shape, W shape, stride, pad): stride 1 and 2, pad 0 and 1, square and not
CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((2, 2, 7, 7), (3, 2, 3, 3), 2, 0),
    ((2, 2, 7, 7), (3, 2, 3, 3), 2, 1),
    ((2, 2, 5, 6), (3, 2, 2, 3), 1, 0),
    ((1, 3, 7, 6), (2, 3, 3, 2), 2, 1),
    # strides that do not step onto the last row/column: the output size is floored
    ((2, 2, 6, 6), (3, 2, 3, 3), 2, 0),
    # different stride and pad along H and W
    ((2, 2, 7, 5), (3, 2, 3, 2), (3, 1), (1, 0)),
    ((1, 2, 8, 7), (2, 2, 2, 3), (2, 3), (0, 1)),
]
# (pool_h, pool_w, stride, pad) on 6 x 6 images: tiled, overlapping, padded, not square
# floored (3x3 windows, stride 2), different stride and pad along H and W
POOL_CASES = [
    (2, 2, 2, 0),
    (3, 3, 3, 0),
    (2, 2, 1, 0),
    (3, 3, 1, 1),
    (3, 2, 1, 1),
    (2, 4, 2, 1),
    (3, 3, 2, 0),
    (3, 2, (2, 1), (1, 0)),
]


def im2col_by_loops(x, fh, fw, stride, pad):
    """The definition, one window at a time: row (n, i, j), columns (c, y, x)."""
    N, C, H, W = x.shape
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (H + 2 * ph - fh) // sh + 1, (W + 2 * pw - fw) // sw + 1
    rows = [
        xp[n, :, i * sh : i * sh + fh, j * sw : j * sw + fw].ravel()
        for n in range(N)
        for i in range(oh)
        for j in range(ow)
    ]
    return np.array(rows)


def conv_by_loops(x, W, b, stride, pad):
    """Cross-correlation from its definition, for checking the fast version."""
    FN, C, FH, FW = W.shape
    N, _, H, Wd = x.shape
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (H + 2 * ph - FH) // sh + 1, (Wd + 2 * pw - FW) // sw + 1
    out = np.empty((N, FN, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * sh : i * sh + FH, j * sw : j * sw + FW]
            out[:, :, i, j] = np.tensordot(win, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def distinct(rng, shape):
    """Values with no two closer than 0.01, so max-pooling has no near-ties."""
    return (rng.permutation(int(np.prod(shape))) * 0.01 + 0.005).reshape(shape) - 0.5


# -- im2col / col2im -----------------------------------------------------------------


@pytest.mark.parametrize("x_shape, W_shape, stride, pad", CONV_CASES)
def test_im2col_matches_the_window_by_window_definition(x_shape, W_shape, stride, pad, rng):
    x = rng.standard_normal(x_shape)
    col = im2col(x, W_shape[2], W_shape[3], stride, pad)
    np.testing.assert_array_equal(col, im2col_by_loops(x, W_shape[2], W_shape[3], stride, pad))


def test_im2col_of_a_tiny_image_by_hand():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(
        im2col(x, 2, 2), [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    )


def test_col2im_sums_overlapping_windows():
    # A 3x3 image, 2x2 windows, stride 1: the centre pixel is in all 4 windows.
    counts = col2im(np.ones((4, 4)), (1, 1, 3, 3), 2, 2)
    np.testing.assert_array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(3, 7),
    w=st.integers(3, 7),
    fh=st.integers(1, 3),
    fw=st.integers(1, 3),
    stride=st.integers(1, 3),
    pad=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_col2im_is_the_adjoint_of_im2col(n, c, h, w, fh, fw, stride, pad, seed):
    # <im2col(x), g> == <x, col2im(g)> for all x, g: col2im is im2col's backward.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    col = im2col(x, fh, fw, stride, pad)
    g = rng.standard_normal(col.shape)
    back = col2im(g, x.shape, fh, fw, stride, pad)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(col * g), np.sum(x * back), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("x_shape, W_shape, stride, pad", CONV_CASES)
def test_channels_last_im2col_holds_the_same_windows_in_y_x_c_order(
    x_shape, W_shape, stride, pad, rng
):
    x = rng.standard_normal(x_shape)
    N, C, H, W = x_shape
    fh, fw = W_shape[2:]
    col = im2col_channels_last(x.transpose(0, 2, 3, 1), fh, fw, stride, pad)
    book = im2col(x, fh, fw, stride, pad).reshape(-1, C, fh, fw)
    np.testing.assert_array_equal(col, book.transpose(0, 2, 3, 1).reshape(len(book), -1))
    # col2im_channels_last is its adjoint, as col2im is im2col's
    g = rng.standard_normal(col.shape)
    back = col2im_channels_last(g, (N, H, W, C), fh, fw, stride, pad)
    assert back.shape == (N, H, W, C)
    np.testing.assert_allclose(np.sum(col * g), np.sum(x.transpose(0, 2, 3, 1) * back))


def test_im2col_and_col2im_keep_dtype_and_leave_inputs_alone(rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    x0 = x.copy()
    col = im2col(x, 3, 3, 1, 1)
    g = np.ones_like(col)
    assert col.dtype == np.float32
    assert col2im(g, x.shape, 3, 3, 1, 1).dtype == np.float32
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(g, 1)


def test_conv_output_size_is_the_books_formula():
    assert conv_output_size(28, 5) == 24
    assert conv_output_size(28, 3, 1, 1) == 28
    assert conv_output_size(7, 3, 2, 1) == 4


# -- Convolution ---------------------------------------------------------------------


@pytest.mark.parametrize("x_shape, W_shape, stride, pad", CONV_CASES)
def test_convolution_forward_matches_the_definition(x_shape, W_shape, stride, pad, rng):
    x, W, b = (
        rng.standard_normal(x_shape),
        rng.standard_normal(W_shape),
        rng.standard_normal(W_shape[0]),
    )
    out = Convolution(W, b, stride, pad).forward(x)
    np.testing.assert_allclose(out, conv_by_loops(x, W, b, stride, pad), rtol=1e-12, atol=1e-12)


def test_convolution_is_the_books_im2col_product(rng):
    x, W, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), np.ones(4)
    out = Convolution(W, b, pad=1).forward(x)
    book = im2col(x, 3, 3, 1, 1) @ W.reshape(4, -1).T + b
    np.testing.assert_allclose(out, book.reshape(2, 6, 6, 4).transpose(0, 3, 1, 2), rtol=1e-12)


@pytest.mark.parametrize("x_shape, W_shape, stride, pad", CONV_CASES)
def test_convolution_gradients(x_shape, W_shape, stride, pad, rng):
    x = rng.standard_normal(x_shape)
    layer = Convolution(rng.standard_normal(W_shape), rng.standard_normal(W_shape[0]), stride, pad)

    def backward(g):
        dx = layer.backward(g)
        return dx, layer.dW, layer.db

    check_backward(lambda: layer.forward(x), backward, (x, layer.W, layer.b), rng)


@pytest.mark.parametrize("x_shape, W_shape, stride, pad", CONV_CASES)
def test_convolution_and_pooling_relative_errors_below_1e_6(x_shape, W_shape, stride, pad, rng):
    x = rng.standard_normal(x_shape)
    conv = Convolution(rng.standard_normal(W_shape), rng.standard_normal(W_shape[0]), stride, pad)
    errors = gradient_check(conv, x, rng=rng)
    assert set(errors) == {"x", "W", "b"} and max(errors.values()) < 1e-6, errors
    for mode in ("max", "average"):
        errors = gradient_check(Pooling(2, 2, 1, mode=mode), distinct(rng, x_shape), rng=rng)
        assert errors["x"] < 1e-6, (mode, errors)


@pytest.mark.parametrize("cls", [Convolution, ConvolutionChannelsLast])
def test_convolution_backward_params_only_skips_dx_but_fills_dW(cls, rng):
    x = rng.standard_normal((2, 1, 5, 5))
    layer = cls(rng.standard_normal((3, 1, 3, 3)), np.zeros(3))
    g = rng.standard_normal(layer.forward(x).shape)
    dx = layer.backward(g)
    dW, db = layer.dW.copy(), layer.db.copy()
    layer.dW[...] = 0
    assert layer.backward_params_only(g) is None
    np.testing.assert_allclose(layer.dW, dW, rtol=1e-10)
    np.testing.assert_allclose(layer.db, db, rtol=1e-10)
    assert dx.shape == x.shape


def test_convolution_in_test_mode_keeps_nothing_for_backward(rng):
    layer = Convolution((3, 2, 3, 3), rng=rng)
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    out = layer.forward(x, train=False)
    assert layer.col is None
    np.testing.assert_array_equal(out, layer.forward(x))  # same numbers in both modes
    assert layer.col is not None
    layer.forward(x, train=False)
    with pytest.raises(RuntimeError, match="last forward ran with train=False"):
        layer.backward(np.ones_like(out))


def test_convolution_params_are_its_arrays_and_backward_binds_new_grads(rng):
    layer = Convolution((4, 2, 3, 3), rng=rng)
    params = layer.params
    assert params["W"] is layer.W and params["b"] is layer.b
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    layer.forward(x)
    layer.backward(np.ones((2, 4, 3, 3), np.float32))
    grads = layer.grads
    assert grads["W"] is layer.dW and grads["b"] is layer.db
    kept = {k: g.copy() for k, g in grads.items()}
    assert float(np.abs(kept["W"]).sum()) > 0
    layer.forward(2 * x)
    layer.backward(np.ones((2, 4, 3, 3), np.float32))
    assert layer.dW is not grads["W"] and layer.db is not grads["b"]
    for k in kept:  # the gradients returned before are intact
        np.testing.assert_array_equal(grads[k], kept[k])
    assert layer.dW.dtype == np.float32 and layer.dW.flags.c_contiguous


def test_convolution_from_a_shape_uses_he_init_in_float32(rng):
    layer = Convolution((64, 16, 3, 3), rng=rng)
    assert layer.W.shape == (64, 16, 3, 3) and layer.W.dtype == np.float32
    assert layer.b.dtype == np.float32 and not layer.b.any()
    assert layer.W.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    xavier = Convolution((64, 16, 3, 3), init="xavier", rng=rng, dtype="float64")
    assert xavier.W.dtype == np.float64
    assert xavier.W.std() == pytest.approx(np.sqrt(1 / (16 * 9)), rel=0.05)
    assert Convolution((8, 1, 2, 2), init=0.01, rng=rng).W.std() == pytest.approx(0.01, rel=0.3)


def test_convolution_keeps_float32_and_never_changes_x_or_dout(rng):
    layer = Convolution((3, 2, 3, 3), pad=1, rng=rng)
    x = rng.standard_normal((2, 2, 4, 4)).astype(np.float32)
    x0 = x.copy()
    out = layer.forward(x)
    g = rng.standard_normal(out.shape).astype(np.float32)
    g0 = g.copy()
    dx = layer.backward(g)
    assert out.dtype == dx.dtype == layer.dW.dtype == np.float32
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(g, g0)


@pytest.mark.reference
@pytest.mark.parametrize("x_shape, W_shape, stride, pad", CONV_CASES)
def test_convolution_matches_torch_conv2d(x_shape, W_shape, stride, pad, rng):
    torch = pytest.importorskip("torch")
    x, W, b = (rng.standard_normal(s) for s in (x_shape, W_shape, W_shape[0]))
    layer = Convolution(W.copy(), b.copy(), stride, pad)
    out = layer.forward(x)
    g = rng.standard_normal(out.shape)
    dx = layer.backward(g)
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    tout = torch.nn.functional.conv2d(tx, tW, tb, stride=stride, padding=pad)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.dW, tW.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.db, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_convolution_runs_on_each_backend(xp, rng):
    W = xp.asarray(rng.standard_normal((3, 2, 3, 3)))
    x = xp.asarray(rng.standard_normal((2, 2, 5, 5)))
    layer = Convolution(W, xp.zeros(3), stride=2, pad=1)
    out = layer.forward(x)
    dx = layer.backward(xp.ones_like(out))
    b = np.zeros(3)
    ref = conv_by_loops(to_cpu(x), to_cpu(W), b, 2, 1)
    np.testing.assert_allclose(to_cpu(out), ref, rtol=1e-12, atol=1e-12)
    assert dx.shape == x.shape and type(dx) is type(x)


# -- Convolution: bad input ----------------------------------------------------------


def test_convolution_names_a_wrong_channel_count(rng):
    layer = Convolution((30, 1, 5, 5), rng=rng)
    x = np.zeros((10, 3, 28, 28), np.float32)
    with pytest.raises(
        ValueError, match=r"Convolution.forward: expected x of shape \(N, 1, H, W\)"
    ):
        layer.forward(x)
    with pytest.raises(ValueError, match=r"got \(10, 3, 28, 28\)"):
        layer.forward(x)


def test_convolution_hints_at_reshaping_flat_images(rng):
    layer = Convolution((30, 1, 5, 5), rng=rng)
    with pytest.raises(ValueError, match=r"got \(10, 784\).*reshape\(-1, 1, 28, 28\)"):
        layer.forward(np.zeros((10, 784), np.float32))


def test_convolution_rejects_a_kernel_larger_than_the_padded_input(rng):
    layer = Convolution((2, 1, 5, 5), pad=1, rng=rng)
    with pytest.raises(ValueError, match=r"window 5x5 is larger than the padded input 4x4"):
        layer.forward(np.zeros((1, 1, 2, 2), np.float32))


def test_convolution_floors_the_output_of_an_uneven_stride_as_the_book_does(rng):
    layer = Convolution((2, 1, 3, 3), stride=2, rng=rng)
    x = rng.standard_normal((1, 1, 6, 6)).astype(np.float32)  # (6 - 3) / 2 is not whole
    cropped = layer.forward(x[:, :, :5, :5])
    out = layer.forward(x)
    assert out.shape == (1, 2, 2, 2)  # the last row and column are never reached
    np.testing.assert_allclose(out, cropped, rtol=1e-6)
    dx = layer.backward(np.ones_like(out))
    assert dx.shape == x.shape and not dx[:, :, 5, :].any() and not dx[:, :, :, 5].any()


def test_convolution_takes_the_books_scalar_bias(rng):
    W = rng.standard_normal((1, 1, 3, 3))
    x = rng.standard_normal((1, 1, 5, 5))
    for b in (0, 0.5):
        layer = Convolution(W, b)
        assert layer.b.shape == (1,) and layer.b.dtype == W.dtype
        np.testing.assert_allclose(layer.forward(x), conv_by_loops(x, W, np.full(1, b), 1, 0))


def test_convolution_and_pooling_keep_the_stride_and_pad_as_given(rng):
    conv = Convolution((2, 1, 3, 3), stride=(3, 1), pad=(1, 0), rng=rng)
    assert (conv.stride, conv.pad) == ((3, 1), (1, 0))
    assert (Convolution((2, 1, 3, 3), stride=2).stride, Pooling(2, 2).stride) == (2, 2)
    out = conv.forward(rng.standard_normal((1, 1, 7, 5)).astype(np.float32))
    assert out.shape == (1, 2, 3, 3)


def test_convolution_computes_in_its_weights_dtype(rng):
    W, x = rng.standard_normal((2, 1, 3, 3)), rng.standard_normal((2, 1, 5, 5))
    for w_dtype in (np.float16, np.float32, np.float64):
        for x_dtype in (np.float16, np.float32, np.float64):
            layer = Convolution(W.astype(w_dtype), 0)
            out = layer.forward(x.astype(x_dtype))
            dx = layer.backward(np.ones_like(out, dtype=x_dtype))
            assert out.dtype == dx.dtype == layer.dW.dtype == layer.db.dtype == w_dtype


def test_convolution_checks_dtypes_and_call_order(rng):
    layer = Convolution((2, 1, 3, 3), rng=rng)
    with pytest.raises(RuntimeError, match="Convolution.backward: called before forward"):
        layer.backward(np.zeros((1, 2, 1, 1), np.float32))
    with pytest.raises(TypeError, match="Convolution.forward: expected x of dtype float32"):
        layer.forward(np.zeros((1, 1, 3, 3), np.uint8))
    layer.forward(np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(
        ValueError, match=r"Convolution.backward: expected dout of shape \(1, 2, 1"
    ):
        layer.backward(np.zeros((1, 2, 2, 2), np.float32))


def test_convolution_rejects_bad_weights_and_settings():
    with pytest.raises(ValueError, match="Convolution: expected W of shape"):
        Convolution(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="b of shape"):
        Convolution(np.zeros((3, 1, 2, 2)), np.zeros(2))
    with pytest.raises(TypeError, match="expected W to be a float array"):
        Convolution(np.zeros((3, 1, 2, 2), int), np.zeros(3))
    with pytest.raises(ValueError, match="stride >= 1"):
        Convolution(np.zeros((3, 1, 2, 2)), np.zeros(3), stride=0)
    with pytest.raises(ValueError, match=r"stride >= 1 and pad >= 0 .*pad=\(1, -1\)"):
        Convolution(np.zeros((3, 1, 2, 2)), np.zeros(3), pad=(1, -1))
    with pytest.raises(ValueError, match=r"Pooling: expected stride >= 1"):
        Pooling(2, 2, stride=(2, 0))


# -- Pooling -------------------------------------------------------------------------


def test_max_pooling_by_hand_and_its_gradient_goes_to_the_maximum():
    x = np.array([[1, 2, 0, 1], [3, 4, 1, 5], [0, 1, 2, 2], [1, 0, 6, 3]], float)[None, None]
    pool = Pooling(2, 2, stride=2)
    np.testing.assert_array_equal(pool.forward(x)[0, 0], [[4, 5], [1, 6]])
    dx = pool.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))
    expected = np.zeros((4, 4))
    expected[1, 1], expected[1, 3], expected[2, 1], expected[3, 2] = 10, 20, 30, 40
    np.testing.assert_array_equal(dx[0, 0], expected)


@pytest.mark.parametrize("stride", [2, 1])
def test_max_pooling_ties_go_to_the_first_maximum_like_argmax(stride):
    x = np.ones((1, 1, 2, 2))
    pool = Pooling(2, 2, stride=stride)
    pool.forward(x)
    np.testing.assert_array_equal(
        pool.backward(np.full((1, 1, 1, 1), 7.0))[0, 0], [[7, 0], [0, 0]]
    )


def test_average_pooling_by_hand():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    pool = Pooling(2, 2, stride=2, mode="average")
    np.testing.assert_array_equal(pool.forward(x)[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(pool.backward(np.full((1, 1, 2, 2), 4.0)), np.ones((1, 1, 4, 4)))


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool_h, pool_w, stride, pad", POOL_CASES)
def test_pooling_gradients(pool_h, pool_w, stride, pad, mode, rng):
    x = distinct(rng, (2, 3, 6, 6))
    pool = Pooling(pool_h, pool_w, stride, pad, mode=mode)
    check_backward(lambda: pool.forward(x), pool.backward, (x,), rng)


@pytest.mark.reference
@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool_h, pool_w, stride, pad", POOL_CASES)
def test_pooling_matches_torch(pool_h, pool_w, stride, pad, mode, rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.integers(0, 3, (2, 3, 6, 6)).astype(float)  # many ties: torch also takes the first
    pool = Pooling(pool_h, pool_w, stride, pad, mode=mode)
    out = pool.forward(x)
    g = rng.standard_normal(out.shape)
    dx = pool.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    f = F.max_pool2d if mode == "max" else F.avg_pool2d
    tout = f(tx, (pool_h, pool_w), stride, pad)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pool_h, pool_w, stride, pad", POOL_CASES)
def test_pooling_gives_the_same_numbers_for_channels_last_input(pool_h, pool_w, stride, pad, rng):
    # A convolution returns a channels-last view; the numbers must not depend on layout.
    x = distinct(rng, (2, 6, 6, 3)).transpose(0, 3, 1, 2)
    g = None
    results = []
    for inp in (x, np.ascontiguousarray(x)):
        pool = Pooling(pool_h, pool_w, stride, pad)
        out = pool.forward(inp)
        g = rng.standard_normal(out.shape) if g is None else g
        results.append((out, pool.backward(g)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_pooling_keeps_float32_and_never_changes_x_or_dout(rng):
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    x0 = x.copy()
    for mode in ("max", "average"):
        pool = Pooling(2, 2, 2, mode=mode)
        out = pool.forward(x)
        g = np.ones_like(out)
        dx = pool.backward(g)
        assert out.dtype == dx.dtype == np.float32
        np.testing.assert_array_equal(g, 1)
    np.testing.assert_array_equal(x, x0)


def test_pooling_padding_is_never_the_maximum():
    x = -np.ones((1, 1, 2, 2))  # all negative: zero padding would win
    np.testing.assert_array_equal(Pooling(2, 2, 2, pad=1).forward(x), -np.ones((1, 1, 2, 2)))


def test_pooling_runs_on_each_backend(xp, rng):
    x = xp.asarray(distinct(rng, (2, 3, 4, 4)))
    for stride in (2, 1):
        pool = Pooling(2, 2, stride)
        out = pool.forward(x)
        dx = pool.backward(xp.ones_like(out))
        assert type(dx) is type(x) and dx.shape == x.shape
        assert float(dx.sum()) == out.size


def test_pooling_bad_input():
    with pytest.raises(ValueError, match="Pooling: expected mode 'max' or 'average'"):
        Pooling(2, 2, mode="mean")
    with pytest.raises(ValueError, match="pad <= half the window"):
        Pooling(2, 2, 2, pad=2)
    pool = Pooling(2, 2, stride=2)
    with pytest.raises(RuntimeError, match="Pooling.backward: called before forward"):
        pool.backward(np.zeros((1, 1, 1, 1)))
    with pytest.raises(ValueError, match=r"Pooling.forward: expected x of shape \(N, C, H, W\)"):
        pool.forward(np.zeros((4, 4)))
    assert pool.forward(np.zeros((1, 1, 5, 5))).shape == (1, 1, 2, 2)  # floored, as the book
    with pytest.raises(ValueError, match=r"window 3x3 is larger than the padded input 2x2"):
        Pooling(3, 3).forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(TypeError, match="Pooling.forward: expected x to be a float array"):
        pool.forward(np.zeros((1, 1, 4, 4), int))
    pool.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(
        ValueError, match=r"Pooling.backward: expected dout of shape \(1, 1, 2, 2\)"
    ):
        pool.backward(np.zeros((1, 1, 4, 4)))


# -- Flatten -------------------------------------------------------------------------


def test_flatten_round_trip(rng):
    x = rng.standard_normal((3, 2, 4, 5))
    layer = Flatten()
    out = layer.forward(x)
    assert out.shape == (3, 40)
    np.testing.assert_array_equal(out[1], x[1].ravel())
    g = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(layer.backward(g), g.reshape(x.shape))


def test_flatten_bad_input():
    layer = Flatten()
    with pytest.raises(RuntimeError, match="Flatten.backward: called before forward"):
        layer.backward(np.zeros((1, 4)))
    layer.forward(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"Flatten.backward: expected dout of shape \(2, 4\)"):
        layer.backward(np.zeros((2, 5)))


# -- fast twins: the same numbers as the plain forms --------------------------------------
@pytest.mark.parametrize(("x_shape", "W_shape", "stride", "pad"), CONV_CASES)
def test_convolution_channels_last_twin_equals_the_plain_form(x_shape, W_shape, stride, pad, rng):
    x = rng.standard_normal(x_shape)
    W, b = rng.standard_normal(W_shape), rng.standard_normal(W_shape[0])
    plain, fast = Convolution(W, b, stride, pad), ConvolutionChannelsLast(W, b, stride, pad)
    out = plain.forward(x)
    np.testing.assert_allclose(fast.forward(x), out, rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    np.testing.assert_allclose(fast.backward(g), plain.backward(g), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.dW, plain.dW, rtol=1e-10)
    np.testing.assert_allclose(fast.db, plain.db, rtol=1e-10)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize(("pool_h", "pool_w", "stride", "pad"), POOL_CASES)
def test_pooling_window_loop_twin_equals_the_plain_form(pool_h, pool_w, stride, pad, mode, rng):
    x = rng.standard_normal((2, 3, 6, 6))
    plain = Pooling(pool_h, pool_w, stride, pad, mode=mode)
    fast = PoolingWindowLoop(pool_h, pool_w, stride, pad, mode=mode)
    out = plain.forward(x)
    np.testing.assert_allclose(fast.forward(x), out, rtol=1e-10)
    g = rng.standard_normal(out.shape)
    np.testing.assert_allclose(fast.backward(g), plain.backward(g), rtol=1e-10, atol=1e-12)
    # Ties: both send the gradient to the first maximum.
    ties = rng.integers(0, 2, (2, 3, 6, 6)).astype(float)
    np.testing.assert_allclose(fast.forward(ties), plain.forward(ties), rtol=1e-10)
    np.testing.assert_allclose(fast.backward(g), plain.backward(g), rtol=1e-10, atol=1e-12)
