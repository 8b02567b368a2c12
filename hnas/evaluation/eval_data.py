"""The images every architecture is measured on: a fixed validation subset and recalibration batches.

Both are drawn once, with a seed, and reused for every arch, so all archs see the same
images in the same batches. When they fit in ``max_bytes`` they are decoded once and kept as
Paddle tensors; otherwise the validation subset is streamed through a ``DataLoader`` for each
arch (slower, same numbers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import paddle

from hnas.data.base import SeededDataset
from hnas.data.subset import Subset, subset, to_arrays
from hnas.errors import HnasError

logger = logging.getLogger(__name__)

Batch = tuple[paddle.Tensor, paddle.Tensor]

#: Default limit for holding validation images in memory (float32 tensors).
DEFAULT_MAX_BYTES = 4 * 1024**3

# Independent seeds for the two draws, so changing the number of recalibration images does
# not change which validation images are used, and vice versa.
_VAL_STREAM = 0
_RECAL_STREAM = 1


def batched(images: np.ndarray, labels: np.ndarray, batch_size: int) -> list[Batch]:
    """Cut ``float32 [N, C, H, W]`` images and ``int64 [N]`` labels into tensor batches, in order."""
    if batch_size < 1:
        raise HnasError(f"batch size must be >= 1, got {batch_size}")
    return [
        (paddle.to_tensor(images[start : start + batch_size]), paddle.to_tensor(labels[start : start + batch_size]))
        for start in range(0, len(labels), batch_size)
    ]


class StreamedBatches:
    """Re-iterable batches of a dataset read through a :func:`hnas.data.make_loader` loader each time
    (an unreadable image stops the run with its path, in either loader mode)."""

    def __init__(self, dataset: SeededDataset, batch_size: int, num_workers: int = 0) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_workers = num_workers

    def __iter__(self) -> Iterator[Batch]:
        from hnas.data.loader import make_loader

        loader = make_loader(self.dataset, self.batch_size, shuffle=False, drop_last=False,
                             num_workers=self.num_workers)
        for images, labels in loader:
            yield images, labels.reshape([-1])

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)


@dataclass
class EvalData:
    """Validation batches (a list of tensors, or :class:`StreamedBatches`) and recalibration images."""

    val: Sequence[Batch] | StreamedBatches
    recal: list[paddle.Tensor]
    val_images: int

    @property
    def in_memory(self) -> bool:
        return isinstance(self.val, list)


def _nbytes(dataset: SeededDataset, count: int) -> int:
    info = dataset.info
    return count * info.in_channels * info.resolution * info.resolution * 4


def load_eval_data(
    val_dataset: SeededDataset,
    train_dataset: SeededDataset | None,
    val_images: int | None,
    recal_batches: int,
    recal_batch_size: int,
    batch_size: int,
    seed: int,
    max_bytes: int = DEFAULT_MAX_BYTES,
    num_workers: int = 0,
) -> EvalData:
    """Draw the validation subset and the recalibration batches.

    Args:
        val_dataset: the validation split.
        train_dataset: the training split (recalibration images); may be None when
            ``recal_batches`` is 0.
        val_images: size of the seeded validation subset; None uses every image.
        recal_batches: number of recalibration batches (0 for none).
        recal_batch_size: images per recalibration batch.
        batch_size: images per validation batch.
        seed: selects both subsets.
        max_bytes: largest validation set held in memory.
        num_workers: DataLoader workers when streaming.

    Raises:
        HnasError: bad sizes, or more recalibration images than the training split holds.
    """
    val_subset: Subset = subset(val_dataset, val_images, seed * 2 + _VAL_STREAM)
    if _nbytes(val_dataset, len(val_subset)) <= max_bytes:
        images, labels = to_arrays(val_subset)
        val: Sequence[Batch] | StreamedBatches = batched(images, labels, batch_size)
    else:
        logger.warning(
            "%d validation images need %.1f GB as tensors (limit %.1f GB): streaming them for every arch; "
            "pass --val-images to use a smaller subset held in memory",
            len(val_subset),
            _nbytes(val_dataset, len(val_subset)) / 1024**3,
            max_bytes / 1024**3,
        )
        val = StreamedBatches(val_subset, batch_size, num_workers)
    recal: list[paddle.Tensor] = []
    if recal_batches > 0:
        if train_dataset is None:
            raise HnasError("BN recalibration needs the training split")
        wanted = recal_batches * recal_batch_size
        if wanted > len(train_dataset):
            raise HnasError(
                f"BN recalibration wants {recal_batches} x {recal_batch_size} = {wanted} training images, "
                f"the training split has {len(train_dataset)}"
            )
        images, _ = to_arrays(subset(train_dataset, wanted, seed * 2 + _RECAL_STREAM))
        recal = [
            paddle.to_tensor(images[start : start + recal_batch_size]) for start in range(0, wanted, recal_batch_size)
        ]
    return EvalData(val=val, recal=recal, val_images=len(val_subset))
