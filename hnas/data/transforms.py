"""Image augmentation and normalisation with PIL and numpy, driven by an explicit RNG.

Every random transform takes a ``numpy.random.Generator`` instead of reading a global random
state, which is what makes a sample's augmentation a function of ``(loader seed, epoch, index)``
(see :mod:`hnas.data.base`). Images travel as PIL images or ``uint8 [H, W, C]`` arrays and leave
as ``float32 [C, H, W]`` arrays normalised per channel.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)
MNIST_MEAN = (0.1307,)
MNIST_STD = (0.3081,)

#: Evaluation crops the centre ``size`` pixels of an image resized to ``size / 0.875``
#: (224 of 256), the usual ImageNet protocol.
EVAL_CROP_FRACTION = 0.875


def random_crop_box(width: int, height: int, rng: np.random.Generator,
                    scale: tuple[float, float] = (0.08, 1.0),
                    ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> tuple[int, int, int, int]:
    """A random crop of an image for Inception-style random-resized-crop.

    The crop covers a uniform fraction ``scale`` of the area and has a log-uniform aspect
    ratio (width / height) in ``ratio``. After ten misses it falls back to the largest
    centred crop whose aspect ratio lies in ``ratio``.

    Returns:
        ``(left, top, crop_width, crop_height)`` in pixels.
    """
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
        crop_width = round(math.sqrt(target_area * aspect))
        crop_height = round(math.sqrt(target_area / aspect))
        if 0 < crop_width <= width and 0 < crop_height <= height:
            left = int(rng.integers(0, width - crop_width + 1))
            top = int(rng.integers(0, height - crop_height + 1))
            return left, top, crop_width, crop_height
    image_ratio = width / height
    if image_ratio < ratio[0]:
        crop_width, crop_height = width, round(width / ratio[0])
    elif image_ratio > ratio[1]:
        crop_width, crop_height = round(height * ratio[1]), height
    else:
        crop_width, crop_height = width, height
    return (width - crop_width) // 2, (height - crop_height) // 2, crop_width, crop_height


def random_resized_crop(image: Image.Image, size: int, rng: np.random.Generator,
                        scale: tuple[float, float] = (0.08, 1.0),
                        ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> Image.Image:
    """Crop a random box (see :func:`random_crop_box`) and resize it to ``size x size``."""
    left, top, crop_width, crop_height = random_crop_box(image.width, image.height, rng,
                                                          scale, ratio)
    box = (left, top, left + crop_width, top + crop_height)
    return image.resize((size, size), Image.Resampling.BILINEAR, box=box)


def resize_center_crop(image: Image.Image, size: int,
                       crop_fraction: float = EVAL_CROP_FRACTION) -> Image.Image:
    """Resize the shorter side to ``round(size / crop_fraction)``, then crop the centre."""
    shorter = round(size / crop_fraction)
    if image.width <= image.height:
        new_size = (shorter, max(shorter, round(image.height * shorter / image.width)))
    else:
        new_size = (max(shorter, round(image.width * shorter / image.height)), shorter)
    resized = image.resize(new_size, Image.Resampling.BILINEAR)
    left = (new_size[0] - size) // 2
    top = (new_size[1] - size) // 2
    return resized.crop((left, top, left + size, top + size))


def random_hflip(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror an ``[H, W, C]`` array left-right with probability 1/2."""
    return array[:, ::-1] if rng.random() < 0.5 else array


def pad_random_crop(array: np.ndarray, padding: int, rng: np.random.Generator) -> np.ndarray:
    """Zero-pad an ``[H, W, C]`` array by ``padding`` pixels and crop its original size back.

    This shifts the content by up to ``padding`` pixels in each direction: the CIFAR "pad 4,
    random crop 32" augmentation, and the small MNIST shift.
    """
    if padding <= 0:
        return array
    height, width = array.shape[:2]
    padded = np.pad(array, ((padding, padding), (padding, padding), (0, 0)))
    top = int(rng.integers(0, 2 * padding + 1))
    left = int(rng.integers(0, 2 * padding + 1))
    return padded[top:top + height, left:left + width]


def normalize_to_chw(array: np.ndarray, mean: Sequence[float],
                     std: Sequence[float]) -> np.ndarray:
    """``uint8 [H, W, C]`` in 0..255 to ``float32 [C, H, W]`` with ``(x / 255 - mean) / std``."""
    scaled = array.astype(np.float32) / 255.0
    scaled -= np.asarray(mean, dtype=np.float32)
    scaled /= np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(scaled.transpose(2, 0, 1))


def imagenet_train(image: Image.Image, size: int, rng: np.random.Generator) -> np.ndarray:
    """Training view: random-resized-crop to ``size``, random flip, ImageNet normalisation."""
    cropped = np.asarray(random_resized_crop(image, size, rng))
    return normalize_to_chw(random_hflip(cropped, rng), IMAGENET_MEAN, IMAGENET_STD)


def imagenet_eval(image: Image.Image, size: int) -> np.ndarray:
    """Evaluation view: resize to ``size / 0.875``, centre crop ``size``, normalise."""
    return normalize_to_chw(np.asarray(resize_center_crop(image, size)), IMAGENET_MEAN,
                            IMAGENET_STD)
