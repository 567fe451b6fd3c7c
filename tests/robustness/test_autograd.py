"""Robustness of the autograd world: bad shapes and bad calls get errors in the framework's words.

Every case names the F function (or the class) and what it was given, never NumPy's
words alone (issue 11).  ``CASES`` follows the robustness suite's convention:
``pytest.param(callable_that_raises, ExpectedException, "regex", id=...)``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

import framework.autograd.functions as F
from framework.autograd import Variable
from framework.autograd.layers import Conv2d, Linear
from framework.autograd.models import MLP, Sequential
from framework.autograd.utils import gradient_check


def _x(*shape):
    return Variable(np.ones(shape))


def _load_into(fresh, arrays):
    """Save ``arrays`` to a temporary .npz file and load it into the model ``fresh``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.npz"
        np.savez(path, **arrays)
        fresh.load_weights(path)


CASES = [
    pytest.param(
        lambda: F.sum(_x(2, 3), axis=5),
        ValueError,
        r"F\.sum \(Sum\.forward\): axis 5 .*shape \(2, 3\).*axis=5",
        id="sum-axis-out-of-range",
    ),
    pytest.param(
        lambda: F.reshape(_x(2, 3), (4,)),
        ValueError,
        r"F\.reshape .*size 6 .*shape \(2, 3\).*shape=\(4,\)",
        id="reshape-other-size",
    ),
    pytest.param(
        lambda: _x(2, 3).reshape(5, -1),
        ValueError,
        r"F\.reshape .*shape \(2, 3\).*shape=\(5, -1\)",
        id="reshape-method",
    ),
    pytest.param(
        lambda: F.transpose(_x(2, 3), (0, 2)),
        ValueError,
        r"F\.transpose .*shape \(2, 3\).*axes=\(0, 2\)",
        id="transpose-bad-axes",
    ),
    pytest.param(
        lambda: F.transpose(_x(2, 3, 4), (1, 0)),
        ValueError,
        r"F\.transpose .*shape \(2, 3, 4\).*axes=\(1, 0\)",
        id="transpose-too-few-axes",
    ),
    pytest.param(
        lambda: F.matmul(_x(2, 3), _x(4, 5)),
        ValueError,
        r"matmul: cannot multiply x of shape \(2, 3\) by W of shape \(4, 5\)",
        id="matmul-widths",
    ),
    pytest.param(
        lambda: _x(2, 3) @ _x(2, 3),
        ValueError,
        r"matmul: .*\(2, 3\).*\(2, 3\)",
        id="matmul-operator",
    ),
    pytest.param(
        lambda: F.linear(_x(8, 784), _x(100, 10)),
        ValueError,
        r"linear: cannot multiply x of shape \(8, 784\) by W of shape \(100, 10\)",
        id="linear-widths",
    ),
    pytest.param(
        lambda: Linear(10, in_size=5)(np.ones((2, 6))),
        ValueError,
        r"linear: .*\(2, 6\).*\(5, 10\)",
        id="Linear-layer-widths",
    ),
    pytest.param(
        lambda: F.broadcast_to(_x(2, 3), (4,)),
        ValueError,
        r"F\.broadcast_to .*shape \(2, 3\).*shape=\(4,\)",
        id="broadcast_to-smaller",
    ),
    pytest.param(
        lambda: F.broadcast_to(_x(2, 3), (2, 4)),
        ValueError,
        r"F\.broadcast_to .*shape \(2, 3\).*shape=\(2, 4\)",
        id="broadcast_to-incompatible",
    ),
    pytest.param(
        lambda: F.sum_to(_x(2, 3), (1, 2, 3)),
        ValueError,
        r"sum_to: cannot sum x of shape \(2, 3\) to \(1, 2, 3\)",
        id="sum_to-more-axes",
    ),
    pytest.param(
        lambda: F.get_item(_x(2, 3), 5),
        IndexError,
        r"F\.get_item .*index 5 .*shape \(2, 3\).*slices=5",
        id="get_item-out-of-range",
    ),
    pytest.param(
        lambda: _x(2, 3)[1, 7],
        ValueError,
        r"F\.get_item .*shape \(2, 3\).*slices=\(1, 7\)",
        id="indexing-out-of-range",
    ),
    pytest.param(
        lambda: _x(2, 3) + _x(4),
        ValueError,
        r"F\.add .*\(2, 3\) and \(4,\)",
        id="add-no-broadcast",
    ),
    pytest.param(
        lambda: _x(2, 3) * np.ones((3, 2)),
        ValueError,
        r"F\.mul .*\(2, 3\) and \(3, 2\)",
        id="mul-no-broadcast",
    ),
    pytest.param(
        lambda: F.max(_x(2, 3), axis=2),
        ValueError,
        r"F\.max .*shape \(2, 3\).*axis=2",
        id="max-axis-out-of-range",
    ),
    pytest.param(
        lambda: F.sum(_x(2, 3), axis=1.5),
        TypeError,
        r"F\.sum .*shape \(2, 3\).*axis=1\.5",
        id="sum-float-axis",
    ),
    pytest.param(
        lambda: F.conv2d(_x(1, 3, 8, 8), _x(4, 2, 3, 3)),
        ValueError,
        r"conv2d: .*same C, got x \(1, 3, 8, 8\) and W \(4, 2, 3, 3\)",
        id="conv2d-channels",
    ),
    pytest.param(
        lambda: Conv2d(4, 3, in_channels=2)(np.ones((1, 3, 8, 8), np.float32)),
        ValueError,
        r"conv2d: .*\(1, 3, 8, 8\).*\(4, 2, 3, 3\)",
        id="Conv2d-layer-channels",
    ),
    pytest.param(
        lambda: F.softmax_cross_entropy(_x(4, 3), np.array([0, 1, 2])),
        ValueError,
        r"softmax_cross_entropy: x has 4 rows but t has 3 labels",
        id="softmax_cross_entropy-rows",
    ),
    pytest.param(
        lambda: gradient_check(42, np.ones(3)),
        TypeError,
        r"gradient_check: expected f to be a function of x .*got int",
        id="gradient_check-not-callable",
    ),
    pytest.param(
        lambda: gradient_check(F.sin, "x"),
        TypeError,
        r"gradient_check: expected x as a numeric array or Variable, got str",
        id="gradient_check-x-a-string",
    ),
    pytest.param(
        lambda: gradient_check(F.sin, [1.0, 2.0]),
        TypeError,
        r"gradient_check: expected x as a numeric array or Variable, got list",
        id="gradient_check-x-a-list",
    ),
    pytest.param(
        lambda: _load_into(
            MLP((5, 2)), {"l0/W": np.zeros((4, 7)), "l0/b": np.zeros(5), "l1/W": np.zeros((5, 2))}
        ),
        ValueError,
        r"MLP\.load_weights: .*l0/W: expected \(\?, 5\) float32, got \(4, 7\)",
        id="lazy-Linear-loads-another-width",
    ),
    pytest.param(
        lambda: _load_into(
            MLP((5, 2)),
            {
                "l0/W": np.zeros((4, 5)),  # float64 for a float32 model
                "l0/b": np.zeros(5, np.float32),
                "l1/W": np.zeros((5, 2), np.float32),
                "l1/b": np.zeros(2, np.float32),
            },
        ),
        ValueError,
        r"MLP\.load_weights: .*l0/W: expected \(\?, 5\) float32, got \(4, 5\) float64",
        id="lazy-Linear-loads-another-dtype",
    ),
    pytest.param(
        lambda: _load_into(
            Sequential(Conv2d(4, 3)),
            {"l0/W": np.zeros((4, 2, 5, 5), np.float32), "l0/b": np.zeros(4, np.float32)},
        ),
        ValueError,
        r"Sequential\.load_weights: .*l0/W: expected \(4, \?, 3, 3\) float32, got \(4, 2, 5, 5\)",
        id="lazy-Conv2d-loads-another-kernel",
    ),
]


@pytest.mark.parametrize(("fn", "exc", "match"), CASES)
def test_bad_input_gets_a_clear_error(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_a_lazily_sized_model_takes_weights_of_its_own_shape_and_learns_its_sizes(tmp_path):
    path = tmp_path / "w.npz"
    model = MLP((5, 2))
    model(np.ones((3, 4), np.float32))
    model.save_weights(path)
    fresh = MLP((5, 2))
    fresh.load_weights(path)
    assert fresh.l0.in_size == 4 and fresh.l1.in_size == 5
    np.testing.assert_array_equal(fresh.l0.W.data, model.l0.W.data)
    conv = Sequential(Conv2d(4, 3))
    conv(np.ones((1, 2, 6, 6), np.float32))
    conv.save_weights(path)
    fresh_conv = Sequential(Conv2d(4, 3))
    fresh_conv.load_weights(path)
    assert fresh_conv.l0.in_channels == 2


def test_iterating_over_a_variable_stops_at_its_end():
    # the index error of F.get_item is also an IndexError, so iteration ends as over an array
    assert [float(v.data) for v in Variable(np.arange(3.0))] == [0.0, 1.0, 2.0]
