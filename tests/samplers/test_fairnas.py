"""FairNAS: every choice of every unit assigned to exactly one of the m models of a step."""

from __future__ import annotations

from collections import Counter

import pytest

from hnas.samplers import SAMPLERS
from hnas.search_spaces import SPACES
from tests.engine.tiny import TINY_SPACE

#: resnet48_tiny (7 width codes, 4-7 depths) and a hand-made space (3 widths, depths 1-2, 2 stages).
SPACES_UNDER_TEST = [SPACES.get("resnet48_tiny"), TINY_SPACE]


@pytest.mark.parametrize("space", SPACES_UNDER_TEST, ids=lambda space: space.name)
@pytest.mark.parametrize("distribution", ["uniform", "competition"])
def test_each_choice_is_assigned_exactly_once_per_step(space, distribution) -> None:
    if distribution == "competition" and space is TINY_SPACE:
        pytest.skip("the competition distribution needs four stages")
    sampler = SAMPLERS.build("fairnas", space=space, seed=1, distribution=distribution)
    m = sampler.m
    assert m == max(len(domain) for domain in sampler.domains.values())
    for step in range(5):
        nets = sampler.sample(step, 0)
        assert len(nets) == m and {net.role for net in nets} == {"single"}
        table = sampler.assignments(step, 0)
        for unit, entries in table.items():
            domain = sampler.domains[unit]
            counts = Counter(entries)
            assert set(counts) == set(domain)
            if len(domain) == m:
                assert all(count == 1 for count in counts.values()), unit
            else:  # smaller domains cycle: each choice floor(m/k) or ceil(m/k) times
                assert {count for count in counts.values()} <= {m // len(domain), -(-m // len(domain))}, unit
        # The models really carry the table: every unit that is active in a model holds its entry there.
        for k, net in enumerate(nets):
            choices = space.choices(net.spec)
            for unit, entries in table.items():
                for member in unit:
                    assert choices[member] in (None, entries[k])
        # Units that are always active (resolution, depths, tied conv2 widths with block 1) are
        # trained exactly once per choice across the m models.
        for unit in table:
            values = [space.choices(net.spec)[unit[0]] for net in nets]
            if None not in values and len(sampler.domains[unit]) == m:
                assert sorted(values) == sorted(sampler.domains[unit])


def test_ties_hold_in_every_model_and_steps_differ() -> None:
    space = SPACES.get("resnet48_tiny")
    sampler = SAMPLERS.build("fairnas", space=space, seed=0)
    first, second = sampler.sample(0, 0), sampler.sample(1, 0)
    for net in first:
        space.check_ties(space.choices(net.spec))
    assert [net.spec for net in first] != [net.spec for net in second]
    assert len({net.spec for net in first}) == sampler.m
