"""Scoring one subnet of a trained supernet in memory: activate, recalibrate BN, measure.

:class:`SubnetScorer` holds the validation batches and the recalibration images as tensors
and one copy of the supernet's trained BN statistics; :meth:`SubnetScorer.score` activates a
subnet, optionally re-estimates its BN statistics on the held images (``"reset"``), measures it
and restores the trained statistics, so every subnet is scored from the same state and a loop
over thousands of subnets (``hnas eval``, the training callbacks, search) needs no files.
Each subnet runs at its own resolution: the held images are resized to ``spec.resolution``
batch by batch (a no-op for a space with one resolution). It works with any supernet that has
``apply(spec)`` (every family's, see
:class:`~hnas.search_spaces.base.Supernet`).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import paddle
from paddle import nn

from hnas.nn import BN_RECAL_MODES
from hnas.nn.accuracy import Accuracy, Batch, measure_accuracy
from hnas.nn.bn_recal import BNStatsSnapshot, recalibrated
from hnas.nn.resize import at_resolution


class SubnetScorer:
    """Top-1 / top-5 of subnets of ``supernet`` on fixed, in-memory data.

    Args:
        supernet: a supernet with ``apply(spec)``; left in eval mode with the last scored subnet active.
        val_batches: validation ``(images, labels)`` tensors, re-iterated for every subnet
            (a sequence, or any re-iterable).
        recal_batches: training images for BN recalibration (ignored with ``recal_mode="none"``).
        recal_mode: ``"reset"``: re-estimate every BN's statistics for the subnet, then restore the
            trained ones; ``"none"``: use the trained statistics.

    Raises:
        ValueError: unknown mode, or ``"reset"`` without recalibration images.
    """

    def __init__(
        self,
        supernet: nn.Layer,
        val_batches: Sequence[Batch] | Iterable[Batch],
        recal_batches: Sequence[paddle.Tensor] = (),
        recal_mode: str = "reset",
    ) -> None:
        if recal_mode not in BN_RECAL_MODES:
            raise ValueError(f"unknown BN recalibration mode {recal_mode!r}; known: {', '.join(BN_RECAL_MODES)}")
        self.supernet = supernet
        self.val_batches = val_batches
        self.recal_batches = recal_batches
        self.recal_mode = recal_mode
        # One copy of the trained statistics, restored after each recalibrated subnet.
        self._snapshot = BNStatsSnapshot(supernet) if recal_mode != "none" else None

    def measure(self, spec: Any) -> Accuracy:
        """Top-1, top-5, mean loss and image count of ``spec``, recalibrated and measured on the
        images resized to ``spec.resolution`` (:mod:`hnas.nn.resize`)."""
        self.supernet.apply(spec)
        recal = at_resolution(self.recal_batches, spec.resolution)
        with recalibrated(self.supernet, recal, self.recal_mode, self._snapshot):
            return measure_accuracy(self.supernet, at_resolution(self.val_batches, spec.resolution))

    def score(self, spec: Any) -> tuple[float, float]:
        """``(top1, top5)`` of ``spec``, fractions in [0, 1]."""
        accuracy = self.measure(spec)
        return accuracy.top1, accuracy.top5
