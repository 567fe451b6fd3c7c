"""Checkers for book 1, chapter 8 (deep learning): data augmentation.

Random horizontal flips and random crops of a batch of images (N, C, H, W), as in
section 8.1.3: each output image must be the input image, mirrored or shifted, and
the choices must be random from image to image, and new on every call.
"""

from __future__ import annotations

import numpy as np

from ._core import (
    Checker,
    CheckFailed,
    as_array,
    expect_shape,
    expect_unchanged,
    passed,
    require_own,
    rng,
)

__all__ = ["check_random_flip", "check_random_crop"]


def _images(gen, n=200):
    return gen.standard_normal((n, 2, 5, 6))


def check_random_flip(random_flip) -> None:
    """Check ``random_flip(x)``: each image mirrored left-right with probability 1/2."""
    require_own(random_flip, "random_flip", kind="function")
    c, gen = Checker(), rng()
    x = _images(gen)
    x0 = x.copy()
    what = "random_flip(x)"
    out = as_array(what, "out", c.call(what, random_flip, x))
    expect_unchanged(what, "x", x, x0, "flip a copy (slicing with [..., ::-1] gives a view)")
    expect_shape(what, "out", out, x.shape, "x")
    same = (out == x0).all(axis=(1, 2, 3))
    mirrored = (out == x0[..., ::-1]).all(axis=(1, 2, 3))
    if (out == x0[..., ::-1, :]).all(axis=(1, 2, 3)).any() and not mirrored.any():
        raise CheckFailed(f"{what} flipped images upside down; flip left-right (the last axis)")
    if not (same | mirrored).all():
        raise CheckFailed(
            f"{what}: image {int(np.argmin(same | mirrored))} is neither the input nor its "
            "mirror image: flip whole images, left-right, and change nothing else"
        )
    share = float(mirrored.mean())
    if share in (0.0, 1.0):
        raise CheckFailed(
            f"{what} flipped {share:.0%} of the images; draw for each image whether to flip it"
        )
    if not 0.35 < share < 0.65:
        raise CheckFailed(f"{what} flipped {share:.0%} of the images; about half should be")
    again = as_array(what, "out", c.call(what, random_flip, x0.copy()))
    if (again == out).all():
        raise CheckFailed(f"{what} flipped the same images on a second call: draw anew each call")
    passed("random_flip", 4)


def check_random_crop(random_crop) -> None:
    """Check ``random_crop(x, pad)``: pad with zeros, crop back to (H, W) at random offsets."""
    require_own(random_crop, "random_crop", kind="function")
    c, gen = Checker(), rng()
    x = _images(gen)
    x0 = x.copy()
    pad = 2
    what = f"random_crop(x, pad={pad})"
    out = as_array(what, "out", c.call(what, random_crop, x, pad))
    expect_unchanged(what, "x", x, x0)
    if np.shape(out) == (x.shape[0], x.shape[1], x.shape[2] + 2 * pad, x.shape[3] + 2 * pad):
        raise CheckFailed(f"{what} returned the padded images; crop them back to (H, W)")
    expect_shape(what, "out", out, x.shape, "x")
    padded = np.pad(x0, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    H, W = x.shape[2:]
    offsets = []
    for n in range(len(x0)):
        found = [
            (i, j)
            for i in range(2 * pad + 1)
            for j in range(2 * pad + 1)
            if (padded[n, :, i : i + H, j : j + W] == out[n]).all()
        ]
        if not found:
            raise CheckFailed(
                f"{what}: image {n} is not a window of the zero-padded image; crop the same "
                "window from every channel of an image"
            )
        offsets.append(found[0])
    if len(set(offsets)) < 10:
        raise CheckFailed(
            f"{what} used {len(set(offsets))} different offsets for {len(x0)} images; draw the "
            f"offset of each image at random from 0 to 2 * pad in both directions"
        )
    passed("random_crop", 4)
