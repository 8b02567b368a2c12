"""PSS-Net prioritized subnet sampling (Bong et al., arXiv 2109.05432; chenbong/PSS-Net).

For every cost metric (``flops``, ``params``; a plugged-in latency, see
:mod:`hnas.samplers.costs`) and every **bucket** of it, a pool keeps at most ``pool_size``
(50) subnets with a score. Bucket of a cost ``c`` on a range ``[start, stop]`` of step ``s``
(PSS-Net ``round_metric``): ``round((c - off) / s) * s + off`` with ``off = start % s``; the
targets are the grid points ``start, start + s, ... <= stop`` (``range_ends: exclude``: without the
two ends, ``start + s ... stop - s``, as PSS-Net's training scripts turn their ranges into targets,
e.g. 110-570 M step 10 into the 45 targets 120 ... 560 M).

**Bucket-conditional sampler.** At construction a *map* of ``map_size`` subnets is drawn from
the base distribution (seeded by ``seed``) and grouped by bucket; per bucket, each decision unit
gets the conditional marginal of its values among the bucket's members (PSS-Net's
``ArchSampler``: P(choice | bucket), independent per unit). A draw for target ``b`` samples
every unit from its marginal (uniform where the bucket's members never use the unit) and
rejects until the subnet rounds to ``b``, at most ``max_draws`` times; after that it takes a
random map member of ``b`` (which rounds to ``b`` by construction), so a draw never fails.
A target with no map member is unreachable and refused before training, naming the option.

**Per step** (PSS-Net ``train``), with ``e`` the epoch and ``E`` the run's epochs:

1. the largest subnet on the labels (role ``teacher``);
2. a metric drawn with probability proportional to its number of buckets and a target bucket
   uniformly (so every (metric, bucket) pair is equally likely); with probability
   ``p_sup = p0 * (p1 / p0) ** (e / E)`` (1.0 -> 0.01), or while the pool is not full, a fresh
   subnet from the conditional sampler, otherwise a pool member drawn by ``softmax(score / t)``
   with ``t`` on the same decay (1.0 -> 0.01); it is a ``student``;
3. the smallest subnet (of the distribution), a ``student``.

**Scores.** After the step, :meth:`observe` sets the chosen subnet's score ``s = -loss`` (a new
member) or ``0.9 * old + 0.1 * s`` (EMA, ``ema``), then evicts the lowest score if the pool
holds more than ``pool_size``. The loss is the one the step computed for the chosen subnet on
this batch *before* the update (the optimizer steps after all forward passes), so it equals a
no-grad evaluation on the same batch and weights; it is the net's training loss, i.e. the
distillation loss to the largest subnet plus ``loss.student_label_weight`` times the label
cross-entropy, where PSS-Net scores with the label cross-entropy alone. With the engine's
rank-consistent losses the pools are identical on every rank. Pools (insertion order
included) are in :meth:`state_dict`, so a resumed run continues exactly; :func:`top_subnets`
lists the best of each pool after training (``hnas pools CKPT``), like PSS-Net's evaluation of
the top-5 of each bucket.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping, Sequence

from hnas.errors import HnasError
from hnas.samplers.base import SAMPLERS, SampledNet, Sampler
from hnas.samplers.costs import metric_cost
from hnas.samplers.spos import quantile
from hnas.search_spaces.base import CostFn, SearchSpace, Spec


def round_metric(value: float, start: float, step: float) -> float:
    """PSS-Net's bucket of ``value``: the nearest grid point ``start + k * step`` (Python ``round``)."""
    offset = math.fmod(start, step)
    return round((value - offset) / step) * step + offset


def decayed(first: float, last: float, fraction: float) -> float:
    """Geometric decay from ``first`` (fraction 0) to ``last`` (fraction 1), PSS-Net's schedule."""
    return first * (last / first) ** fraction


def softmax_choice(scores: Sequence[float], temperature: float, rng: random.Random) -> int:
    """Index drawn with probability ``softmax(scores / temperature)`` (one ``rng.random()``)."""
    top = max(scores)
    weights = [math.exp((score - top) / temperature) for score in scores]
    threshold = rng.random() * sum(weights)
    total = 0.0
    for index, weight in enumerate(weights):
        total += weight
        if threshold < total:
            return index
    return len(weights) - 1


@dataclass
class Pool:
    """At most ``size`` subnets (arch codes) of one (metric, bucket) with EMA scores, in insertion order."""

    size: int
    ema: float
    scores: dict[str, float]

    def update(self, code: str, score: float) -> None:
        """Insert with ``score`` or EMA-update; then evict the lowest score (first such) if over size."""
        if code in self.scores:
            self.scores[code] = self.ema * self.scores[code] + (1.0 - self.ema) * score
        else:
            self.scores[code] = score
        if len(self.scores) > self.size:
            worst = min(self.scores, key=self.scores.__getitem__)
            del self.scores[worst]

    @property
    def full(self) -> bool:
        return len(self.scores) >= self.size

    def top(self, k: int) -> list[tuple[str, float]]:
        """The ``k`` best ``(code, score)``, best first (ties in insertion order)."""
        return sorted(self.scores.items(), key=lambda item: -item[1])[:k]


@lru_cache(maxsize=8)
def _map(space: SearchSpace, distribution: str, seed: int, size: int) -> tuple[Spec, ...]:
    """``size`` subnets of the distribution (its setting as JSON, hashable) from a seeded RNG
    (cached: tests build many samplers)."""
    rng = random.Random(f"hnas-pss-map/{seed}")
    dist = space.distribution(json.loads(distribution))
    return tuple(dist.sample(rng) for _ in range(size))


class BucketSampler:
    """Draws subnets of one metric that round to a target bucket (see the module docstring)."""

    def __init__(self, space: SearchSpace, metric: str, cost: CostFn, grid: tuple[float, float, float],
                 members: Sequence[Spec], max_draws: int, member_costs: Sequence[float] | None = None,
                 inner: bool = False) -> None:
        self.space = space
        self.metric = metric
        self.cost = cost
        self.start, self.stop, self.step = grid
        self.max_draws = max_draws
        self.targets = [self.start + k * self.step for k in range(int((self.stop - self.start) / self.step + 1e-9) + 1)]
        if inner:
            self.targets = self.targets[1:-1]
        if not self.targets:
            raise HnasError(f"sampler.args.ranges.{metric}: [{self.start:g}, {self.stop:g}, {self.step:g}] leaves no "
                            "bucket between its ends (range_ends: exclude)")
        self.members: dict[float, list[Spec]] = {target: [] for target in self.targets}
        costs = member_costs if member_costs is not None else [cost(spec) for spec in members]
        for spec, value in zip(members, costs):
            bucket = self.bucket_of(value)
            if bucket in self.members:
                self.members[bucket].append(spec)
        self.marginals = {target: self._marginals(specs) for target, specs in self.members.items()}

    def bucket(self, spec: Spec) -> float:
        """The grid point ``spec``'s cost rounds to (matched to a target up to float error)."""
        return self.bucket_of(self.cost(spec))

    def bucket_of(self, cost: float) -> float:
        """The grid point a cost rounds to (a target's exact value when within float error of it)."""
        value = round_metric(cost, self.start, self.step)
        for target in self.targets:
            if abs(value - target) <= 1e-6 * self.step:
                return target
        return value

    def _marginals(self, specs: Sequence[Spec]) -> dict[tuple[str, ...], list[tuple[int, int]]]:
        counts: dict[tuple[str, ...], Counter] = {unit: Counter() for unit in self.space.units()}
        for spec in specs:
            choices = self.space.choices(spec)
            for unit in counts:
                value = choices[unit[0]]
                if value is not None:
                    counts[unit][value] += 1
        return {unit: sorted(counter.items()) for unit, counter in counts.items()}

    def sample(self, target: float, rng: random.Random) -> Spec:
        """A subnet rounding to ``target``: conditional marginals + rejection, else a map member."""
        slots = self.space.slot_map()
        marginals = self.marginals[target]
        for _ in range(self.max_draws):
            values: dict[str, int | None] = {}
            for unit, weights in marginals.items():
                if not any(self.space.is_active(member, values) for member in unit):
                    value = None
                elif weights:
                    value = rng.choices([v for v, _ in weights], [w for _, w in weights])[0]
                else:
                    value = rng.choice(slots[unit[0]].domain)
                for member in unit:
                    values[member] = value
            spec = self.space.from_choices(values)
            if self.bucket(spec) == target:
                return spec
        return rng.choice(self.members[target])


def bucket_grid(metric: str, grid: Sequence[float] | None, costs: Sequence[float], buckets: int
                ) -> tuple[float, float, float]:
    """``(start, stop, step)`` from ``sampler.args.ranges.<metric>``, or ``buckets`` steps over the
    2 %-98 % quantiles of the map's costs.

    Raises:
        HnasError: not three numbers, or an empty range (``step <= 0`` or ``stop < start``).
    """
    option = f"sampler.args.ranges.{metric}"
    if grid is None:
        low, high = quantile(costs, 0.02), quantile(costs, 0.98)
        return low, high, (high - low) / buckets
    if len(grid) != 3:
        raise HnasError(f"{option}: need [start, stop, step], got {list(grid)}")
    start, stop, step = (float(value) for value in grid)
    if not step > 0 or stop < start:
        raise HnasError(f"{option}: [start {start:g}, stop {stop:g}, step {step:g}] is an empty bucket range "
                        "(need step > 0 and stop >= start)")
    return start, stop, step


@lru_cache(maxsize=16)
def _bucket_sampler(space: SearchSpace, distribution: str, seed: int, map_size: int, metric: str,
                    grid: tuple[float, ...] | None, buckets: int, max_draws: int, inner: bool = False
                    ) -> BucketSampler:
    """The (stateless, hence cached) bucket sampler of one metric; refuses unreachable buckets."""
    members = _map(space, distribution, seed, map_size)
    cost = metric_cost(space, metric, "sampler.args.metrics")
    costs = [cost(spec) for spec in members]
    sampler = BucketSampler(space, metric, cost, bucket_grid(metric, grid, costs, buckets), members, max_draws, costs,
                            inner)
    empty = [target for target, specs in sampler.members.items() if not specs]
    if empty:
        raise HnasError(
            f"sampler.args.ranges.{metric}: bucket(s) {', '.join(f'{t:g}' for t in empty)} hold none of the "
            f"{map_size} map subnets (no subnet rounds to them); narrow the range or coarsen the step"
        )
    return sampler


@SAMPLERS.register("pss")
class PssSampler(Sampler):
    """Largest + a pool or fresh subnet of a random bucket + smallest, with pools of scored subnets.

    Args:
        space: the search space.
        seed: base seed of the per-step RNG and of the map.
        distribution: base distribution of the map (and of the smallest subnet).
        metrics: pooled cost metrics (``flops``, ``params``, plugged-in ones).
        ranges: per metric ``[start, stop, step]`` of the buckets; a metric left out gets
            ``buckets`` steps between the 2 % and 98 % quantiles of its cost over the map.
        buckets: steps of a default range.
        pool_size: subnets kept per pool (PSS-Net: 50).
        ema: weight of the old score in the EMA update (PSS-Net ``metric_lambda`` 0.9).
        p_sup: ``[first, last]`` probability of a fresh subnet, decayed geometrically over the epochs.
        temperature: ``[first, last]`` softmax temperature of the pool draw, same decay.
        map_size: subnets of the map the conditional marginals come from (PSS-Net: 100k on ImageNet).
        max_draws: rejection tries per draw before falling back to a map member.
        range_ends: ``include`` the ends of each ``[start, stop, step]`` as targets, or ``exclude``
            them (PSS-Net's scripts: ``110 570 10`` gives the targets 120 ... 560).
    """

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        distribution: str = "uniform",
        metrics: Sequence[str] = ("flops", "params"),
        ranges: Mapping[str, Sequence[float]] | None = None,
        buckets: int = 8,
        pool_size: int = 50,
        ema: float = 0.9,
        p_sup: Sequence[float] = (1.0, 0.01),
        temperature: Sequence[float] = (1.0, 0.01),
        map_size: int = 2000,
        max_draws: int = 200,
        range_ends: str = "include",
    ) -> None:
        super().__init__(space, seed, distribution)
        if range_ends not in ("include", "exclude"):
            raise HnasError(f"sampler.args.range_ends: 'include' or 'exclude', got {range_ends!r}")
        self.inner_targets = range_ends == "exclude"
        if pool_size < 1:
            raise HnasError(f"sampler.args.pool_size: must be >= 1, got {pool_size} (sampler 'pss')")
        if not 0 <= ema < 1:
            raise HnasError(f"sampler.args.ema: must be in [0, 1), got {ema}")
        if buckets < 1 or map_size < 1 or max_draws < 1:
            raise HnasError(f"sampler.args.buckets / map_size / max_draws: must be >= 1, got "
                            f"{buckets} / {map_size} / {max_draws}")
        for name, pair in (("p_sup", p_sup), ("temperature", temperature)):
            if len(pair) != 2 or not all(0 < float(value) for value in pair) or (
                    name == "p_sup" and any(float(value) > 1 for value in pair)):
                raise HnasError(f"sampler.args.{name}: need [first, last] > 0 (probabilities <= 1), got {list(pair)}")
        if not metrics:
            raise HnasError("sampler.args.metrics: name at least one cost metric")
        unknown = sorted(set(ranges or {}) - set(metrics))
        if unknown:
            raise HnasError(f"sampler.args.ranges: {unknown} not among sampler.args.metrics {list(metrics)}")
        self.pool_size = int(pool_size)
        self.ema = float(ema)
        self.p_sup = (float(p_sup[0]), float(p_sup[1]))
        self.temperature = (float(temperature[0]), float(temperature[1]))
        self.map_size = int(map_size)
        self.max_draws = int(max_draws)
        self.ranges_arg = {key: list(value) for key, value in (ranges or {}).items()}
        self.metrics = tuple(metrics)
        self.buckets_arg = int(buckets)
        self._build()
        self._pending: tuple[str, float, str] | None = None

    def _build(self) -> None:
        """Bucket samplers (from the seed's map; rebuilt if a checkpoint changes the seed) and empty pools."""
        self.samplers: dict[str, BucketSampler] = {}
        setting = json.dumps(self.distribution, sort_keys=True)
        for metric in self.metrics:
            grid = self.ranges_arg.get(metric)
            self.samplers[metric] = _bucket_sampler(self.space, setting, self.seed, self.map_size, metric,
                                                    None if grid is None else tuple(grid), self.buckets_arg,
                                                    self.max_draws, self.inner_targets)
        self.pools: dict[str, dict[float, Pool]] = {
            metric: {target: Pool(self.pool_size, self.ema, {}) for target in sampler.targets}
            for metric, sampler in self.samplers.items()
        }

    # --- the schedule -----------------------------------------------------------------------

    def fraction(self, epoch: int) -> float:
        """``e / E`` of the decays (0 until :meth:`set_schedule` tells the run's epochs)."""
        return min(1.0, epoch / self.epochs) if self.epochs else 0.0

    def p_sup_at(self, epoch: int) -> float:
        return decayed(*self.p_sup, self.fraction(epoch))

    def temperature_at(self, epoch: int) -> float:
        return decayed(*self.temperature, self.fraction(epoch))

    # --- sampling ---------------------------------------------------------------------------

    def choose(self, step: int, epoch: int) -> tuple[str, float, Spec, str]:
        """``(metric, target, spec, branch)`` of the step's middle subnet; branch ``random`` or ``pool``."""
        rng = self.step_rng(step, epoch)
        weights = [len(self.samplers[metric].targets) for metric in self.metrics]
        metric = rng.choices(self.metrics, weights)[0]
        target = rng.choice(self.samplers[metric].targets)
        pool = self.pools[metric][target]
        if rng.random() < self.p_sup_at(epoch) or not pool.full:
            return metric, target, self.samplers[metric].sample(target, rng), "random"
        codes = list(pool.scores)
        index = softmax_choice([pool.scores[code] for code in codes], self.temperature_at(epoch), rng)
        return metric, target, self.space.decode(codes[index]), "pool"

    def sample(self, step: int, epoch: int) -> list[SampledNet]:
        metric, target, spec, _ = self.choose(step, epoch)
        self._pending = (metric, target, self.space.encode(spec))
        return [SampledNet(self.teacher, "teacher"), SampledNet(spec, "student"),
                SampledNet(self.dist.smallest(), "student")]

    def observe(self, nets: Sequence[SampledNet], losses: Sequence[float]) -> None:
        """Score the step's middle subnet with ``-loss`` (see the module docstring)."""
        super().observe(nets, losses)
        if self._pending is None or len(nets) < 2 or self.space.encode(nets[1].spec) != self._pending[2]:
            return
        metric, target, code = self._pending
        self._pending = None
        if math.isfinite(losses[1]):
            self.pools[metric][target].update(code, -float(losses[1]))

    # --- state ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Base state plus every pool as ``[[metric, target, [[code, score], ...]], ...]`` (order kept)."""
        state = super().state_dict()
        state["pools"] = [
            [metric, target, [[code, score] for code, score in pool.scores.items()]]
            for metric, pools in self.pools.items()
            for target, pool in pools.items()
        ]
        state["grids"] = {metric: [s.start, s.stop, s.step] for metric, s in self.samplers.items()}
        return state

    def set_state_dict(self, state: dict[str, Any]) -> None:
        seed = self.seed
        super().set_state_dict(state)
        if self.seed != seed or state["distribution"] != self.distribution:
            self._build()
        if "pools" not in state:
            raise HnasError("sampler state lacks 'pools'")
        for metric, target, members in state["pools"]:
            pools = self.pools.get(metric, {})
            match = [key for key in pools if abs(key - float(target)) <= 1e-6 * self.samplers[metric].step]
            if not match:
                raise HnasError(f"checkpoint pool {metric} bucket {target:g} is not a bucket of this sampler's "
                                "configuration; resume with the checkpoint's sampler.args")
            pools[match[0]].scores = {str(code): float(score) for code, score in members}
        self._pending = None


def top_subnets(state: Mapping[str, Any], k: int = 5) -> list[tuple[str, float, list[tuple[str, float]]]]:
    """From a :class:`PssSampler` state dict: ``(metric, bucket, [(code, score), ... best k])`` per pool."""
    if state.get("sampler") != PssSampler.__name__ or "pools" not in state:
        raise HnasError(f"the checkpoint's sampler is {state.get('sampler')!r}, not 'pss': it has no pools")
    rows = []
    for metric, target, members in state["pools"]:
        ordered = sorted(((str(code), float(score)) for code, score in members), key=lambda item: -item[1])
        rows.append((str(metric), float(target), ordered[:k]))
    return rows
