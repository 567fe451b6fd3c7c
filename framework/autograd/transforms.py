"""DeZero's ``transforms``: small callables that turn one example into another.

A ``Dataset`` applies ``transform`` to each example and ``target_transform`` to each
label when it is indexed, e.g. ``Compose([Flatten(), ToFloat(), Normalize(0., 255.)])``
turns a (1, 28, 28) uint8 image into 784 float32 values in [0, 1].

Two kinds:

* on NumPy arrays: ``Compose``, ``Normalize``, ``Flatten``, ``AsType`` (``ToFloat``),
  ``ToInt``, ``RandomHorizontalFlip`` (arrays and images);
* on PIL images: ``Convert``, ``Resize``, ``CenterCrop``, ``ToArray``, ``ToPIL``.
  Pillow is imported only when one of these runs, so ``import framework`` works
  without it (DeZero's ``transforms.py`` fails to import without Pillow).
"""

from __future__ import annotations

import numpy as np

from ..functions import pair

__all__ = [
    "Compose",
    "Convert",
    "Resize",
    "CenterCrop",
    "ToArray",
    "ToPIL",
    "RandomHorizontalFlip",
    "Normalize",
    "Flatten",
    "AsType",
    "ToFloat",
    "ToInt",
]


def _pil_image(where: str):
    """Import and return ``PIL.Image``, or raise ImportError naming the package."""
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError(
            f"{where} works on PIL images and needs Pillow: pip install Pillow"
        ) from err
    return Image


class Compose:
    """Apply several transforms, one after the other: ``Compose([f, g])(x) = g(f(x))``.

    Parameters
    ----------
    transforms : list of callables, optional
        Applied in order; an empty list (the default) returns the input unchanged.
    """

    def __init__(self, transforms: list | None = None):
        self.transforms = [] if transforms is None else transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img


# -- transforms for PIL images ------------------------------------------------
class Convert:
    """Convert a PIL image to another mode (``'RGB'``, ``'L'`` ...), or to ``'BGR'``.

    ``'BGR'`` is not a PIL mode: the image is converted to RGB and its channels are
    swapped, the order Caffe-trained nets such as DeZero's VGG16 expect.
    """

    def __init__(self, mode: str = "RGB"):
        self.mode = mode

    def __call__(self, img):
        Image = _pil_image("Convert")
        if self.mode == "BGR":
            r, g, b = img.convert("RGB").split()
            return Image.merge("RGB", (b, g, r))
        return img.convert(self.mode)


class Resize:
    """Resize a PIL image to ``size`` = (width, height), or to a square ``size``.

    Parameters
    ----------
    size : int or (int, int)
    mode : int, optional
        PIL's resampling filter; bilinear by default.
    """

    def __init__(self, size, mode=None):
        self.size = pair(size)
        self.mode = mode

    def __call__(self, img):
        Image = _pil_image("Resize")
        mode = Image.BILINEAR if self.mode is None else self.mode
        return img.resize(self.size, mode)


class CenterCrop:
    """Cut the central ``size`` = (width, height) region out of a PIL image.

    When the margin is odd, the extra pixel is cut on the right (bottom) side.
    """

    def __init__(self, size):
        self.size = pair(size)

    def __call__(self, img):
        W, H = img.size
        OW, OH = self.size
        if OW > W or OH > H:
            raise ValueError(
                f"CenterCrop: expected an image of at least {OW}x{OH} (width x height), "
                f"got {W}x{H}; resize it first (Resize)"
            )
        left, up = (W - OW) // 2, (H - OH) // 2
        return img.crop((left, up, left + OW, up + OH))


class ToArray:
    """Turn a PIL image (H, W, C) into a NumPy array (C, H, W) of ``dtype``.

    A NumPy array passes through unchanged.  A one-channel image (mode ``'L'``)
    becomes (1, H, W); DeZero's ``ToArray`` fails on it.
    """

    def __init__(self, dtype=np.float32):
        self.dtype = dtype

    def __call__(self, img):
        if isinstance(img, np.ndarray):
            return img
        Image = _pil_image("ToArray")
        if not isinstance(img, Image.Image):
            raise TypeError(
                f"ToArray: expected a PIL image or a NumPy array, got {type(img).__name__}"
            )
        array = np.asarray(img)
        if array.ndim == 2:
            array = array[:, :, None]
        return array.transpose(2, 0, 1).astype(self.dtype)


class ToPIL:
    """Turn a NumPy array (C, H, W) of uint8 into a PIL image (the inverse of ``ToArray``)."""

    def __call__(self, array):
        Image = _pil_image("ToPIL")
        data = array.transpose(1, 2, 0)
        if data.shape[2] == 1:
            data = data[:, :, 0]
        return Image.fromarray(data)


class RandomHorizontalFlip:
    """Mirror the image left to right with probability ``p`` (data augmentation).

    Works on PIL images and on NumPy arrays (..., H, W), whose last axis is
    reversed.  DeZero declares this class but leaves it empty.

    Parameters
    ----------
    p : float
        Probability of a flip.
    rng : numpy.random.Generator, optional
        Source of the coin flips; NumPy's global state when omitted, so
        ``np.random.seed`` repeats a run.
    """

    def __init__(self, p: float = 0.5, rng=None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: expected p in [0, 1], got {p!r}")
        self.p = p
        self.rng = rng

    def __call__(self, img):
        u = np.random.random_sample() if self.rng is None else self.rng.random()  # noqa: NPY002
        if u >= self.p:
            return img
        if isinstance(img, np.ndarray):
            return img[..., ::-1].copy()
        Image = _pil_image("RandomHorizontalFlip")
        return img.transpose(Image.FLIP_LEFT_RIGHT)


# -- transforms for NumPy arrays ----------------------------------------------
class Normalize:
    """``(x - mean) / std``, with one value for all, or one value per channel.

    Parameters
    ----------
    mean, std : float or sequence
        A sequence has one value per entry of the first axis (the channels of a
        (C, H, W) image), e.g. ``Normalize(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))``;
        a sequence of one value applies to every channel.
    """

    def __init__(self, mean=0, std=1):
        self.mean = mean
        self.std = std

    def __call__(self, array):
        mean = self._per_channel(self.mean, array, "mean")
        std = self._per_channel(self.std, array, "std")
        return (array - mean) / std

    @staticmethod
    def _per_channel(value, array, name):
        if np.isscalar(value):
            return value
        value = np.asarray(value, dtype=array.dtype)
        if value.size not in (1, len(array)):
            raise ValueError(
                f"Normalize: expected {name} of 1 or {len(array)} values (one per channel "
                f"of an input of shape {array.shape}), got {value.size}"
            )
        shape = [1] * array.ndim
        shape[0] = -1
        return value.reshape(shape)


class Flatten:
    """Flatten an array to one dimension: (1, 28, 28) -> (784,)."""

    def __call__(self, array):
        return array.flatten()


class AsType:
    """Cast an array to ``dtype`` (float32 by default)."""

    def __init__(self, dtype=np.float32):
        self.dtype = dtype

    def __call__(self, array):
        return array.astype(self.dtype)


ToFloat = AsType  # DeZero's name


class ToInt(AsType):
    """Cast an array to ``dtype`` (Python's ``int``, that is int64, by default)."""

    def __init__(self, dtype=int):
        self.dtype = dtype
