"""Mutation and crossover over a space's choice view (SPOS-style evolution).

Both work on :meth:`~hnas.search_spaces.base.SearchSpace.units` (a tie group or a single slot),
so a tie can never break, and both finish with :func:`complete`, which draws a value for every
unit that became active without one (a depth grew) and clears units that became unused. Values
come from the distribution's domains, so a child stays inside a restricted distribution's
support; cost constraints are checked by the caller.
"""

from __future__ import annotations

import random
from typing import Any, Mapping

from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.distributions import ChoiceDistribution, ConstrainedDistribution, Distribution


def choice_domains(dist: Distribution) -> dict[str, tuple[int, ...]]:
    """Per-slot domains of a choice distribution (through any constraints on top of it)."""
    while isinstance(dist, ConstrainedDistribution):
        dist = dist.base
    if not isinstance(dist, ChoiceDistribution):
        raise TypeError(f"search needs a choice distribution, got {type(dist).__name__}")
    return dist.domains


def complete(space: SearchSpace, domains: Mapping[str, tuple[int, ...]], values: Mapping[str, int | None],
             rng: random.Random) -> Any:
    """The spec of ``values`` after giving every active unit a value and clearing unused ones."""
    done: dict[str, int | None] = {}
    for unit in space.units():
        active = any(space.is_active(member, {**values, **done}) for member in unit)
        if not active:
            done.update({member: None for member in unit})
            continue
        value = next((values[m] for m in unit if values.get(m) is not None), None)
        if value is None or value not in domains[unit[0]]:
            value = rng.choice(domains[unit[0]])
        done.update({member: value for member in unit})
    return space.from_choices(done)


def mutate(space: SearchSpace, dist: Distribution, spec: Any, rng: random.Random, prob: float) -> Any:
    """Each unit redrawn from its domain with probability ``prob``."""
    domains = choice_domains(dist)
    values = dict(space.choices(spec))
    for unit in space.units():
        if rng.random() < prob:
            value = rng.choice(domains[unit[0]])
            values.update({member: value for member in unit})
    return complete(space, domains, values, rng)


def crossover(space: SearchSpace, dist: Distribution, first: Any, second: Any, rng: random.Random) -> Any:
    """Each unit taken from one of the two parents, uniformly."""
    domains = choice_domains(dist)
    a, b = space.choices(first), space.choices(second)
    values: dict[str, int | None] = {}
    for unit in space.units():
        parent, other = (a, b) if rng.random() < 0.5 else (b, a)
        # A unit the chosen parent does not use takes the other parent's value if it has one.
        values.update({member: parent[member] if parent[member] is not None else other[member] for member in unit})
    return complete(space, domains, values, rng)
