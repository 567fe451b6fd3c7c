"""Models: layers that stand for a whole network (``Model``) and DeZero's ``MLP``.

A model is trained like this (DeZero step 45)::

    model = MLP((100, 10), activation=F.relu)
    optimizer = SGD(lr=0.1).setup(model)
    for x, t in batches:
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
"""

from __future__ import annotations

import numpy as np

from .functions_math import sigmoid
from .layers import Layer, Linear
from .utils import plot_dot_graph

__all__ = ["Model", "MLP"]


class Model(Layer):
    """A ``Layer`` that is a whole network; ``plot`` draws its graph."""

    def plot(self, *inputs, to_file: str = "model.png"):
        """Run the model on ``inputs`` and draw its graph into ``to_file`` (``plot_dot_graph``)."""
        y = self.forward(*inputs)
        return plot_dot_graph(y, verbose=True, to_file=to_file)


class MLP(Model):
    """Fully connected network: ``Linear`` layers with ``activation`` between them.

    Parameters
    ----------
    fc_output_sizes : sequence of int
        Output size of each ``Linear`` (the input size is inferred on the first call);
        ``(100, 10)`` is 784-100-10 for MNIST.  The layers are attributes ``l0, l1, ...``.
    activation : callable, default ``F.sigmoid``
    rng : numpy.random.Generator, optional
        Shared by the layers to draw their weights; ``default_rng(0)`` when omitted.
    """

    def __init__(self, fc_output_sizes, activation=sigmoid, rng=None):
        super().__init__()
        self.activation = activation
        self.layers = []
        rng = np.random.default_rng(0) if rng is None else rng
        for i, out_size in enumerate(fc_output_sizes):
            layer = Linear(out_size, rng=rng)
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)
