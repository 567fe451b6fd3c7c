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
