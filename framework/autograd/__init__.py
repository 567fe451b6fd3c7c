"""The computation graph (define-by-run autodiff), with DeZero's public names.

Modules, in dependency order (each imports only those above it, plus
``framework.backend``, ``framework.functions`` (the NumPy math, im2col written
once) and ``framework.gradient`` (the one numerical gradient), which themselves
depend on nothing above ``backend``):

1. ``core``              ``Variable``, ``Parameter``, ``Function``, ``Config``: the graph
2. ``operators``         the nodes behind ``+ - * / ** @``, indexing, ``reshape``,
                         ``transpose``, ``sum`` ...; ``setup_variable`` attaches them
                         to ``Variable``, in this one place
3. ``functions_math``    exp, log, sin, tanh, sigmoid, relu, softmax ...; the losses
   ``functions_conv``    conv2d, deconv2d, pooling, im2col, col2im
4. ``utils``             ``gradient_check``, array comparisons, graph drawing (DOT)
5. ``composed``          activations built only from primitive nodes, with their graphs
6. ``functions`` (F)     linear, dropout, batch_norm, embed_id, and every name above
7. ``layers``, ``models``  ``Layer``, ``Linear``, ``Conv2d``; ``Model``, ``MLP``
8. ``optimizers``        DeZero's place for :mod:`framework.optimizers`
   ``cuda``              NumPy or CuPy (``gpu_enable``, ``as_numpy``, ``as_cupy``)
   ``transforms``, ``datasets``, ``dataloaders``
                         ``Dataset``, ``Spiral``, ``MNIST``, ``FashionMNIST``, ``SinCurve``;
                         ``DataLoader``, ``SeqDataLoader``
   ``core_simple``       DeZero's simple core of steps 1-32, standing alone

Every public name of DeZero's ``dezero/__init__.py`` is here, so a DeZero script
runs with ``dezero`` pointed at this package.  ``is_simple_core`` is a plain
constant (always False): DeZero switches between two cores by editing that line;
here the full core is the package's, and the simple one is a module a learner
imports by name (``framework.autograd.core_simple``), as DeZero's steps 28-29 do.

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
    cuda,
    dataloaders,
    datasets,
    functions,
    functions_conv,
    functions_math,
    layers,
    models,
    operators,
    optimizers,
    transforms,
    utils,
)
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
from .operators import setup_variable

#: DeZero's switch between its two cores; here a constant: the package uses the
#: full core, and ``core_simple`` is imported by name where a step wants it.
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
    "cuda",
    "dataloaders",
    "datasets",
    "functions",
    "functions_conv",
    "functions_math",
    "operators",
    "layers",
    "models",
    "optimizers",
    "transforms",
    "utils",
]
