from __future__ import annotations

import numpy as np
from PIL import Image

from hnas.data import transforms


def test_random_crop_box_respects_bounds_scale_and_ratio() -> None:
    rng = np.random.default_rng(0)
    fractions, ratios = [], []
    for _ in range(500):
        left, top, width, height = transforms.random_crop_box(200, 150, rng)
        assert 0 <= left and left + width <= 200 and 0 <= top and top + height <= 150
        fractions.append(width * height / (200 * 150))
        ratios.append(width / height)
    assert 0.07 <= min(fractions) and max(fractions) <= 1.0 and np.median(fractions) > 0.3
    assert 0.72 <= min(ratios) and max(ratios) <= 1.36


def test_random_crop_box_falls_back_to_centre_crop_for_extreme_images() -> None:
    rng = np.random.default_rng(0)
    box = transforms.random_crop_box(1000, 10, rng, scale=(0.9, 1.0))
    assert box == ((1000 - 13) // 2, 0, 13, 10)


def test_random_resized_crop_and_eval_resize_give_square_images() -> None:
    image = Image.fromarray(np.zeros((120, 90, 3), dtype=np.uint8))
    rng = np.random.default_rng(1)
    assert transforms.random_resized_crop(image, 32, rng).size == (32, 32)
    assert transforms.resize_center_crop(image, 224).size == (224, 224)


def test_resize_center_crop_keeps_the_centre() -> None:
    pixels = np.zeros((100, 300, 3), dtype=np.uint8)
    pixels[:, 140:160] = 255  # a bright vertical bar in the middle
    out = np.asarray(transforms.resize_center_crop(Image.fromarray(pixels), 56))
    column_brightness = out[:, :, 0].mean(axis=0)
    assert column_brightness[26:30].min() > 200 and column_brightness[:10].max() < 10


def test_pad_random_crop_shifts_content_without_changing_size() -> None:
    image = np.zeros((10, 10, 1), dtype=np.uint8)
    image[4:6, 4:6] = 9
    rng = np.random.default_rng(2)
    shifted = [transforms.pad_random_crop(image, 2, rng) for _ in range(20)]
    assert all(out.shape == (10, 10, 1) and out.sum() == image.sum() for out in shifted)
    assert len({out.tobytes() for out in shifted}) > 1
    assert transforms.pad_random_crop(image, 0, rng) is image


def test_random_hflip_mirrors_about_half_the_time() -> None:
    image = np.arange(6, dtype=np.uint8).reshape(1, 6, 1)
    rng = np.random.default_rng(3)
    flips = [transforms.random_hflip(image, rng)[0, 0, 0] == 5 for _ in range(200)]
    assert 60 < sum(flips) < 140


def test_normalize_to_chw() -> None:
    image = np.array([[[0, 255, 51]]], dtype=np.uint8)
    out = transforms.normalize_to_chw(image, (0.0, 0.5, 0.1), (1.0, 0.5, 0.1))
    assert out.shape == (3, 1, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out.ravel(), [0.0, 1.0, 1.0], atol=1e-6)


def test_imagenet_views_are_normalised_chw() -> None:
    mean_colour = np.round(np.array(transforms.IMAGENET_MEAN) * 255).astype(np.uint8)
    image = Image.fromarray(np.tile(mean_colour, (64, 80, 1)))
    train = transforms.imagenet_train(image, 32, np.random.default_rng(0))
    val = transforms.imagenet_eval(image, 32)
    for out in (train, val):
        assert out.shape == (3, 32, 32) and out.dtype == np.float32
        assert np.abs(out).max() < 0.01
