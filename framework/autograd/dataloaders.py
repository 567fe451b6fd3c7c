"""DeZero's ``dataloaders``: mini-batches from a ``Dataset``, one epoch per loop.

::

    loader = DataLoader(Spiral(), batch_size=30)
    for epoch in range(300):
        for x, t in loader:          # 10 batches of 30, in a new order each epoch
            ...

A ``DataLoader`` is its own iterator.  When an epoch is over it raises
``StopIteration`` *and* resets itself (a new permutation), so the next ``for``
loop starts the next epoch.  The order is drawn with ``np.random.permutation``,
from NumPy's global state, so ``np.random.seed`` repeats a run (pass ``rng`` to
draw from a Generator of your own instead).

``SeqDataLoader`` keeps the order of a time series for truncated backprop
through time: batch ``k`` holds, for each of ``batch_size`` evenly spaced
starting points, the element ``k`` steps after it.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend

__all__ = ["DataLoader", "SeqDataLoader"]


class DataLoader:
    """Iterate over ``dataset`` in mini-batches ``(x, t)`` of ``batch_size`` examples.

    Parameters
    ----------
    dataset : Dataset or any object with ``len`` and ``dataset[i] -> (x, t)``
    batch_size : int
        The last batch of an epoch is smaller when ``batch_size`` does not divide
        ``len(dataset)``.
    shuffle : bool
        A new random order each epoch (True) or the dataset's order.
    gpu : bool
        Return CuPy arrays (``to_gpu()`` / ``to_cpu()`` switch later).
    rng : numpy.random.Generator, optional
        Draws the orders; NumPy's global state when omitted (keyword only).

    Attributes
    ----------
    iteration : int
        Batches returned in this epoch.
    max_iter : int
        Batches per epoch, ``ceil(len(dataset) / batch_size)``.
    """

    def __init__(
        self, dataset, batch_size: int, shuffle: bool = True, gpu: bool = False, *, rng=None
    ):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(
                f"{type(self).__name__}: expected batch_size an int, got {batch_size!r}"
            )
        if batch_size < 1:
            raise ValueError(f"{type(self).__name__}: expected batch_size >= 1, got {batch_size}")
        if len(dataset) == 0:
            raise ValueError(f"{type(self).__name__}: the dataset is empty")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.data_size = len(dataset)
        self.max_iter = math.ceil(self.data_size / self.batch_size)
        if gpu:
            backend.require_cupy()  # fail now, with the wheel to install
        self.gpu = gpu
        self.rng = rng
        self.reset()

    def reset(self) -> None:
        """Start a new epoch: iteration 0 and a new order of the examples."""
        self.iteration = 0
        if not self.shuffle:
            self.index = np.arange(self.data_size)
        elif self.rng is None:
            self.index = np.random.permutation(self.data_size)  # noqa: NPY002 (global state)
        else:
            self.index = self.rng.permutation(self.data_size)

    def __iter__(self):
        return self

    def __next__(self):
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        i, n = self.iteration, self.batch_size
        batch_index = self.index[i * n : (i + 1) * n]
        self.iteration += 1
        return self._collate(batch_index)

    def _collate(self, batch_index):
        """Stack the examples ``batch_index`` into arrays ``x`` and ``t``."""
        batch = [self.dataset[int(j)] for j in batch_index]
        x = np.array([example[0] for example in batch])
        t = np.array([example[1] for example in batch])
        if self.gpu:
            x, t = backend.to_gpu(x), backend.to_gpu(t)
        return x, t

    def next(self):
        """Return the next batch (DeZero's name for ``next(loader)``)."""
        return self.__next__()

    def to_cpu(self) -> None:
        """Return NumPy arrays from now on."""
        self.gpu = False

    def to_gpu(self) -> None:
        """Return CuPy arrays from now on.

        Raises
        ------
        RuntimeError
            At once when CuPy or a CUDA device is missing (DeZero fails only at the
            next batch, with ``AttributeError``).
        """
        backend.require_cupy()
        self.gpu = True


class SeqDataLoader(DataLoader):
    """Mini-batches of a time series that keep its order (for truncated BPTT).

    With ``jump = len(dataset) // batch_size``, batch ``k`` holds the examples
    ``(i * jump + k) % len(dataset)`` for ``i = 0 .. batch_size - 1``: row ``i`` of
    consecutive batches walks along the series from its own starting point, so an
    RNN can carry its hidden state from one batch to the next.
    """

    def __init__(self, dataset, batch_size: int, gpu: bool = False):
        super().__init__(dataset, batch_size, shuffle=False, gpu=gpu)

    def __next__(self):
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        jump = self.data_size // self.batch_size
        batch_index = [
            (i * jump + self.iteration) % self.data_size for i in range(self.batch_size)
        ]
        self.iteration += 1
        return self._collate(batch_index)
