"""Mutation and crossover never leave the space, never break a tie and stay in a restricted support."""

from __future__ import annotations

import random

import pytest

from hnas.search.operators import crossover, mutate
from hnas.search_spaces import SPACES


@pytest.mark.parametrize("name", ["resnet48_tiny", "mbv2_tiny", "resnet48"])
def test_children_are_valid_members(name: str) -> None:
    space = SPACES.get(name)
    dist = space.distribution("uniform")
    rng = random.Random(0)
    parents = [dist.sample(rng) for _ in range(20)]
    changed = 0
    for _ in range(300):
        a, b = rng.choice(parents), rng.choice(parents)
        for child in (mutate(space, dist, a, rng, 0.3), crossover(space, dist, a, b, rng)):
            assert space.decode(space.encode(child)) == child  # a member, ties intact
            changed += child not in (a, b)
    assert changed > 300


def test_children_stay_in_a_restricted_distribution() -> None:
    space = SPACES.get("resnet48_tiny")
    dist = space.distribution("competition").restrict(depth=(2, 3))
    rng = random.Random(1)
    parents = [dist.sample(rng) for _ in range(10)]
    for _ in range(200):
        child = mutate(space, dist, rng.choice(parents), rng, 0.5)
        assert dist.contains(child)
        child = crossover(space, dist, rng.choice(parents), rng.choice(parents), rng)
        assert dist.contains(child)


def test_probability_zero_is_the_identity_and_one_redraws() -> None:
    space = SPACES.get("resnet48_tiny")
    dist = space.distribution("uniform")
    rng = random.Random(2)
    spec = dist.sample(rng)
    assert mutate(space, dist, spec, rng, 0.0) == spec
    assert sum(mutate(space, dist, spec, rng, 1.0) != spec for _ in range(20)) >= 19
