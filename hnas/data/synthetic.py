"""A tiny seeded synthetic dataset for fast tests: learnable, deterministic, no files.

Each class owns a blocky pattern (a random 4x4 grid per channel, upsampled to the image size);
an image is its class pattern plus Gaussian noise. Train and val share the patterns (so val is
predictable from train) and differ in labels order and noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hnas.data.base import DATASETS, SPLITS, DatasetInfo, SeededDataset, check_split
from hnas.errors import HnasError

#: Side of the random grid that is upsampled into a class pattern.
PATTERN_GRID = 4
#: Random streams of one seed: the class patterns, then one per split.
_PATTERN_STREAM = 0


def class_patterns(num_classes: int, in_channels: int, image_size: int, seed: int) -> np.ndarray:
    """``float32 [K, C, S, S]`` blocky unit-variance patterns, one per class."""
    rng = np.random.default_rng([seed, _PATTERN_STREAM])
    grid = rng.standard_normal((num_classes, in_channels, PATTERN_GRID, PATTERN_GRID))
    repeat = -(-image_size // PATTERN_GRID)
    patterns = grid.repeat(repeat, axis=2).repeat(repeat, axis=3)
    return patterns[:, :, :image_size, :image_size].astype(np.float32)


class Synthetic(SeededDataset):
    """``num_images`` images ``float32 [C, S, S]`` with balanced labels ``0 .. K-1``.

    Args:
        split: ``"train"`` or ``"val"``; the split selects the noise and label order.
        num_images: images in this split.
        num_classes: number of classes ``K``.
        in_channels: channels ``C``.
        image_size: side ``S`` in pixels.
        noise: standard deviation of the noise added to the unit-variance class pattern.
        seed: everything is a function of ``(seed, split)``.
    """

    def __init__(self, split: str, num_images: int = 64, num_classes: int = 4,
                 in_channels: int = 3, image_size: int = 16, noise: float = 1.0,
                 seed: int = 0) -> None:
        check_split(split)
        if min(num_images, num_classes, in_channels, image_size) < 1 or noise < 0:
            raise HnasError("synthetic data: num_images, num_classes, in_channels and "
                            "image_size must be >= 1 and noise >= 0")
        rng = np.random.default_rng([seed, 1 + SPLITS.index(split)])
        self.labels = rng.permutation(np.arange(num_images, dtype=np.int64) % num_classes)
        patterns = class_patterns(num_classes, in_channels, image_size, seed)
        noise_images = rng.standard_normal((num_images, in_channels, image_size, image_size))
        self.images = (patterns[self.labels] + noise * noise_images).astype(np.float32)
        self.info = DatasetInfo(name="synthetic", num_classes=num_classes,
                                in_channels=in_channels, resolution=image_size,
                                class_names=tuple(str(label) for label in range(num_classes)))

    def __len__(self) -> int:
        return len(self.labels)

    def sample(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.int64]:
        return self.images[index].copy(), np.int64(self.labels[index])


@DATASETS.register("synthetic")
def build_synthetic(root: Path | None, split: str, num_images: int = 64, num_classes: int = 4,
                    in_channels: int = 3, image_size: int = 16, noise: float = 1.0,
                    seed: int = 0) -> Synthetic:
    """Registry factory for :class:`Synthetic`; it reads no files, so ``root`` must be unset."""
    if root is not None:
        raise HnasError(f"dataset 'synthetic' reads no files, but a data root {root} was given")
    return Synthetic(split, num_images=num_images, num_classes=num_classes,
                     in_channels=in_channels, image_size=image_size, noise=noise, seed=seed)
