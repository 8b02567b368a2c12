"""What every hnas dataset shares: its description, its sample keys and the dataset registry.

A sample is fetched either by a plain index (``ds[i]``) or by a :class:`SampleKey`
``(index, seed, epoch)``. The seeded batch sampler in :mod:`hnas.data.loader` hands out keys,
so the random augmentation of a sample depends only on the loader seed, the epoch and the
index: a resumed run, any number of workers and any number of ranks see the same crops and
flips, and the workers keep no epoch state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np
import paddle

from hnas.errors import HnasError
from hnas.registry import Registry


class BadSampleError(HnasError):
    """A sample whose file cannot be read or decoded; ``path`` names the file.

    Picklable (its arguments are ``path`` and ``reason``), so it survives a trip from a
    DataLoader worker process.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"image {self.path}: cannot decode ({self.reason})"


#: The names of the two splits every dataset kind offers.
SPLITS = ("train", "val")


def check_split(split: str) -> None:
    """Raise :class:`HnasError` unless ``split`` is one of :data:`SPLITS`."""
    if split not in SPLITS:
        raise HnasError(f"unknown data split {split!r}; known: {', '.join(SPLITS)}")


@dataclass(frozen=True)
class DatasetInfo:
    """What a search space needs to know about the data.

    Attributes:
        name: registry name of the dataset kind (``"embedded_mnist"``, ``"cifar10"``, ...).
        num_classes: number of labels; labels are ``0 .. num_classes - 1``.
        in_channels: channels of the returned images (1 for MNIST, 3 for RGB).
        resolution: side in pixels of the square images the dataset returns.
        class_names: one name per label index, in label order.
    """

    name: str
    num_classes: int
    in_channels: int
    resolution: int
    class_names: tuple[str, ...]

    def space_overrides(self) -> dict[str, int]:
        """The search-space fields that follow from the data (for ``resolve_space``)."""
        return {"num_classes": self.num_classes, "in_channels": self.in_channels}


class SampleKey(NamedTuple):
    """Which sample to fetch, and the loader seed and epoch that seed its augmentation."""

    index: int
    seed: int
    epoch: int


class SeededDataset(paddle.io.Dataset):
    """A map-style dataset of ``(image float32 [C, H, W], label int64)`` pairs.

    Subclasses set ``self.info`` and implement :meth:`__len__` and :meth:`sample`. A key
    ``SampleKey(index, seed, epoch)`` augments with the random stream ``(seed, epoch, index)``;
    a plain integer key uses the index alone, so ``ds[i]`` is reproducible too.
    """

    info: DatasetInfo

    def __len__(self) -> int:
        raise NotImplementedError

    def sample(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.int64]:
        """Image ``float32 [C, H, W]`` and label of sample ``index``, augmented with ``rng``."""
        raise NotImplementedError

    def __getitem__(self, key: int | SampleKey) -> tuple[np.ndarray, np.int64]:
        index = key.index if isinstance(key, SampleKey) else int(key)
        size = len(self)
        if not -size <= index < size:
            raise IndexError(f"index {index} out of range for {size} samples")
        index %= size
        entropy = (key.seed, key.epoch, index) if isinstance(key, SampleKey) else index
        return self.sample(index, np.random.default_rng(entropy))


#: Dataset kinds: ``factory(root, split, **args) -> SeededDataset``.
DATASETS: Registry[Callable[..., SeededDataset]] = Registry("dataset")


def describe(dataset: Any) -> str:
    """A one-line summary for logs."""
    info: DatasetInfo = dataset.info
    return (f"{info.name}: {len(dataset)} images, {info.num_classes} classes, "
            f"{info.in_channels}x{info.resolution}x{info.resolution}")
