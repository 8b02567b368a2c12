"""Cost metrics samplers condition on (FLOPs bins, PSS-Net buckets): ``flops``, ``params``, plugged-in ones.

``flops``, ``flops_macs``, ``flops_pss`` (PSS-Net's FLOPs convention, the unit of its bucket
ranges) and ``params`` are analytic (:func:`hnas.search_spaces.distributions.cost_function`).
A measured metric such as latency needs a table, so it is plugged in with :func:`register_cost`
(``register_cost("latency", lambda space: table.cost)``); samplers then accept its name in
their ``metric`` / ``metrics`` options.
"""

from __future__ import annotations

from typing import Callable

from hnas.errors import HnasError
from hnas.search_spaces.base import CostFn, SearchSpace
from hnas.search_spaces.distributions import ANALYTIC_METRICS, cost_function

#: Plugged-in metrics: name -> ``space -> cost function``.
_PLUGGED: dict[str, Callable[[SearchSpace], CostFn]] = {}


def register_cost(name: str, build: Callable[[SearchSpace], CostFn]) -> None:
    """Make metric ``name`` available to the samplers; ``build(space)`` returns ``spec -> float``."""
    _PLUGGED[name] = build


def cost_names() -> tuple[str, ...]:
    """Every metric a sampler accepts."""
    return (*ANALYTIC_METRICS, *sorted(_PLUGGED))


def metric_cost(space: SearchSpace, metric: str, option: str) -> CostFn:
    """The cost function of ``metric`` on ``space``.

    Raises:
        HnasError: an unknown metric, naming ``option`` (e.g. ``sampler.args.metric``).
    """
    if metric in ANALYTIC_METRICS:
        return cost_function(space, metric)
    if metric in _PLUGGED:
        return _PLUGGED[metric](space)
    raise HnasError(f"{option}: unknown cost metric {metric!r}; known: {', '.join(cost_names())}")
