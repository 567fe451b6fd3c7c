"""DeZero's ``optimizers`` module: the optimizers of :mod:`framework.optimizers`.

One set of classes serves the hand-written nets and the autograd models, so this
module only gives them the place DeZero's scripts import them from::

    from framework.autograd import optimizers
    optimizer = optimizers.MomentumSGD(lr).setup(model)
    ...
    loss.backward()
    optimizer.update()

Hooks (``optimizer.add_hook(optimizers.WeightDecay(1e-4))``) are called before
each update, as in DeZero.
"""

from __future__ import annotations

from ..optimizers import SGD, AdaGrad, Adam, ClipGrad, MomentumSGD, Optimizer, WeightDecay

__all__ = [
    "Optimizer",
    "SGD",
    "MomentumSGD",
    "AdaGrad",
    "Adam",
    "WeightDecay",
    "ClipGrad",
]

# AdaDelta and FreezeParam are being added to framework.optimizers (by another
# change); each is exported here as soon as it exists there.
try:
    from ..optimizers import AdaDelta
except ImportError:  # pragma: no cover - an older framework.optimizers
    pass
else:
    __all__ += ["AdaDelta"]
try:
    from ..optimizers import FreezeParam
except ImportError:  # pragma: no cover - an older framework.optimizers
    pass
else:
    __all__ += ["FreezeParam"]
