"""Data loaders whose batch order is a function of ``(seed, epoch)``, on one or many ranks.

Paddle's ``DistributedBatchSampler`` shuffles with ``RandomState(epoch)`` and ignores any seed,
and ``BatchSampler`` reads the global numpy state; :class:`SeededBatchSampler` replaces both
so that a resumed run replays the same batches (:func:`set_epoch` with ``start_batch``).
"""

from __future__ import annotations

import logging
from typing import Iterator, Sized

import numpy as np
import paddle

from hnas.data.base import SampleKey, SeededDataset
from hnas.errors import HnasError

logger = logging.getLogger(__name__)


class SeededBatchSampler(paddle.io.Sampler):
    """Batches of sample keys for one rank, shuffled by ``(seed, epoch)``.

    Each pass over the sampler yields the batches of ``self.epoch`` (from ``start_batch`` on)
    and then moves to the next epoch, so a training loop that never calls :meth:`set_epoch`
    still sees a new order every epoch. With ``num_replicas > 1`` the epoch's permutation is
    dealt out round-robin to the ranks; without ``drop_last`` it is first extended by wrapping
    around so that every rank gets the same number of samples.

    For a :class:`SeededDataset` the batches hold :class:`SampleKey` items (augmentation
    seeded by ``(seed, epoch, index)``); for any other dataset they hold plain indices.

    Args:
        dataset: the map-style dataset (only its length is read).
        batch_size: samples per batch on this rank.
        shuffle: permute the samples every epoch; otherwise storage order.
        drop_last: drop the last incomplete batch (and the samples that do not divide evenly
            across ranks).
        seed: non-negative seed of the order and the augmentation.
        num_replicas: number of ranks sharing the epoch.
        rank: this rank, ``0 .. num_replicas-1``.
    """

    def __init__(self, dataset: Sized, batch_size: int, shuffle: bool = False,
                 drop_last: bool = False, seed: int = 0, num_replicas: int = 1,
                 rank: int = 0) -> None:
        if batch_size < 1:
            raise HnasError(f"batch size must be >= 1, got {batch_size}")
        if seed < 0:
            raise HnasError(f"loader seed must be >= 0, got {seed}")
        if not 0 <= rank < num_replicas:
            raise HnasError(f"rank {rank} outside 0..{num_replicas - 1}")
        super().__init__(dataset)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = int(seed)
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.keyed = isinstance(dataset, SeededDataset)
        self.epoch = 0
        self.start_batch = 0

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Make the next pass yield epoch ``epoch``, skipping its first ``start_batch`` batches."""
        if epoch < 0 or start_batch < 0:
            raise HnasError(f"epoch {epoch} and start batch {start_batch} must be >= 0")
        self.epoch = int(epoch)
        self.start_batch = int(start_batch)

    def rank_indices(self, epoch: int) -> np.ndarray:
        """The sample indices this rank visits in ``epoch``, in order."""
        size = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng((self.seed, epoch)).permutation(size)
        else:
            order = np.arange(size)
        if self.num_replicas == 1:
            return order
        per_rank = size // self.num_replicas if self.drop_last else -(-size // self.num_replicas)
        order = np.resize(order, per_rank * self.num_replicas)
        return order[self.rank::self.num_replicas]

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """All batches of indices this rank gets in ``epoch``."""
        indices = self.rank_indices(epoch).tolist()
        batches = [indices[start:start + self.batch_size]
                   for start in range(0, len(indices), self.batch_size)]
        if batches and self.drop_last and len(batches[-1]) < self.batch_size:
            batches.pop()
        return batches

    def __iter__(self) -> Iterator[list[int] | list[SampleKey]]:
        epoch, start_batch = self.epoch, self.start_batch
        self.epoch, self.start_batch = epoch + 1, 0
        batches = self.epoch_batches(epoch)[start_batch:]
        if self.keyed:
            return iter([[SampleKey(index, self.seed, epoch) for index in batch]
                         for batch in batches])
        return iter(batches)

    def __len__(self) -> int:
        """Batches in a whole epoch on this rank (``start_batch`` not subtracted)."""
        size = len(self.dataset)
        if self.num_replicas > 1:
            size = size // self.num_replicas if self.drop_last else -(-size // self.num_replicas)
        return size // self.batch_size if self.drop_last else -(-size // self.batch_size)


def make_loader(dataset: paddle.io.Dataset, batch_size: int, shuffle: bool = False,
                drop_last: bool = False, num_workers: int = 0, seed: int = 0,
                distributed: bool = False) -> paddle.io.DataLoader:
    """A ``paddle.io.DataLoader`` over ``dataset`` driven by a :class:`SeededBatchSampler`.

    Batches are ``[images float32 [B, C, H, W], labels int64 [B]]``.

    Args:
        dataset: a map-style dataset, normally a :class:`SeededDataset`.
        batch_size: samples per batch on each rank.
        shuffle: new seeded order every epoch (training); ``False`` for evaluation.
        drop_last: drop the incomplete last batch.
        num_workers: worker processes; 0 loads in the calling process.
        seed: seed of the order and of the augmentation.
        distributed: shard across ``paddle.distributed`` ranks (world size and rank read
            from the launched environment); a world of one rank is not sharded.

    Returns:
        The loader; use :func:`set_epoch` to choose the epoch of its next pass.
    """
    num_replicas, rank = 1, 0
    if distributed:
        num_replicas = paddle.distributed.get_world_size()
        rank = paddle.distributed.get_rank()
    sampler = SeededBatchSampler(dataset, batch_size, shuffle=shuffle, drop_last=drop_last,
                                 seed=seed, num_replicas=num_replicas, rank=rank)
    logger.debug("loader: %d samples, batch %d, rank %d/%d, %d workers", len(dataset),
                 batch_size, rank, num_replicas, num_workers)
    return paddle.io.DataLoader(dataset, batch_sampler=sampler, num_workers=num_workers,
                                return_list=True)


def set_epoch(loader: paddle.io.DataLoader, epoch: int, start_batch: int = 0) -> None:
    """Make the next pass of a :func:`make_loader` loader yield ``epoch`` from ``start_batch``.

    A trainer resuming after ``k`` optimizer steps of epoch ``e`` calls
    ``set_epoch(loader, e, start_batch=k)`` and receives exactly the batches it has not seen.
    """
    sampler = loader.batch_sampler
    if not isinstance(sampler, SeededBatchSampler):
        raise TypeError("set_epoch needs a loader built by hnas.data.make_loader")
    sampler.set_epoch(epoch, start_batch)
