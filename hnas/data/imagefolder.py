"""ImageNet-style folders: ``ROOT/train/<class>/*.jpg`` and ``ROOT/val/<class>/*``.

This is the layout of ImageNet (after the usual val re-sorting) and of Kaggle's ImageNet-mini.
Labels are the positions of the class folder names of ``train/`` in sorted order; ``val/``
uses the same mapping, so a val class folder that ``train/`` lacks is an error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from hnas.data import transforms
from hnas.data.base import DATASETS, BadSampleError, DatasetInfo, SeededDataset, check_split
from hnas.errors import HnasError

logger = logging.getLogger(__name__)

#: File suffixes (lower case) that count as images.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def class_names(train_dir: Path) -> tuple[str, ...]:
    """Sorted names of the class folders in ``train_dir``."""
    if not train_dir.is_dir():
        raise HnasError(f"image folder {train_dir}: missing (expected ROOT/train/<class>/*.jpg)")
    names = tuple(sorted(entry.name for entry in os.scandir(train_dir) if entry.is_dir()))
    if not names:
        raise HnasError(f"image folder {train_dir}: no class folders")
    return names


def list_images(class_dir: Path) -> list[Path]:
    """The image files directly inside ``class_dir``, sorted by name."""
    return sorted(Path(entry.path) for entry in os.scandir(class_dir)
                  if entry.is_file() and os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES)


def scan_split(split_dir: Path, classes: tuple[str, ...]) -> list[tuple[Path, int]]:
    """``(path, label)`` for every image of ``split_dir``, labels taken from ``classes``.

    Raises:
        HnasError: the folder is missing, has a class folder outside ``classes``, or has a
            class folder without images.
    """
    if not split_dir.is_dir():
        raise HnasError(f"image folder {split_dir}: missing")
    label_of = {name: label for label, name in enumerate(classes)}
    present = sorted(entry.name for entry in os.scandir(split_dir) if entry.is_dir())
    unknown = [name for name in present if name not in label_of]
    if unknown:
        raise HnasError(f"image folder {split_dir}: class folder(s) {unknown[:5]} are not in "
                        f"{split_dir.parent / 'train'}")
    if not present:
        raise HnasError(f"image folder {split_dir}: no class folders")
    samples: list[tuple[Path, int]] = []
    for name in present:
        images = list_images(split_dir / name)
        if not images:
            raise HnasError(f"image folder {split_dir / name}: no {'/'.join(IMAGE_SUFFIXES)} "
                            f"images")
        samples.extend((path, label_of[name]) for path in images)
    return samples


def load_rgb(path: Path) -> Image.Image:
    """Decode an image file as RGB; a file PIL cannot read (garbage, truncated) raises
    :class:`~hnas.data.base.BadSampleError` naming it."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as error:
        raise BadSampleError(str(path), str(error)) from None


class ImageFolder(SeededDataset):
    """An ImageNet-style folder split as ``(float32 [3, size, size], int64 label)`` pairs.

    Training images get random-resized-crop (scale 0.08-1, ratio 3/4-4/3) and a random
    horizontal flip; validation images are resized to ``size / 0.875`` and centre-cropped.
    Both are normalised with the ImageNet mean and std.

    Args:
        root: folder holding ``train/`` (and ``val/`` for the val split).
        split: ``"train"`` or ``"val"``.
        image_size: side of the returned square images in pixels.
    """

    def __init__(self, root: Path, split: str, image_size: int = 224) -> None:
        check_split(split)
        self.root = Path(root)
        self.split = split
        self.image_size = int(image_size)
        self.augment = split == "train"
        if not self.root.is_dir():
            raise HnasError(f"image folder {self.root}: data root does not exist")
        names = class_names(self.root / "train")
        self.samples = scan_split(self.root / split, names)
        self.info = DatasetInfo(name="imagefolder", num_classes=len(names), in_channels=3,
                                resolution=self.image_size, class_names=names)
        logger.info("image folder %s: %d images in %d classes", self.root / split,
                    len(self.samples), len(names))

    def __len__(self) -> int:
        return len(self.samples)

    def sample(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.int64]:
        path, label = self.samples[index]
        image = load_rgb(path)
        if self.augment:
            array = transforms.imagenet_train(image, self.image_size, rng)
        else:
            array = transforms.imagenet_eval(image, self.image_size)
        return array, np.int64(label)


@DATASETS.register("imagefolder")
def build_imagefolder(root: Path | None, split: str, image_size: int = 224) -> ImageFolder:
    """Registry factory for :class:`ImageFolder`; ``root`` is required."""
    if root is None:
        raise HnasError("dataset 'imagefolder' needs a data root (ROOT/train/<class>/...)")
    return ImageFolder(Path(root), split, image_size=image_size)
