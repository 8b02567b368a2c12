"""Distributions over the subnets of a space: what samplers, ``sample-archs`` and search draw from.

* :class:`ChoiceDistribution`: every decision unit (a tie group or a single slot, see
  :meth:`~hnas.search_spaces.base.SearchSpace.units`) uniform over a per-slot domain. With the
  slots' full domains it is the space's ``"uniform"`` distribution; a family may name
  narrower ones (resnet: ``"competition"``, the per-stage width limits of the CVPR 2022
  Track 1 test file). :meth:`ChoiceDistribution.restrict` narrows whole dimensions, e.g. the
  phases of progressive shrinking (``restrict(depth=(4,), kernel=(7, 5))``).
* :class:`ConstrainedDistribution`: a base distribution conditioned on cost ranges (FLOPs,
  params, latency, any :data:`~hnas.search_spaces.base.CostFn`) by bounded rejection.

Draw order: units in slot order; a unit whose slots are all unused given the values drawn so
far (blocks beyond a depth) is skipped and consumes no randomness; a **pinned** unit takes
the first value of its domain without consuming randomness. ``rng.choice`` over a domain
``(1, ..., k)`` consumes exactly what ``rng.randint(1, k)`` does, so a family's slot order
fixes its random sequence for a seed.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from hnas.errors import HnasError
from hnas.search_spaces.counting import FLOPS_CONVENTIONS
from hnas.search_spaces.slots import DIMENSIONS, CostFn

if TYPE_CHECKING:  # a space calls into this module (SearchSpace.distribution), never the reverse at run time
    from hnas.search_spaces.base import SearchSpace


class Distribution(ABC):
    """Subnets of ``space`` with a way to draw one, and the extremes of the support."""

    def __init__(self, space: SearchSpace, name: str) -> None:
        self.space = space
        self.name = name

    @abstractmethod
    def sample(self, rng: random.Random) -> Any:
        """One subnet spec drawn with ``rng``."""

    @abstractmethod
    def largest(self) -> Any:
        """The largest subnet of the support."""

    @abstractmethod
    def smallest(self) -> Any:
        """The smallest subnet of the support."""

    @abstractmethod
    def contains(self, spec: Any) -> bool:
        """Whether ``spec`` lies in the support."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.space.name!r}, {self.name!r})"


class ChoiceDistribution(Distribution):
    """Each decision unit uniform over its domain.

    Args:
        space: the space.
        name: how logs and checkpoints call it.
        domains: per-slot domain overrides (subsets of the slot's domain, in any order; the
            order is the draw order of ``rng.choice``); slots not given keep their full domain.
            Tied slots must get the same domain.
        pinned: slots that take their domain's first value without a draw.
    """

    def __init__(
        self,
        space: SearchSpace,
        name: str = "uniform",
        domains: Mapping[str, Sequence[int]] | None = None,
        pinned: Sequence[str] = (),
    ) -> None:
        super().__init__(space, name)
        slots = space.slot_map()
        unknown = sorted(set(domains or {}) - set(slots)) + sorted(set(pinned) - set(slots))
        if unknown:
            raise HnasError(f"distribution {name!r}: unknown slot(s) {unknown} of space {space.name!r}")
        self.domains: dict[str, tuple[int, ...]] = {}
        for slot in slots.values():
            domain = tuple((domains or {}).get(slot.name, slot.domain))
            outside = [value for value in domain if value not in slot.domain]
            if not domain or outside:
                raise HnasError(
                    f"distribution {name!r}: slot {slot.name} of space {space.name!r} takes {list(slot.domain)}, "
                    f"got {list(domain)}"
                )
            self.domains[slot.name] = domain
        for unit in space.units():
            if len({self.domains[member] for member in unit}) > 1:
                raise HnasError(f"distribution {name!r}: tied slots {list(unit)} need one domain")
        self.pinned = frozenset(pinned)

    def _assign(self, pick: Callable[[tuple[str, ...], tuple[int, ...]], int]) -> Any:
        values: dict[str, int | None] = {}
        for unit in self.space.units():
            if not any(self.space.is_active(member, values) for member in unit):
                for member in unit:
                    values[member] = None
                continue
            value = pick(unit, self.domains[unit[0]])
            for member in unit:
                values[member] = value
        return self.space.from_choices(values)

    def sample(self, rng: random.Random) -> Any:
        def draw(unit: tuple[str, ...], domain: tuple[int, ...]) -> int:
            return domain[0] if unit[0] in self.pinned else rng.choice(domain)

        return self._assign(draw)

    def largest(self) -> Any:
        slots = self.space.slot_map()
        return self._assign(lambda unit, domain: slots[unit[0]].largest(domain))

    def smallest(self) -> Any:
        slots = self.space.slot_map()
        return self._assign(lambda unit, domain: slots[unit[0]].smallest(domain))

    def contains(self, spec: Any) -> bool:
        choices = self.space.choices(spec)
        return all(value is None or value in self.domains[name] for name, value in choices.items())

    def restrict(self, name: str | None = None, **dimensions: Sequence[int]) -> ChoiceDistribution:
        """A narrower distribution: every slot of each given dimension limited to those values.

        Raises:
            HnasError: an unknown dimension, or a slot left with no value.
        """
        unknown = sorted(set(dimensions) - set(DIMENSIONS))
        if unknown:
            raise HnasError(f"unknown dimension(s) {unknown}; known: {', '.join(DIMENSIONS)}")
        domains = dict(self.domains)
        for slot in self.space.slots():
            if slot.dimension in dimensions:
                allowed = set(dimensions[slot.dimension])
                domain = tuple(value for value in domains[slot.name] if value in allowed)
                if not domain:
                    raise HnasError(
                        f"{slot.dimension} values {sorted(allowed)} leave slot {slot.name} of space "
                        f"{self.space.name!r} no choice (it takes {list(domains[slot.name])})"
                    )
                domains[slot.name] = domain
        label = name or self.name + "[" + ",".join(f"{key}={list(value)}" for key, value in dimensions.items()) + "]"
        return ChoiceDistribution(self.space, label, domains, tuple(self.pinned))

    def within(self, slots: Mapping[str, Sequence[int]], name: str | None = None) -> ChoiceDistribution:
        """A narrower distribution: each named slot (with the slots tied to it) limited to those values.

        What a few-shot sub-supernet trains on (``{"depth3": [4]}``: every subnet has 4 blocks
        in stage 3). Values keep the order of the current domain.

        Raises:
            HnasError: an unknown slot, a value outside the slot's current domain, or no value.
        """
        known = self.space.slot_map()
        unknown = sorted(set(slots) - set(known))
        if unknown:
            raise HnasError(f"unknown slot(s) {unknown} of space {self.space.name!r}; e.g. "
                            f"{', '.join(list(known)[:4])}")
        unit_of = {member: unit for unit in self.space.units() for member in unit}
        domains = dict(self.domains)
        for slot, values in slots.items():
            values = [values] if isinstance(values, int) else list(values)
            outside = [value for value in values if value not in domains[slot]]
            if not values or outside:
                raise HnasError(f"slot {slot} of space {self.space.name!r} takes {list(domains[slot])} here, got "
                                f"{values}")
            for member in unit_of[slot]:
                domains[member] = tuple(value for value in domains[member] if value in values)
        label = name or self.name + "{" + ",".join(f"{slot}={list(values)}" for slot, values in slots.items()) + "}"
        return ChoiceDistribution(self.space, label, domains, tuple(self.pinned))


@dataclass(frozen=True)
class Constraint:
    """``low <= cost(spec) <= high`` (either bound may be ``None``)."""

    metric: str
    cost: CostFn
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        for bound in (self.low, self.high):
            if bound is not None and not math.isfinite(bound):
                raise HnasError(f"constraint on {self.metric}: bounds must be finite, got {bound}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise HnasError(f"constraint on {self.metric}: min {self.low:g} exceeds max {self.high:g}")

    def holds(self, spec: Any) -> bool:
        value = self.cost(spec)
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def describe(self) -> str:
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{self.metric} in [{low}, {high}]"


#: Build-free cost metrics: ``flops`` (``paddle.flops`` convention), ``flops_<convention>`` for the
#: other FLOPs conventions (``flops_macs``, ``flops_pss``: PSS-Net's bucket unit) and ``params``.
ANALYTIC_METRICS: tuple[str, ...] = ("flops", *(f"flops_{c}" for c in FLOPS_CONVENTIONS if c != "paddle"), "params")


def cost_function(space: SearchSpace, metric: str) -> CostFn:
    """The build-free cost ``metric`` (one of :data:`ANALYTIC_METRICS`) of subnets of ``space``.

    Latency needs a measured table (``hnas latency``), so it is passed as a callable instead.
    """
    if metric == "params":
        return lambda spec: float(space.params(spec))
    if metric in ANALYTIC_METRICS:
        convention = "paddle" if metric == "flops" else metric[len("flops_"):]
        return lambda spec: float(space.flops(spec, convention=convention))
    raise HnasError(f"unknown cost metric {metric!r}; known without a table: {', '.join(ANALYTIC_METRICS)}")


def reachable_range(base: Distribution, constraint: Constraint) -> tuple[float, float]:
    """Cost of the base distribution's smallest and largest subnets (the reachable range)."""
    return constraint.cost(base.smallest()), constraint.cost(base.largest())


class ConstrainedDistribution(Distribution):
    """``base`` conditioned on every constraint holding, by rejection of at most ``max_draws`` draws.

    Raises at construction when the constraints exclude both extremes *and* the reachable cost
    range (smallest to largest subnet) misses them, naming the constraint and the range; a
    draw that finds nothing in ``max_draws`` tries raises :class:`HnasError` too.
    """

    def __init__(
        self, base: Distribution, constraints: Sequence[Constraint], max_draws: int = 10_000, name: str | None = None
    ) -> None:
        label = name or base.name + "|" + ",".join(c.describe() for c in constraints)
        super().__init__(base.space, label)
        if max_draws < 1:
            raise HnasError(f"max_draws must be >= 1, got {max_draws}")
        self.base = base
        self.constraints = tuple(constraints)
        self.max_draws = max_draws
        for constraint in self.constraints:
            low, high = reachable_range(base, constraint)
            if (constraint.high is not None and constraint.high < low) or (
                constraint.low is not None and constraint.low > high
            ):
                raise HnasError(
                    f"constraint {constraint.describe()} is infeasible on space {base.space.name!r} "
                    f"({base.name}): its subnets reach {constraint.metric} {low:g} to {high:g}"
                )

    def contains(self, spec: Any) -> bool:
        return self.base.contains(spec) and all(c.holds(spec) for c in self.constraints)

    def sample(self, rng: random.Random) -> Any:
        for _ in range(self.max_draws):
            spec = self.base.sample(rng)
            if all(c.holds(spec) for c in self.constraints):
                return spec
        raise HnasError(
            f"no subnet of space {self.space.name!r} satisfying {', '.join(c.describe() for c in self.constraints)} "
            f"in {self.max_draws} draws from {self.base.name!r}; widen the range or raise max_draws"
        )

    def _extreme(self, spec: Any, which: str) -> Any:
        if all(c.holds(spec) for c in self.constraints):
            return spec
        raise HnasError(
            f"the {which} subnet of {self.base.name!r} violates {', '.join(c.describe() for c in self.constraints)}; "
            "a constrained distribution has no closed-form extreme"
        )

    def largest(self) -> Any:
        return self._extreme(self.base.largest(), "largest")

    def smallest(self) -> Any:
        return self._extreme(self.base.smallest(), "smallest")


#: A distribution as configs give it: a name, or ``{name: NAME, slots: {SLOT: [VALUES]}}`` (that
#: named distribution with some slots narrowed, :meth:`ChoiceDistribution.within`).
DistributionSetting = str | Mapping[str, Any]

_SETTING_KEYS = ("name", "slots")


def named_distribution(space: SearchSpace, name: DistributionSetting) -> Distribution:
    """``"uniform"`` or a family's named distribution (:meth:`SearchSpace.distribution_names`),
    or the mapping form of :data:`DistributionSetting`.

    Raises:
        HnasError: ``name`` is not a distribution of ``space``, or a bad mapping.
    """
    if isinstance(name, Mapping):
        return _narrowed_distribution(space, name)
    known = space.distribution_names()
    if name not in known:
        raise HnasError(f"unknown arch distribution {name!r}; known: {', '.join(known)} (space {space.name!r})")
    if name == "uniform":
        return ChoiceDistribution(space, "uniform")
    return space.family_distribution(name)


def _narrowed_distribution(space: SearchSpace, setting: Mapping[str, Any]) -> ChoiceDistribution:
    unknown = sorted(set(setting) - set(_SETTING_KEYS))
    if unknown:
        raise HnasError(f"distribution {dict(setting)}: unknown key(s) {unknown}; known: {', '.join(_SETTING_KEYS)}")
    base = named_distribution(space, setting.get("name", "uniform"))
    slots = setting.get("slots") or {}
    if not isinstance(slots, Mapping):
        raise HnasError(f"distribution {dict(setting)}: 'slots' must map slot names to lists of values")
    if not isinstance(base, ChoiceDistribution):
        raise HnasError(f"distribution {base.name!r} of space {space.name!r} cannot be narrowed per slot")
    return base.within(slots)
