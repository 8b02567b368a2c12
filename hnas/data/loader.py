"""Data loaders whose batch order is a function of ``(seed, epoch)``, on one or many ranks.

Paddle's ``DistributedBatchSampler`` shuffles with ``RandomState(epoch)`` and ignores any seed,
and ``BatchSampler`` reads the global numpy state; :class:`SeededBatchSampler` replaces both
so that a resumed run replays the same batches (:func:`set_epoch` with ``start_batch``).

Unreadable samples (a corrupt or truncated image: :class:`~hnas.data.base.BadSampleError`)
must end a run at once with a message naming the file, in both loader modes. Measured with
Paddle 3: with ``num_workers=0`` Paddle's single-process iterator decodes in a thread that
dies on the error without closing its queue, so training waits for ever in C++ and ignores
SIGTERM and Ctrl-C; with workers the error reaches the main process only as a
``SystemError: Blocking queue is killed``. :class:`Loader` therefore

* loads in the calling thread when ``num_workers == 0`` (no Paddle iterator, no thread), and
* with workers, wraps the dataset so that a bad sample comes back as a *marker* (an image of
  zeros with label ``-1 - index``) instead of an exception; every batch is screened in the
  main process, which re-reads a marked sample there to raise the dataset's own error, or,
  with ``on_bad_image="skip"``, drops it with a warning and counts it.

Other worker failures become an :class:`HnasError` pointing at the worker traceback.
"""

from __future__ import annotations

import logging
import traceback
from typing import Iterator, NoReturn, Sized

import numpy as np
import paddle

from hnas.data.base import BadSampleError, SampleKey, SeededDataset
from hnas.errors import HnasError
from hnas.termination import raise_if_interrupted, raise_if_terminated

#: What a loader does with an unreadable sample: stop with an error naming the file, or drop it.
BAD_IMAGE_POLICIES: tuple[str, ...] = ("error", "skip")

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


class _MarkingDataset(paddle.io.Dataset):
    """``dataset`` whose unreadable samples come back as markers instead of exceptions (see module doc)."""

    def __init__(self, dataset: paddle.io.Dataset) -> None:
        super().__init__()
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: int | SampleKey) -> tuple[np.ndarray, np.int64]:
        try:
            return self.dataset[key]
        except BadSampleError:
            index = key.index if isinstance(key, SampleKey) else int(key)
            info = self.dataset.info
            image = np.zeros((info.in_channels, info.resolution, info.resolution), dtype=np.float32)
            return image, np.int64(-1 - index)


class Loader:
    """Batches ``[images float32 [B, C, H, W], labels int64 [B]]`` of a :class:`SeededBatchSampler`.

    ``len(loader)``, iteration and ``loader.batch_sampler`` behave as for ``paddle.io.DataLoader``.

    Args:
        dataset: the map-style dataset.
        batch_sampler: the sampler deciding the batches.
        num_workers: worker processes; 0 loads in the calling thread.
        on_bad_image: ``"error"`` (raise the dataset's :class:`BadSampleError`) or ``"skip"``
            (drop the sample from its batch with a warning; ``bad_samples`` counts them).
    """

    def __init__(self, dataset: paddle.io.Dataset, batch_sampler: SeededBatchSampler, num_workers: int = 0,
                 on_bad_image: str = "error") -> None:
        if on_bad_image not in BAD_IMAGE_POLICIES:
            raise HnasError(f"on_bad_image must be one of {', '.join(BAD_IMAGE_POLICIES)}, got {on_bad_image!r}")
        self.dataset = dataset
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.on_bad_image = on_bad_image
        self.bad_samples: list[str] = []
        self._workers = None
        if self.num_workers > 0:
            self._workers = paddle.io.DataLoader(_MarkingDataset(dataset), batch_sampler=batch_sampler,
                                                 num_workers=self.num_workers, return_list=True)

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __iter__(self) -> Iterator[list[paddle.Tensor]]:
        for batch in self._batches():
            raise_if_terminated()  # a SIGTERM that Paddle's loader code swallowed still stops the run
            yield batch

    def _batches(self) -> Iterator[list[paddle.Tensor]]:
        if self._workers is None:
            yield from self._in_process()
            return
        try:
            iterator = iter(self._workers)  # starts the workers: Ctrl-C may kill one meanwhile
        except (SystemError, RuntimeError) as error:
            _worker_failed(error)
        while True:
            try:
                images, labels = next(iterator)
            except StopIteration:
                return
            except (SystemError, RuntimeError) as error:
                _worker_failed(error)
            yield self._screen(images, labels)

    def _in_process(self) -> Iterator[list[paddle.Tensor]]:
        for batch in self.batch_sampler:
            samples = []
            for key in batch:
                try:
                    samples.append(self.dataset[key])
                except BadSampleError as error:
                    self._bad(error)
            if not samples:
                raise HnasError(f"every image of a batch is unreadable ({len(batch)} images, the last "
                                f"{self.bad_samples[-1]})")
            images = np.stack([sample[0] for sample in samples])
            labels = np.array([sample[1] for sample in samples], dtype=np.int64)
            yield [paddle.to_tensor(images), paddle.to_tensor(labels)]

    def _screen(self, images: paddle.Tensor, labels: paddle.Tensor) -> list[paddle.Tensor]:
        values = labels.numpy()
        marked = np.flatnonzero(values < 0)
        if not len(marked):
            return [images, labels]
        for position in marked:
            index = int(-1 - values[position])
            try:
                self.dataset[index]  # re-read here: the dataset's own error, with the file's path
            except BadSampleError as error:
                self._bad(error)
            else:
                self._bad(BadSampleError(f"sample {index}", "unreadable in a worker process"))
        keep = np.flatnonzero(values >= 0)
        if not len(keep):
            raise HnasError(f"every image of a batch is unreadable ({len(values)} images)")
        index = paddle.to_tensor(keep)
        return [paddle.gather(images, index), paddle.gather(labels, index)]

    def _bad(self, error: BadSampleError) -> None:
        if self.on_bad_image == "error":
            raise HnasError(f"{error}; the run stopped (set data.on_bad_image: skip to skip such files)") from None
        self.bad_samples.append(error.path)
        logger.warning("skipping unreadable %s (%d skipped so far)", error, len(self.bad_samples))


def _worker_failed(error: BaseException) -> NoReturn:
    """Raise what a failure of Paddle's multi-process reader means.

    Ctrl-C reaches the workers too, and one that dies of it kills the reader's queue (or
    Paddle's SIGCHLD handler raises while the iterator is still starting): a stop the main
    thread noticed, possibly swallowed, is the cause, not the data. The frames of the error
    are cleared first, releasing a half-built iterator now rather than at interpreter shutdown
    (its destructor blocks there, see :func:`hnas.termination.exit_process`).
    """
    traceback.clear_frames(error.__traceback__)
    raise_if_interrupted()
    raise_if_terminated()
    raise HnasError(f"a data loader worker failed ({str(error).splitlines()[0]}); its traceback is "
                    "printed above") from None


def make_loader(dataset: paddle.io.Dataset, batch_size: int, shuffle: bool = False,
                drop_last: bool = False, num_workers: int = 0, seed: int = 0,
                distributed: bool = False, on_bad_image: str = "error") -> Loader:
    """A :class:`Loader` over ``dataset`` driven by a :class:`SeededBatchSampler`.

    Batches are ``[images float32 [B, C, H, W], labels int64 [B]]``.

    Args:
        dataset: a map-style dataset, normally a :class:`SeededDataset`.
        batch_size: samples per batch on each rank.
        shuffle: new seeded order every epoch (training); ``False`` for evaluation.
        drop_last: drop the incomplete last batch.
        num_workers: worker processes; 0 loads in the calling thread.
        seed: seed of the order and of the augmentation.
        distributed: shard across ``paddle.distributed`` ranks (world size and rank read
            from the launched environment); a world of one rank is not sharded.
        on_bad_image: ``"error"`` or ``"skip"`` (see :class:`Loader`).

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
    return Loader(dataset, sampler, num_workers=num_workers, on_bad_image=on_bad_image)


def set_epoch(loader: Loader | paddle.io.DataLoader, epoch: int, start_batch: int = 0) -> None:
    """Make the next pass of a :func:`make_loader` loader yield ``epoch`` from ``start_batch``.

    A trainer resuming after ``k`` optimizer steps of epoch ``e`` calls
    ``set_epoch(loader, e, start_batch=k)`` and receives exactly the batches it has not seen.
    """
    sampler = loader.batch_sampler
    if not isinstance(sampler, SeededBatchSampler):
        raise TypeError("set_epoch needs a loader built by hnas.data.make_loader")
    sampler.set_epoch(epoch, start_batch)
