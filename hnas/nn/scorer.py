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

:meth:`SubnetScorer.measure_all` scores many subnets; where the space names prefixes
(:meth:`~hnas.search_spaces.base.SearchSpace.prefix_key`) it groups them and runs each shared
prefix once (:mod:`hnas.nn.shared_prefix`), with the same results as :meth:`~SubnetScorer.measure`;
:meth:`SubnetScorer.score_all` is its ``(top1, top5)`` in input order (``hnas search`` scores a
generation's candidates with it).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

import paddle
from paddle import nn

from hnas.nn import BN_RECAL_MODES
from hnas.nn.accuracy import Accuracy, Batch, measure_accuracy
from hnas.nn.bn_recal import BNStatsSnapshot, recalibrated
from hnas.nn.resize import at_resolution
from hnas.nn.shared_prefix import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_MAX_GROUP,
    measure_group,
    prefix_groups,
    supports_shared_prefix,
)


class SubnetScorer:
    """Top-1 / top-5 of subnets of ``supernet`` on fixed, in-memory data.

    Args:
        supernet: a supernet with ``apply(spec)``; left in eval mode with the last scored subnet active.
        val_batches: validation ``(images, labels)`` tensors, re-iterated for every subnet
            (a sequence, or any re-iterable).
        recal_batches: training images for BN recalibration (ignored with ``recal_mode="none"``).
        recal_mode: ``"reset"``: re-estimate every BN's statistics for the subnet, then restore the
            trained ones; ``"none"``: use the trained statistics.
        shared_prefix: let :meth:`measure_all` run each prefix shared by several subnets once
            (no effect for a space without prefixes); ``False`` runs every subnet whole.
        cache_bytes: prefix outputs held at once per group (see :mod:`hnas.nn.shared_prefix`).
        max_group: subnets measured together on one prefix computation.

    Raises:
        ValueError: unknown mode, or ``"reset"`` without recalibration images.
    """

    def __init__(
        self,
        supernet: nn.Layer,
        val_batches: Sequence[Batch] | Iterable[Batch],
        recal_batches: Sequence[paddle.Tensor] = (),
        recal_mode: str = "reset",
        shared_prefix: bool = True,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        max_group: int = DEFAULT_MAX_GROUP,
    ) -> None:
        if recal_mode not in BN_RECAL_MODES:
            raise ValueError(f"unknown BN recalibration mode {recal_mode!r}; known: {', '.join(BN_RECAL_MODES)}")
        self.supernet = supernet
        self.val_batches = val_batches
        self.recal_batches = recal_batches
        self.recal_mode = recal_mode
        self.shared_prefix = shared_prefix and supports_shared_prefix(supernet)
        self.cache_bytes = cache_bytes
        self.max_group = max_group
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

    def groups(self, specs: Sequence[Any]) -> list[list[int]]:
        """Indices of ``specs`` in the groups :meth:`measure_all` measures together (each group in
        input order, groups in order of their first spec); one spec per group without shared prefixes."""
        key_of = self.supernet.space.prefix_key if self.shared_prefix else (lambda spec: None)
        return prefix_groups(specs, key_of, self.max_group)

    def measure_all(self, specs: Sequence[Any]) -> Iterator[tuple[int, Accuracy]]:
        """``(index, accuracy)`` of every spec, group by group (:meth:`groups`); equal to
        :meth:`measure` of each spec."""
        for group in self.groups(specs):
            if len(group) == 1:
                yield group[0], self.measure(specs[group[0]])
                continue
            resolution = specs[group[0]].resolution  # part of every prefix key
            try:
                accuracies = measure_group(self.supernet, [specs[index] for index in group],
                                           at_resolution(self.val_batches, resolution),
                                           at_resolution(self.recal_batches, resolution), self.recal_mode,
                                           self.cache_bytes)
            finally:
                if self._snapshot is not None:
                    self._snapshot.restore()
            yield from zip(group, accuracies)

    def score_all(self, specs: Sequence[Any]) -> list[tuple[float, float]]:
        """``(top1, top5)`` of every spec, in input order: :meth:`score` of each, computed by
        :meth:`measure_all` (shared prefixes run once)."""
        scores: list[tuple[float, float]] = [(0.0, 0.0)] * len(specs)
        for index, accuracy in self.measure_all(specs):
            scores[index] = (accuracy.top1, accuracy.top5)
        return scores
