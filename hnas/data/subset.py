"""Fixed, seeded subsets of a dataset and loading a small dataset into memory.

Evaluation scores thousands of subnets on the same ``--val-images K`` images, and BN
recalibration feeds each subnet the same training batches; both come from :func:`subset`.
"""

from __future__ import annotations

import numpy as np

from hnas.data.base import SeededDataset
from hnas.errors import HnasError


class Subset(SeededDataset):
    """The samples ``indices`` of ``dataset``, in that order, with the parent's ``info``."""

    def __init__(self, dataset: SeededDataset, indices: np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        self.info = dataset.info

    def __len__(self) -> int:
        return len(self.indices)

    def sample(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.int64]:
        return self.dataset.sample(int(self.indices[index]), rng)


def subset_indices(size: int, count: int | None, seed: int) -> np.ndarray:
    """``count`` distinct indices of ``0 .. size-1`` in a seeded random order.

    The order is random rather than sorted because datasets are often stored class by class,
    and a BN-recalibration batch of one class gives wrong statistics. ``count=None`` or
    ``count >= size`` keeps every index in storage order.
    """
    if count is None or count >= size:
        return np.arange(size, dtype=np.int64)
    if count < 1:
        raise HnasError(f"subset size must be >= 1, got {count}")
    return np.random.default_rng(seed).permutation(size)[:count].astype(np.int64)


def subset(dataset: SeededDataset, count: int | None, seed: int) -> Subset:
    """A fixed subset of ``count`` samples chosen by ``seed`` (all samples if ``None``)."""
    return Subset(dataset, subset_indices(len(dataset), count, seed))


def to_arrays(dataset: SeededDataset) -> tuple[np.ndarray, np.ndarray]:
    """Every sample of a small dataset, in order, as plain arrays.

    Each sample is read with its plain index, so augmentation (if the split has any) is the
    fixed one seeded by the index.

    Returns:
        Images ``float32 [N, C, H, W]`` and labels ``int64 [N]``.
    """
    if len(dataset) == 0:
        raise HnasError(f"dataset {dataset.info.name!r} is empty")
    images, labels = zip(*(dataset[index] for index in range(len(dataset))))
    return np.stack(images).astype(np.float32, copy=False), np.asarray(labels, dtype=np.int64)
