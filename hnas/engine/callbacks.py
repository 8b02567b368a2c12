"""``paddle.callbacks.Callback`` classes of supernet training.

The trainer (:mod:`hnas.engine.trainer`) calls them with hapi's hooks and keeps the
current :class:`~hnas.engine.checkpoint.Progress` on ``model.progress`` and the last step's
loss terms in ``logs``. The LR is stepped per iteration by Paddle's own
``paddle.callbacks.LRScheduler(by_step=True)``. Order matters at the end of a batch or an
epoch; :func:`hnas.engine.trainer.default_callbacks` builds them in this order:

1. ``LRScheduler`` (Paddle): next iteration's learning rate.
2. :class:`MaxSteps`: stop after a total number of optimizer steps.
   (:class:`ChannelReorder`, at the *start* of a batch: re-order channels when the sampler asks.)
3. :class:`SyncBatchNormStats`: average BN running statistics over ranks before they are
   evaluated or saved.
4. :class:`SubnetEvaluator`: validation accuracy of the largest and smallest subnets.
5. :class:`ProgressLogger`: console lines with losses, LR, speed and ETA.
6. :class:`VisualDLLogger`: the same scalars for VisualDL.
7. :class:`Checkpointer`: ``last`` and ``epoch_NNNN`` checkpoints.

Writers (5-7) are created on rank 0 only.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import paddle
from paddle.callbacks import Callback

from hnas.checkpoints.folder import LAST, epoch_name, prune_checkpoints
from hnas.engine.checkpoint import TrainingState, save_checkpoint
from hnas.engine.distributed import DistInfo, average_buffers
from hnas.nn.optim import permute_optimizer_state
from hnas.nn.scorer import SubnetScorer
from hnas.search_spaces.base import Spec

logger = logging.getLogger(__name__)


def _progress(model: Any) -> Any:
    return model.progress


class MaxSteps(Callback):
    """Stops training once ``model.progress.global_step`` reaches ``limit`` (0 = never)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self.limit and _progress(self.model).global_step >= self.limit:
            logger.info("reached max_steps=%d; stopping", self.limit)
            self.model.stop_training = True


class ChannelReorder(Callback):
    """Calls ``supernet.reorder_channels()`` before the steps the sampler's ``reorder_due(step)`` names.

    Progressive shrinking re-orders channels by importance when a phase opens narrower
    widths. Runs on every rank (the weights, hence the permutation, are identical). The
    optimizer's per-parameter state (momentum) is permuted with the weights, so each channel
    keeps its own velocity.
    """

    def __init__(self, sampler: Any) -> None:
        super().__init__()
        self.sampler = sampler

    def on_train_batch_begin(self, step: int, logs: dict[str, Any] | None = None) -> None:
        global_step = _progress(self.model).global_step
        if self.sampler.reorder_due(global_step):
            logger.info("re-ordering channels by importance before step %d", global_step)
            moves = self.model.network.reorder_channels()
            permute_optimizer_state(self.model.supernet_step.optimizer, moves)


class SyncBatchNormStats(Callback):
    """Averages BN running statistics over ranks at epoch ends, checkpoint steps and the end.

    A no-op in a single process. Runs on every rank: it is a collective operation.
    """

    def __init__(self, dist_info: DistInfo, every_steps: int = 0) -> None:
        super().__init__()
        self.dist_info = dist_info
        self.every_steps = every_steps

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self.every_steps and _progress(self.model).global_step % self.every_steps == 0:
            average_buffers(self.model.network, self.dist_info)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        average_buffers(self.model.network, self.dist_info)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        average_buffers(self.model.network, self.dist_info)


class _Images:
    """Lazy iterable of the image tensors of a loader (BN recalibration input)."""

    def __init__(self, batches: Callable[[], Iterable[Any]], limit: int) -> None:
        self.batches = batches
        self.limit = limit

    def __bool__(self) -> bool:
        return self.limit > 0

    def __iter__(self) -> Iterator[paddle.Tensor]:
        for index, batch in enumerate(self.batches()):
            if index >= self.limit:
                return
            yield batch[0]


class _Batches:
    """Re-iterable view of a loader factory, limited to ``limit`` batches (0 = all)."""

    def __init__(self, batches: Callable[[], Iterable[Any]], limit: int = 0) -> None:
        self.batches = batches
        self.limit = limit

    def __iter__(self) -> Iterator[Any]:
        batches = self.batches()
        return iter(itertools.islice(batches, self.limit) if self.limit else batches)


class SubnetEvaluator(Callback):
    """Validation accuracy of named subnets (largest and smallest) at the end of epochs.

    Results go into the epoch's ``logs`` as ``val/<name>_acc`` and into :attr:`history`.

    Args:
        subnets: ``{name: spec}``, e.g. ``{"max": ..., "min": ...}``.
        val_batches: callable returning a fresh iterable of validation ``(images, labels)``.
        epochs: total epochs (the last one is always evaluated).
        every_epochs: evaluate after every this many epochs; 0 disables evaluation.
        max_batches: validation batches per subnet; 0 = all.
        recal_batches: callable returning training batches for BN recalibration.
        recal_count: recalibration batches per subnet; 0 = none (trained statistics).
    """

    def __init__(
        self,
        subnets: dict[str, Spec],
        val_batches: Callable[[], Iterable[Any]],
        epochs: int,
        every_epochs: int = 1,
        max_batches: int = 0,
        recal_batches: Callable[[], Iterable[Any]] | None = None,
        recal_count: int = 0,
    ) -> None:
        super().__init__()
        self.subnets = subnets
        self.val_batches = val_batches
        self.epochs = epochs
        self.every_epochs = every_epochs
        self.max_batches = max_batches
        self.recal_batches = recal_batches
        self.recal_count = recal_count if recal_batches is not None else 0
        self.history: list[dict[str, float]] = []

    def _due(self, epoch: int) -> bool:
        if not self.every_epochs:
            return False
        return (epoch + 1) % self.every_epochs == 0 or epoch + 1 == self.epochs

    def evaluate(self) -> dict[str, float]:
        """Accuracy of every subnet now; the network's BN statistics are left as they were."""
        network = self.model.network
        was_training = network.training
        previous = getattr(network, "active_spec", None)
        results: dict[str, float] = {}
        mode = "reset" if self.recal_count else "none"
        images = _Images(self.recal_batches, self.recal_count) if self.recal_count else []
        scorer = SubnetScorer(network, _Batches(self.val_batches, self.max_batches), images, mode)
        try:
            for name, spec in self.subnets.items():
                results[f"val/{name}_acc"] = scorer.measure(spec).top1
        finally:
            if previous is not None:
                network.apply(previous)
            network.train() if was_training else network.eval()
        return results

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._due(epoch):
            return
        started = time.perf_counter()
        results = self.evaluate()
        self.history.append({"epoch": epoch + 1, **results})
        if logs is not None:
            logs.update(results)
        logger.info(
            "epoch %d validation: %s (%.1fs)",
            epoch + 1,
            ", ".join(f"{key} {value:.4f}" for key, value in results.items()),
            time.perf_counter() - started,
        )


def format_duration(seconds: float) -> str:
    """``3725 -> '1h02m05s'``, ``65 -> '1m05s'``, ``4.2 -> '4s'``."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _scalars(logs: dict[str, Any] | None, prefix: str) -> dict[str, float]:
    return {key: float(value) for key, value in (logs or {}).items() if key.startswith(prefix)}


class ProgressLogger(Callback):
    """One console line every ``every_steps`` steps: losses, LR, seconds per step and ETA.

    The ETA extrapolates the mean step time of this process (resumed runs start afresh) to
    the remaining steps of the run.
    """

    def __init__(self, every_steps: int, total_steps: int, steps_per_epoch: int, epochs: int) -> None:
        super().__init__()
        self.every_steps = every_steps
        self.total_steps = total_steps
        self.steps_per_epoch = steps_per_epoch
        self.epochs = epochs
        self._started = 0.0
        self._first_step = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()
        self._first_step = _progress(self.model).global_step
        logger.info(
            "training %d epochs x %d steps (%d steps in total), starting at step %d",
            self.epochs,
            self.steps_per_epoch,
            self.total_steps,
            self._first_step,
        )

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        progress = _progress(self.model)
        if progress.global_step % self.every_steps and progress.global_step != self.total_steps:
            return
        done = progress.global_step - self._first_step
        per_step = (time.perf_counter() - self._started) / max(1, done)
        remaining = max(0, self.total_steps - progress.global_step) * per_step
        terms = " ".join(f"{key[len('train/'):]}={value:.4f}" for key, value in _scalars(logs, "train/").items())
        # Called before the loop moves past a finished epoch, so step_in_epoch >= 1 here.
        logger.info(
            "epoch %d/%d step %d/%d | %s | %.2fs/step | ETA %s",
            progress.epoch + 1,
            self.epochs,
            progress.step_in_epoch,
            self.steps_per_epoch,
            terms,
            per_step,
            format_duration(remaining),
        )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        logger.info("training finished after %s", format_duration(time.perf_counter() - self._started))


class VisualDLLogger(Callback):
    """Writes ``train/*`` scalars (per-role losses, rank weight, LR) every ``every_steps``
    steps and ``val/*`` accuracies every evaluated epoch, with ``visualdl.LogWriter``.

    Read the log back with ``visualdl.LogReader(file_path=...)``; tags are e.g.
    ``train/teacher/ce``, ``train/lr``, ``train/rank/weight``, ``val/max_acc``.
    """

    def __init__(self, log_dir: str | os.PathLike[str], every_steps: int) -> None:
        super().__init__()
        self.log_dir = Path(log_dir)
        self.every_steps = every_steps
        self._writer: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        from visualdl import LogWriter  # imported here: visualdl is only needed when logging

        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = LogWriter(logdir=str(self.log_dir))

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        global_step = _progress(self.model).global_step
        if self._writer is None or global_step % self.every_steps:
            return
        for tag, value in _scalars(logs, "train/").items():
            self._writer.add_scalar(tag=tag, value=value, step=global_step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._writer is None:
            return
        for tag, value in _scalars(logs, "val/").items():
            self._writer.add_scalar(tag=tag, value=value, step=epoch + 1)
        self._writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.close()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class Checkpointer(Callback):
    """Writes ``last`` (and ``epoch_NNNN``) at epoch ends, every ``every_steps`` steps and
    when training stops early.

    Args:
        root: checkpoint folder.
        state: callable returning the :class:`TrainingState` to save (progress included).
        config_text: resolved config YAML stored with every checkpoint.
        keep_epochs: ``epoch_NNNN`` copies to keep; 0 = all, -1 = none.
        every_steps: also save ``last`` every this many global steps; 0 = off.
        extra_meta: callable returning extra ``meta.json`` entries (e.g. latest accuracies).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        state: Callable[[], TrainingState],
        config_text: str,
        keep_epochs: int = 0,
        every_steps: int = 0,
        extra_meta: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.root = Path(root)
        self.state = state
        self.config_text = config_text
        self.keep_epochs = keep_epochs
        self.every_steps = every_steps
        self.extra_meta = extra_meta
        self.saved_step: int | None = None
        self.written: list[Path] = []

    def _save(self, names: list[str]) -> None:
        state = self.state()
        meta = self.extra_meta() if self.extra_meta is not None else {}
        self.written = save_checkpoint(self.root, names, state, self.config_text, meta)
        self.saved_step = state.progress.global_step

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.saved_step = _progress(self.model).global_step

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        global_step = _progress(self.model).global_step
        if self.every_steps and global_step % self.every_steps == 0:
            self._save([LAST])

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        names = [LAST] if self.keep_epochs == -1 else [epoch_name(epoch + 1), LAST]
        self._save(names)
        if self.keep_epochs > 0:
            prune_checkpoints(self.root, "epoch", self.keep_epochs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.saved_step != _progress(self.model).global_step:
            self._save([LAST])
