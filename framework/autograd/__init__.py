"""The computation graph (define-by-run autodiff), with DeZero's public names.

Modules, in dependency order (each imports only those before it, plus
``framework.backend`` and ``framework.functions``):

1. ``core``              ``Variable``, ``Parameter``, ``Function``, ``Config``
   ``arithmetic``        add, sub, mul, div, neg, pow, sum_to, broadcast_to and the
                         operators ``+ - * / **`` on Variables
2. ``functions_math``, ``functions_tensor``, ``functions_loss``, ``functions_train``,
   ``functions_conv``    the differentiable functions, gathered as ``functions`` (``F``)
3. ``utils``             ``gradient_check``, array comparisons, graph drawing (DOT)
4. ``composed``          activations built only from primitive nodes, with their graphs
5. ``layers``, ``models``  ``Layer``, ``Linear``, ``Conv2d``; ``Model``, ``MLP``

Example::

    import numpy as np
    from framework.autograd import Variable
    import framework.autograd.functions as F

    x = Variable(np.array(2.0))
    y = x**4 - 2 * x**2
    y.backward(create_graph=True)   # x.grad = 4x^3 - 4x = 24
    gx = x.grad
    x.cleargrad()
    gx.backward()                   # x.grad = 12x^2 - 4 = 44
"""

from . import arithmetic, functions, utils
from .core import (
    Config,
    Function,
    Parameter,
    Variable,
    as_array,
    as_variable,
    no_grad,
    test_mode,
    using_config,
)
from .layers import Layer
from .models import Model

__all__ = [
    "Config",
    "Function",
    "Parameter",
    "Variable",
    "as_array",
    "as_variable",
    "no_grad",
    "test_mode",
    "using_config",
    "Layer",
    "Model",
    "arithmetic",
    "functions",
    "utils",
]
