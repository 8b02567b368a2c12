"""How a search scores its candidates: a whole generation at once.

:func:`~hnas.search.evolution.run_search` hands every generation's new candidates to one
:data:`ScoreMany` call, so a scorer that gains from seeing several subnets together can use
it: :func:`by_supernet` scores them with a :class:`~hnas.nn.scorer.SubnetScorer`, which runs
a prefix shared by several candidates once (:mod:`hnas.nn.shared_prefix`) with the same
scores as one candidate at a time; :func:`by_predictor` scores them with an accuracy predictor in
one batched call. :func:`one_at_a_time` wraps a per-candidate score (a synthetic one) unchanged.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Protocol, Sequence

logger = logging.getLogger(__name__)

#: Scores of the given candidates (specs), in their order; higher is better.
ScoreMany = Callable[[Sequence[Any]], list[float]]


class GroupingScorer(Protocol):
    """What :func:`by_supernet` needs of a scorer (:class:`~hnas.nn.scorer.SubnetScorer` has it)."""

    def groups(self, specs: Sequence[Any]) -> list[list[int]]: ...

    def score_all(self, specs: Sequence[Any]) -> list[tuple[float, float]]: ...


def one_at_a_time(score: Callable[[Any], float]) -> ScoreMany:
    """``score`` applied to each candidate in turn."""

    def score_many(specs: Sequence[Any]) -> list[float]:
        return [float(score(spec)) for spec in specs]

    return score_many


class BatchPredictor(Protocol):
    """What :func:`by_predictor` needs of a predictor (:class:`~hnas.predictor.store.Predictor` has it)."""

    def predict(self, specs: Sequence[Any]) -> Any: ...


def by_predictor(predictor: BatchPredictor) -> ScoreMany:
    """Predicted accuracies of the candidates, in one ``predictor.predict`` call: a generation of OFA's
    evolution (100 candidates) costs one batched forward of the MLP instead of 100."""

    def score_many(specs: Sequence[Any]) -> list[float]:
        return [float(value) for value in predictor.predict(list(specs))]

    return score_many


def by_supernet(scorer: GroupingScorer) -> ScoreMany:
    """Supernet top-1 of the candidates, computed together by ``scorer.score_all``; logs how many
    prefix groups they formed (as many as candidates when nothing is shared)."""

    def score_many(specs: Sequence[Any]) -> list[float]:
        started = time.monotonic()
        scores = [top1 for top1, _ in scorer.score_all(specs)]
        elapsed = time.monotonic() - started
        logger.info("scored %d candidates in %d prefix groups, %.2f s per candidate", len(specs),
                    len(scorer.groups(specs)), elapsed / max(1, len(specs)))
        return scores

    return score_many
