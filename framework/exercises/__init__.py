"""Checkers for the classroom exercises: a learner's code, tested honestly and with hints.

Each ``check_*`` takes the learner's class (or function), runs it on fresh random
float64 inputs and compares it with the right answer: values and shapes, the fields
the book keeps, ``backward`` against the exact or numerical derivative with a random
upstream ``dout``, and that no input array was changed.  On the first problem it
raises :class:`CheckFailed` whose message names the mistake, e.g. ``db must have one
entry per output: sum dout over the samples``; a stub that raises
``NotImplementedError`` is reported as "not implemented yet".

A check passes only for the learner's own work (see ``_core``): the class must be
written in the notebook, may not call the library's implementation, and the
environment (NumPy, builtins) must be intact.  The graded cells of the notebooks
load this package afresh from disk with ``importlib.reload(framework.exercises)``:
reloading runs this file again, which drops and re-imports every checker module,
so a notebook that replaced a checker or patched a helper gets the originals back.
It also verifies that the package is the installed one.

Modules, one per part of the books: ``ch2_4`` (perceptrons, forward pass, numerical
gradients, the training loop), ``ch5`` (layers and backpropagation), ``ch6``
(optimizers, initial weights, Dropout, BatchNormalization), ``ch7`` (convolution and
pooling), ``ch8`` (data augmentation), ``dezero`` (book 3: Variable and Function,
composed functions, Newton's method, a Model, a recurrent network).
``CheckFailed`` is an ``AssertionError``, so nbgrader counts a failing check cell as a
failed test.
"""

from __future__ import annotations

import sys as _sys

_RELOADED = "CheckFailed" in globals()  # True when a check cell reloads the package
# Drop the checker modules already loaded, so that importing or reloading this
# package gives fresh ones from disk, whatever a notebook did to the old ones.
for _name in [n for n in _sys.modules if n.startswith(__name__ + ".")]:
    del _sys.modules[_name]

from . import _core, ch2_4, ch5, ch6, ch7, ch8, dezero  # noqa: E402, F401
from ._core import CheckFailed  # noqa: E402
from .ch2_4 import (  # noqa: E402
    check_forward_3layer,
    check_gates,
    check_gradient_descent,
    check_numerical_diff,
    check_numerical_gradient,
    check_training_loop,
    check_xor,
)
from .ch5 import (  # noqa: E402
    check_add_layer,
    check_affine,
    check_mul_layer,
    check_relu,
    check_shopping,
    check_sigmoid,
    check_softmax_with_loss,
)
from .ch6 import (  # noqa: E402
    check_adagrad,
    check_adam,
    check_batchnorm_backward,
    check_dropout,
    check_init_std,
    check_momentum,
    check_sgd,
)
from .ch7 import (  # noqa: E402
    check_convolution,
    check_convolution_backward,
    check_pooling,
    check_pooling_backward,
)
from .ch8 import check_random_crop, check_random_flip  # noqa: E402
from .dezero import (  # noqa: E402
    check_composed_activation,
    check_newton,
    check_simple_rnn,
    check_spiral_model,
    check_variable_function,
)

__all__ = [
    "CheckFailed",
    "check_gates",
    "check_xor",
    "check_forward_3layer",
    "check_numerical_diff",
    "check_numerical_gradient",
    "check_gradient_descent",
    "check_training_loop",
    "check_mul_layer",
    "check_add_layer",
    "check_shopping",
    "check_relu",
    "check_sigmoid",
    "check_affine",
    "check_softmax_with_loss",
    "check_composed_activation",
    "check_sgd",
    "check_momentum",
    "check_adagrad",
    "check_adam",
    "check_init_std",
    "check_dropout",
    "check_batchnorm_backward",
    "check_convolution",
    "check_convolution_backward",
    "check_pooling",
    "check_pooling_backward",
    "check_random_flip",
    "check_random_crop",
    "check_variable_function",
    "check_newton",
    "check_spiral_model",
    "check_simple_rnn",
]

if _RELOADED:  # a graded cell: make sure these are the installed checkers
    _core.verify_installed(__file__)
