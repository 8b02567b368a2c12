"""Scoring architectures with a trained supernet: activate, recalibrate BN, measure accuracy.

The loop never rebuilds a network: each arch is activated in the one loaded supernet with
``apply(spec)``, optionally gets recalibrated BN statistics (restored afterwards, see
:mod:`hnas.nn.bn_recal`), and is measured on validation batches that are already
tensors. Results are appended to a :class:`~hnas.evaluation.progress.ProgressLog` as they are
produced, so a killed run resumes where it stopped; because every arch is measured from the
same state on the same batches, a resumed run gives exactly the numbers of an uninterrupted one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import paddle
from paddle import nn

from hnas.evaluation.progress import ArchResult, ProgressLog
from hnas.evaluation.reporter import ProgressReporter
from hnas.nn.accuracy import Batch
from hnas.nn.scorer import SubnetScorer
from hnas.search_spaces.base import Spec

logger = logging.getLogger(__name__)

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
    route: Callable[[Spec], nn.Layer] | None = None,
    shared_prefix: bool = True,
) -> EvalRun:
    """Evaluate every arch of ``entries`` not yet in ``progress``.

    Args:
        supernet: a loaded supernet with ``apply(spec)`` (e.g. ``ResNetSupernet``).
        entries: ``key -> (arch code, spec)`` in output order.
        val_batches: validation batches at the data's resolution, re-iterated for every arch and resized to
            each arch's own resolution (:class:`~hnas.nn.scorer.SubnetScorer`).
        recal_batches: training images for BN recalibration (unused with mode ``"none"``).
        recal_mode: ``"none"`` or ``"reset"`` (see :func:`hnas.nn.bn_recal.recalibrate_bn`).
        progress: the (unopened) progress file of this run; results are appended as produced.
        restart: discard earlier progress instead of resuming.
        max_archs: stop after evaluating this many new archs (a budget, and the test hook that
            simulates a killed run).
        label: prefix of the progress display (e.g. the shard).
        route: the network that scores a spec (a few-shot folder's part), instead of ``supernet``.
        shared_prefix: run a prefix shared by several archs once (:mod:`hnas.nn.shared_prefix`;
            same results); ``False`` runs every arch whole.

    Archs are evaluated network by network (few-shot parts) and, within a network, grouped by
    shared prefix; results are appended as each group finishes, so a killed run loses at most
    the group in progress.
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
        for network, keys in _by_network(supernet, entries, todo, route):
            scorer = SubnetScorer(network, val_batches, recal_batches, recal_mode, shared_prefix=shared_prefix)
            for index, accuracy in scorer.measure_all([entries[key][1] for key in keys]):
                key = keys[index]
                result = ArchResult(key=key, arch=entries[key][0], top1=accuracy.top1, top5=accuracy.top5,
                                    loss=accuracy.loss)
                progress.append(result)
                finished[key] = result
                reporter.update()
        reporter.close()
    results = {key: finished[key] for key in entries if key in finished}
    return EvalRun(results=results, resumed=resumed, evaluated=len(todo), seconds=time.monotonic() - start)


def _by_network(
    supernet: nn.Layer,
    entries: Mapping[str, tuple[str, Spec]],
    keys: Sequence[str],
    route: Callable[[Spec], nn.Layer] | None,
) -> list[tuple[nn.Layer, list[str]]]:
    """``keys`` split by the network that scores them, networks in order of their first key."""
    if route is None:
        return [(supernet, list(keys))] if keys else []
    networks: dict[int, tuple[nn.Layer, list[str]]] = {}
    for key in keys:
        network = route(entries[key][1])
        networks.setdefault(id(network), (network, []))[1].append(key)
    return list(networks.values())
