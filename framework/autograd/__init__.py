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
6. ``optimizers``        DeZero's place for :mod:`framework.optimizers`
   ``cuda``              NumPy or CuPy (``gpu_enable``, ``as_numpy``, ``as_cupy``)
   ``transforms``, ``datasets``, ``dataloaders``
                         ``Dataset``, ``Spiral``, ``MNIST``, ``FashionMNIST``, ``SinCurve``;
                         ``DataLoader``, ``SeqDataLoader``

Every public name of DeZero's ``dezero/__init__.py`` is here, so a DeZero script
runs with ``dezero`` pointed at this package.  ``is_simple_core`` is a plain
constant (always False): DeZero switches between two cores by editing that line;
here the one core serves every step.

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

from . import (
    arithmetic,
    cuda,
    dataloaders,
    datasets,
    functions,
    functions_conv,
    layers,
    models,
    optimizers,
    transforms,
    utils,
)
from .arithmetic import setup_variable
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
from .dataloaders import DataLoader, SeqDataLoader
from .datasets import Dataset
from .layers import Layer
from .models import Model

#: DeZero's switch between its two cores (steps 23-32 use the simple one); here a
#: constant, because the one core serves every step.
is_simple_core = False

__version__ = "0.0.13"  # the DeZero release whose names this package follows

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
    "setup_variable",
    "Layer",
    "Model",
    "Dataset",
    "DataLoader",
    "SeqDataLoader",
    "is_simple_core",
    "arithmetic",
    "cuda",
    "dataloaders",
    "datasets",
    "functions",
    "functions_conv",
    "layers",
    "models",
    "optimizers",
    "transforms",
    "utils",
]
