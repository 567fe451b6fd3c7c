"""The exercise checkers pass our layers and catch the mistakes learners make."""

from __future__ import annotations

import numpy as np
import pytest

from framework import exercises as ex
from framework.layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss


def test_checkers_pass_the_library_layers(capsys):
    ex.check_mul_layer(MulLayer)
    ex.check_add_layer(AddLayer)
    ex.check_shopping(MulLayer, AddLayer)
    ex.check_relu(Relu)
    ex.check_sigmoid(Sigmoid)
    ex.check_affine(Affine)
    ex.check_softmax_with_loss(SoftmaxWithLoss)
    out = capsys.readouterr().out
    assert out.count("checks passed") == 7


class StubRelu:
    def forward(self, x):
        raise NotImplementedError("Need to implement for Task 2.1")

    def backward(self, dout):
        raise NotImplementedError


class BookRelu:
    """The book's Relu: writes into dout."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class TransposedAffine(Affine):
    def backward(self, dout):
        super().backward(dout)
        return (dout @ self.W.T).T  # wrong shape on purpose


class NoScaleSoftmax(SoftmaxWithLoss):
    def backward(self, dout=1):
        return super().backward(1)  # ignores dout


class OneSigmoid(Sigmoid):
    def backward(self, dout):
        return dout * 0.25  # slope at 0 only


def test_stub_is_reported_as_unfinished_with_the_task():
    with pytest.raises(ex.CheckFailed, match=r"Relu.forward is not implemented yet.*Task 2.1"):
        ex.check_relu(StubRelu)


def test_in_place_backward_is_caught():
    with pytest.raises(ex.CheckFailed, match="changed the array dout"):
        ex.check_relu(BookRelu)


def test_wrong_shape_names_both_shapes():
    with pytest.raises(ex.CheckFailed, match=r"dx of shape \(6, 3\).*input x \(3, 6\)"):
        ex.check_affine(TransposedAffine)


def test_ignoring_dout_is_caught():
    with pytest.raises(ex.CheckFailed, match="scale by dout"):
        ex.check_softmax_with_loss(NoScaleSoftmax)


def test_wrong_derivative_points_at_a_value():
    with pytest.raises(ex.CheckFailed, match=r"Sigmoid.backward: dx\[0, 0\] is"):
        ex.check_sigmoid(OneSigmoid)


def test_crash_is_reported_not_raised_raw():
    class Broken(MulLayer):
        def forward(self, x, y):
            return x @ y

    with pytest.raises(ex.CheckFailed, match="MulLayer.forward raised"):
        ex.check_mul_layer(Broken)


def test_check_failed_is_an_assertion_error():
    assert issubclass(ex.CheckFailed, AssertionError)
    assert np.isfinite(1.0)


def test_convolution_checkers_pass_the_library_layer(capsys):
    from framework.layers import Convolution

    ex.check_convolution(Convolution)
    ex.check_convolution_backward(Convolution)
    assert capsys.readouterr().out.count("checks passed") == 2


class UnshapedDWConvolution:
    """dW left as a matrix (FN, C*FH*FW), as a learner forgets to reshape it."""

    def __init__(self, W, b, stride=1, pad=0):
        from framework.layers import Convolution

        self.conv = Convolution(W, b, stride, pad)
        self.dW = self.db = None

    def forward(self, x):
        return self.conv.forward(x)

    def backward(self, dout):
        dx = self.conv.backward(dout)
        self.dW, self.db = self.conv.dW.reshape(len(self.conv.W), -1), self.conv.db
        return dx


def test_convolution_backward_names_the_wrong_dw_shape():
    with pytest.raises(ex.CheckFailed, match=r"self.dW of shape \(4, 27\).*W \(4, 3, 3, 3\)"):
        ex.check_convolution_backward(UnshapedDWConvolution)


def test_stub_constructor_is_reported_as_unfinished():
    class StubConvolution:
        def __init__(self, W, b, stride=1, pad=0):
            raise NotImplementedError()

    for check in (ex.check_convolution, ex.check_convolution_backward):
        with pytest.raises(ex.CheckFailed, match=r"Convolution.__init__ is not implemented yet"):
            check(StubConvolution)


class BookSoftmaxWithLoss:
    """The book's layer: log(y + 1e-7) in forward, (y - t) / N in backward."""

    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


def test_the_books_softmax_with_loss_passes(capsys):
    # Its forward is off by ~1e-6 relative (the 1e-7 inside log), so the check must
    # compare backward with the exact loss's gradient, not with the learner's forward.
    ex.check_softmax_with_loss(BookSoftmaxWithLoss)
    assert "checks passed" in capsys.readouterr().out


class UnflattenedAffine:
    """Forgets to flatten image input, so x @ W fails on (N, C, H, W)."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW, self.db = self.x.T @ dout, dout.sum(axis=0)
        return dout @ self.W.T


def test_unflattened_image_input_gets_the_flatten_hint():
    match = r"shape \(3, 1, 2, 3\) raised ValueError.*x.reshape\(x.shape\[0\], -1\)"
    with pytest.raises(ex.CheckFailed, match=match):
        ex.check_affine(UnflattenedAffine)
