"""``PROXIES``: training-free priors of a subnet, by config name.

Each entry maps ``(space, spec)`` to a float where higher means "expected to be more
accurate"; the pairwise rank loss (:mod:`hnas.losses.pairwise_rank`) orders subnet pairs by
it. Build-free entries cost microseconds; ``"zen"`` builds a small network per new arch and
caches the result (see :mod:`hnas.proxies.zen_score`).
"""

from __future__ import annotations

from typing import Any, Callable

from hnas.proxies.flops import count_flops, count_params
from hnas.registry import Registry
from hnas.search_spaces.base import SearchSpace, Spec

Prior = Callable[..., float]
"""``(space, spec, **options) -> float``."""

PROXIES: Registry[Prior] = Registry("proxy")


@PROXIES.register("flops")
def flops_prior(space: SearchSpace, spec: Spec) -> float:
    """FLOPs of the stand-alone subnet (``paddle.flops`` convention)."""
    return float(count_flops(space, spec))


@PROXIES.register("params")
def params_prior(space: SearchSpace, spec: Spec) -> float:
    """Parameter count of the stand-alone subnet."""
    return float(count_params(space, spec))


@PROXIES.register("depth")
def depth_prior(space: SearchSpace, spec: Spec) -> float:
    """Active blocks over all stages: the deeper, the higher."""
    return float(space.num_blocks(spec))


@PROXIES.register("width")
def width_prior(space: SearchSpace, spec: Spec) -> float:
    """Mean width ratio of the subnet's convs (each stage's output and every active block's first
    conv, as fractions of their full width): the wider, the higher. Independent of depth."""
    return float(space.width_ratio(spec))


@PROXIES.register("zen")
def zen_prior(space: SearchSpace, spec: Spec, **settings: Any) -> float:
    """Mean ZenScore; ``settings`` are :func:`~hnas.proxies.zen_score.zen_score` options
    (``batch_size``, ``repeats``, ``gamma``, ``seed``; default the reference 16, 32, 0.01, 0)."""
    from hnas.proxies.zen_score import zen_score  # builds Paddle networks; imported only when used

    return zen_score(space, spec, **settings).mean


@PROXIES.register("latency")
def latency_prior(space: SearchSpace, spec: Spec, table: str | None = None) -> float:
    """Minus the latency predicted by a measured table (``table``: its path; ``hnas latency build``),
    so that, like every prior here, higher means "expected to be better" (faster)."""
    from hnas.errors import HnasError

    if table is None:
        raise HnasError("the latency prior needs a table: rank_prior_args {table: FILE} (hnas latency build)")
    return -_tables(space, table).predict(spec)


def _tables(space: SearchSpace, path: str):  # noqa: ANN202 - cached LatencyTable
    from hnas.proxies.latency import LatencyTable

    key = (space, str(path))
    if key not in _LOADED:
        _LOADED[key] = LatencyTable.load(path, space)
    return _LOADED[key]


_LOADED: dict = {}
