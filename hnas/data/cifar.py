"""CIFAR-10 and CIFAR-100 from the python pickles of the official archives.

Expected files (``root`` may be the batch folder itself or its parent):

- CIFAR-10, ``cifar-10-batches-py/``: ``data_batch_1`` .. ``data_batch_5``, ``test_batch``
  and optionally ``batches.meta`` (class names);
- CIFAR-100, ``cifar-100-python/``: ``train``, ``test`` and optionally ``meta``.

Each pickle is a dict with ``data`` (``uint8 [N, 3072]``, channel-major 3x32x32 rows) and
``labels`` (CIFAR-10) or ``fine_labels`` (CIFAR-100). The "val" split is the test set.
"""

from __future__ import annotations

import io
import logging
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hnas.data import transforms
from hnas.data.base import DATASETS, DatasetInfo, SeededDataset, check_split
from hnas.errors import HnasError

logger = logging.getLogger(__name__)

#: The only globals a CIFAR pickle needs (numpy arrays and bytes); anything else is refused,
#: so a tampered file cannot run code when it is loaded.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
}


@dataclass(frozen=True)
class CifarLayout:
    """File names and keys of one CIFAR variant."""

    name: str
    folder: str
    train_files: tuple[str, ...]
    val_files: tuple[str, ...]
    meta_file: str
    label_key: str
    names_key: str
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]


CIFAR10 = CifarLayout(
    name="cifar10", folder="cifar-10-batches-py",
    train_files=tuple(f"data_batch_{i}" for i in range(1, 6)), val_files=("test_batch",),
    meta_file="batches.meta", label_key="labels", names_key="label_names", num_classes=10,
    mean=transforms.CIFAR10_MEAN, std=transforms.CIFAR10_STD)
CIFAR100 = CifarLayout(
    name="cifar100", folder="cifar-100-python", train_files=("train",), val_files=("test",),
    meta_file="meta", label_key="fine_labels", names_key="fine_label_names", num_classes=100,
    mean=transforms.CIFAR100_MEAN, std=transforms.CIFAR100_STD)


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing global {module}.{name}")
        return super().find_class(module, name)


def read_pickle(path: Path) -> dict[str, Any]:
    """A CIFAR pickle as a dict with ``str`` keys (the originals are Python 2 byte keys)."""
    if not path.is_file():
        raise HnasError(f"CIFAR file {path}: missing")
    try:
        content = _ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except Exception as error:  # any failure to parse a user file is bad input
        raise HnasError(f"CIFAR file {path}: not a readable pickle ({error})") from None
    if not isinstance(content, dict):
        raise HnasError(f"CIFAR file {path}: expected a dict, got {type(content).__name__}")
    return {key.decode() if isinstance(key, bytes) else key: value
            for key, value in content.items()}


def read_batch(path: Path, layout: CifarLayout) -> tuple[np.ndarray, np.ndarray]:
    """Images ``uint8 [N, 32, 32, 3]`` and labels ``int64 [N]`` of one pickle."""
    content = read_pickle(path)
    for key in ("data", layout.label_key):
        if key not in content:
            raise HnasError(f"CIFAR file {path}: no {key!r} entry")
    data = np.asarray(content["data"])
    labels = np.asarray(content[layout.label_key], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.shape[0] != labels.shape[0]:
        raise HnasError(f"CIFAR file {path}: data of shape {data.shape} for {labels.shape[0]} "
                        f"labels, expected [N, 3072]")
    if labels.size and (labels.min() < 0 or labels.max() >= layout.num_classes):
        raise HnasError(f"CIFAR file {path}: labels outside 0..{layout.num_classes - 1}")
    images = data.astype(np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def batch_folder(root: Path, layout: CifarLayout) -> Path:
    """``root/<standard folder>`` when it exists, else ``root`` itself."""
    nested = root / layout.folder
    return nested if nested.is_dir() else root


def read_class_names(folder: Path, layout: CifarLayout) -> tuple[str, ...]:
    """Names from the meta file when present and sound, else ``"0" .. "K-1"``."""
    path = folder / layout.meta_file
    names: list[Any] = read_pickle(path).get(layout.names_key, []) if path.is_file() else []
    if len(names) != layout.num_classes:
        return tuple(str(label) for label in range(layout.num_classes))
    return tuple(name.decode() if isinstance(name, bytes) else str(name) for name in names)


class Cifar(SeededDataset):
    """A CIFAR split as ``(float32 [3, 32, 32], int64 label)`` pairs, held in memory.

    Training images are zero-padded by 4 pixels, randomly cropped back to 32 and flipped;
    both splits are normalised with the dataset's channel mean and std.

    Args:
        root: the batch folder or its parent.
        split: ``"train"`` or ``"val"`` (the test batch).
        layout: :data:`CIFAR10` or :data:`CIFAR100`.
    """

    def __init__(self, root: Path, split: str, layout: CifarLayout) -> None:
        check_split(split)
        folder = batch_folder(Path(root), layout)
        if not folder.is_dir():
            raise HnasError(f"{layout.name} folder {folder}: data root does not exist")
        self.layout = layout
        self.augment = split == "train"
        files = layout.train_files if self.augment else layout.val_files
        parts = [read_batch(folder / name, layout) for name in files]
        self.images = np.concatenate([images for images, _ in parts])
        self.labels = np.concatenate([labels for _, labels in parts])
        self.info = DatasetInfo(name=layout.name, num_classes=layout.num_classes, in_channels=3,
                                resolution=32, class_names=read_class_names(folder, layout))
        logger.info("%s %s: %d images from %s", layout.name, split, len(self.labels), folder)

    def __len__(self) -> int:
        return len(self.labels)

    def sample(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.int64]:
        image = self.images[index]
        if self.augment:
            image = transforms.random_hflip(transforms.pad_random_crop(image, 4, rng), rng)
        array = transforms.normalize_to_chw(image, self.layout.mean, self.layout.std)
        return array, np.int64(self.labels[index])


@DATASETS.register("cifar10")
def build_cifar10(root: Path | None, split: str) -> Cifar:
    """Registry factory for CIFAR-10; ``root`` is required."""
    if root is None:
        raise HnasError("dataset 'cifar10' needs a data root (the cifar-10-batches-py folder)")
    return Cifar(Path(root), split, CIFAR10)


@DATASETS.register("cifar100")
def build_cifar100(root: Path | None, split: str) -> Cifar:
    """Registry factory for CIFAR-100; ``root`` is required."""
    if root is None:
        raise HnasError("dataset 'cifar100' needs a data root (the cifar-100-python folder)")
    return Cifar(Path(root), split, CIFAR100)
