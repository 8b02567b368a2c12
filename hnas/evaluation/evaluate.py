"""Scoring architectures with a trained supernet: activate, recalibrate BN, measure accuracy.

The loop never rebuilds a network: each arch is activated in the one loaded supernet with
``apply(spec)``, optionally gets recalibrated BN statistics (restored afterwards, see
:mod:`hnas.evaluation.bn_recal`), and is measured on validation batches that are already
tensors. Results are appended to a :class:`~hnas.evaluation.progress.ProgressLog` as they are
produced, so a killed run resumes where it stopped; because every arch is measured from the
same state on the same batches, a resumed run gives exactly the numbers of an uninterrupted one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import paddle
import paddle.nn.functional as F
from paddle import nn

from hnas.evaluation.bn_recal import BNStatsSnapshot, recalibrated
from hnas.evaluation.progress import ArchResult, ProgressLog
from hnas.evaluation.reporter import ProgressReporter
from hnas.search_spaces.base import Spec

logger = logging.getLogger(__name__)

#: A validation batch: images ``float32 [N, C, H, W]`` and labels ``int64 [N]``.
Batch = tuple[paddle.Tensor, paddle.Tensor]


@dataclass(frozen=True)
class Accuracy:
    """Accuracy of one subnet over a set of images.

    Attributes:
        top1: fraction of images whose highest logit is the label, in [0, 1].
        top5: fraction whose label is among the 5 highest logits (all logits if fewer classes).
        loss: mean cross-entropy per image, in nats.
        images: number of images measured.
    """

    top1: float
    top5: float
    loss: float
    images: int


def measure_accuracy(model: nn.Layer, batches: Iterable[Batch]) -> Accuracy:
    """Top-1, top-5 and mean loss of ``model`` (eval mode, no grad) over ``batches``.

    Counts are accumulated as tensors and read once at the end, so there is one host sync
    per call, not one per batch.

    Raises:
        ValueError: if ``batches`` is empty.
    """
    was_training = model.training
    model.eval()
    sums: list[paddle.Tensor] = []
    images = 0
    try:
        with paddle.no_grad():
            for inputs, labels in batches:
                logits = model(inputs)
                k = min(5, logits.shape[-1])
                top = paddle.topk(logits, k=k, axis=-1)[1]
                hits = (top == labels.reshape([-1, 1]).astype(top.dtype)).astype("float32")
                loss = F.cross_entropy(logits, labels.reshape([-1, 1]), reduction="sum")
                sums.append(paddle.stack([hits[:, 0].sum(), hits.sum(), loss.reshape([])]))
                images += int(inputs.shape[0])
    finally:
        model.train() if was_training else model.eval()
    if not sums:
        raise ValueError("no validation batches to measure")
    top1, top5, loss = (float(value) for value in paddle.stack(sums).sum(axis=0).numpy().astype("float64"))
    # Counts are exact integers in float32 up to 2**24 images per call; round to undo any drift.
    return Accuracy(top1=round(top1) / images, top5=round(top5) / images, loss=loss / images, images=images)


@dataclass(frozen=True)
class EvalRun:
    """Outcome of :func:`evaluate_archs`.

    Attributes:
        results: results by key in input order: every arch when the run completed, fewer
            when ``max_archs`` stopped it.
        resumed: archs found finished in the progress file.
        evaluated: archs evaluated by this call.
        seconds: wall time of the evaluation loop.
    """

    results: dict[str, ArchResult]
    resumed: int
    evaluated: int
    seconds: float

    @property
    def rate(self) -> float:
        """Archs per second evaluated by this call."""
        return self.evaluated / self.seconds if self.seconds > 0 else 0.0


def evaluate_archs(
    supernet: nn.Layer,
    entries: Mapping[str, tuple[str, Spec]],
    val_batches: Sequence[Batch] | Iterable[Batch],
    recal_batches: Sequence[paddle.Tensor],
    recal_mode: str,
    progress: ProgressLog,
    restart: bool = False,
    max_archs: int | None = None,
    label: str = "",
) -> EvalRun:
    """Evaluate every arch of ``entries`` not yet in ``progress``.

    Args:
        supernet: a loaded supernet with ``apply(spec)`` (e.g. ``ResNetSupernet``).
        entries: ``key -> (arch code, spec)`` in output order.
        val_batches: validation batches at the specs' resolution; re-iterated for every arch.
        recal_batches: training images for BN recalibration (unused with mode ``"none"``).
        recal_mode: ``"none"`` or ``"reset"`` (see :func:`hnas.evaluation.bn_recal.recalibrate_bn`).
        progress: the (unopened) progress file of this run; results are appended as produced.
        restart: discard earlier progress instead of resuming.
        max_archs: stop after evaluating this many new archs (a budget, and the test hook that
            simulates a killed run).
        label: prefix of the progress display (e.g. the shard).
    """
    start = time.monotonic()
    with progress:
        finished = progress.open({key: code for key, (code, _) in entries.items()}, restart=restart)
        resumed = len(finished)
        todo = [key for key in entries if key not in finished]
        if max_archs is not None:
            todo = todo[:max_archs]
        if resumed:
            logger.info("resuming: %d of %d archs already in %s", resumed, len(entries), progress.path)
        reporter = ProgressReporter(len(todo), label=label)
        # One copy of the trained statistics, restored after each recalibrated arch.
        snapshot = BNStatsSnapshot(supernet) if recal_mode != "none" else None
        for key in todo:
            code, spec = entries[key]
            supernet.apply(spec)
            with recalibrated(supernet, recal_batches, recal_mode, snapshot):
                accuracy = measure_accuracy(supernet, val_batches)
            result = ArchResult(key=key, arch=code, top1=accuracy.top1, top5=accuracy.top5, loss=accuracy.loss)
            progress.append(result)
            finished[key] = result
            reporter.update()
        reporter.close()
    results = {key: finished[key] for key in entries if key in finished}
    return EvalRun(results=results, resumed=resumed, evaluated=len(todo), seconds=time.monotonic() - start)
