"""DeZero's transforms: on NumPy arrays, and on PIL images (Pillow imported lazily)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from framework.autograd import transforms as T


def test_importing_transforms_does_not_import_pillow():
    code = "import sys, framework.autograd.transforms; print('PIL' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_compose_applies_in_order_and_empty_is_identity():
    f = T.Compose([lambda x: x + 1, lambda x: x * 10])
    assert f(1) == 20
    x = np.arange(3)
    assert T.Compose()(x) is x
    assert T.Compose([])(x) is x


def test_mnist_default_transform_gives_784_floats_in_0_1():
    img = np.arange(784, dtype=np.uint8).reshape(1, 28, 28)
    f = T.Compose([T.Flatten(), T.ToFloat(), T.Normalize(0.0, 255.0)])
    y = f(img)
    assert y.shape == (784,) and y.dtype == np.float32
    np.testing.assert_allclose(y, img.ravel().astype(np.float32) / 255.0)


def test_normalize_per_channel_and_scalar(rng):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    mean, std = (0.1, 0.2, 0.3), (1.0, 2.0, 4.0)
    y = T.Normalize(mean, std)(x)
    expected = (x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    assert y.dtype == np.float32
    np.testing.assert_allclose(T.Normalize(0.5, 0.5)(x), (x - 0.5) / 0.5)
    np.testing.assert_allclose(T.Normalize([0.5], [2.0])(x), (x - 0.5) / 2.0, rtol=1e-6)


def test_normalize_refuses_a_wrong_number_of_channel_values():
    with pytest.raises(ValueError, match=r"Normalize: expected mean of 1 or 3 values"):
        T.Normalize((0.1, 0.2), 1.0)(np.zeros((3, 2, 2), dtype=np.float32))


def test_astype_toint_tofloat():
    x = np.array([1.7, -2.2])
    assert T.ToFloat is T.AsType
    assert T.AsType()(x).dtype == np.float32
    assert T.AsType(np.float16)(x).dtype == np.float16
    y = T.ToInt()(x)
    assert y.dtype == np.dtype(int)
    np.testing.assert_array_equal(y, [1, -2])


def test_random_horizontal_flip_on_arrays_draws_from_the_global_state():
    x = np.arange(12).reshape(1, 3, 4)
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(x) is x
    flip = T.RandomHorizontalFlip()
    np.random.seed(3)  # noqa: NPY002
    first = [flip(x)[0, 0, 0] for _ in range(20)]
    np.random.seed(3)  # noqa: NPY002
    assert [flip(x)[0, 0, 0] for _ in range(20)] == first
    assert set(first) == {0, 3}  # some flipped, some not
    with pytest.raises(ValueError, match="RandomHorizontalFlip: expected p in"):
        T.RandomHorizontalFlip(p=1.5)


def test_random_horizontal_flip_with_a_generator(rng):
    x = np.arange(4).reshape(1, 1, 4)
    flips = [T.RandomHorizontalFlip(rng=np.random.default_rng(7))(x)[0, 0, 0] for _ in range(3)]
    assert len(set(flips)) == 1  # the same seed gives the same decision


@pytest.fixture
def image():
    Image = pytest.importorskip("PIL.Image")
    data = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)  # H=6, W=8
    return Image.fromarray(data), data


def test_to_array_and_to_pil_round_trip(image):
    img, data = image
    a = T.ToArray()(img)
    assert a.shape == (3, 6, 8) and a.dtype == np.float32
    np.testing.assert_array_equal(a, data.transpose(2, 0, 1))
    back = T.ToPIL()(a.astype(np.uint8))
    np.testing.assert_array_equal(np.asarray(back), data)
    assert T.ToArray()(a) is a


def test_to_array_of_a_gray_image_has_one_channel(image):
    img, _ = image
    a = T.ToArray(np.uint8)(img.convert("L"))
    assert a.shape == (1, 6, 8) and a.dtype == np.uint8
    assert np.asarray(T.ToPIL()(a)).shape == (6, 8)


def test_to_array_refuses_other_objects(image):
    with pytest.raises(TypeError, match="ToArray: expected a PIL image"):
        T.ToArray()([1, 2, 3])


def test_convert_rgb_bgr_and_gray(image):
    img, data = image
    bgr = np.asarray(T.Convert("BGR")(img))
    np.testing.assert_array_equal(bgr, data[..., ::-1])
    assert T.Convert("L")(img).mode == "L"
    assert T.Convert()(img.convert("L")).mode == "RGB"


def test_resize_and_center_crop(image):
    img, data = image
    assert T.Resize(4)(img).size == (4, 4)
    assert T.Resize((5, 3))(img).size == (5, 3)
    crop = T.CenterCrop((4, 3))(img)  # width 4 of 8, height 3 of 6
    assert crop.size == (4, 3)
    np.testing.assert_array_equal(np.asarray(crop), data[1:4, 2:6])
    odd = T.CenterCrop(5)(img)  # margins 3 (W) and 1 (H): extra pixel cut right/bottom
    np.testing.assert_array_equal(np.asarray(odd), data[0:5, 1:6])
    with pytest.raises(ValueError, match="CenterCrop: expected an image of at least 9x9"):
        T.CenterCrop(9)(img)


def test_random_horizontal_flip_on_an_image(image):
    img, data = image
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(1.0)(img)), data[:, ::-1])


@pytest.mark.parametrize(
    ("transform", "x"),
    [
        (T.Convert(), object()),
        (T.Resize(4), object()),
        (T.ToArray(), object()),
        (T.ToPIL(), np.zeros((3, 2, 2), np.uint8)),
    ],
)
def test_pil_transforms_without_pillow_name_the_package(transform, x, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=f"{type(transform).__name__} .*pip install Pillow"):
        transform(x)
