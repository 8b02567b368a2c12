"""Random arch sampling: determinism, validity and the competition's width-code limits."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter

import pytest

from hnas.errors import HnasError
from hnas.search_spaces import SPACES
from hnas.search_spaces.resnet import COMPETITION_MAX_WIDTH_CODE, ResNetSpace
from hnas.search_spaces.sampling import sample_codes, sample_spec

DISTRIBUTIONS = SPACES.get("resnet48").distribution_names()

SPACE_NAMES = ("resnet48", "resnet48_tiny")


@pytest.mark.parametrize("distribution", list(DISTRIBUTIONS))
def test_same_seed_same_codes(distribution: str) -> None:
    space = SPACES.get("resnet48")
    first = sample_codes(space, 50, seed=7, distribution=distribution)
    assert sample_codes(space, 50, seed=7, distribution=distribution) == first
    assert sample_codes(space, 50, seed=8, distribution=distribution) != first


def test_sample_spec_follows_the_rng_state() -> None:
    space = SPACES.get("resnet48")
    one, two = random.Random(3), random.Random(3)
    assert [sample_spec(space, one) for _ in range(5)] == [sample_spec(space, two) for _ in range(5)]


@pytest.mark.parametrize("space_name", SPACE_NAMES)
@pytest.mark.parametrize("distribution", list(DISTRIBUTIONS))
def test_thousand_samples_are_valid_and_distinct(space_name: str, distribution: str) -> None:
    space = SPACES.get(space_name)
    codes = sample_codes(space, 1000, seed=0, distribution=distribution)
    assert len(codes) == len(set(codes)) == 1000
    depths_seen = [set() for _ in range(space.num_stages)]
    for code in codes:
        spec = space.decode(code)
        assert space.encode(spec) == code
        for stage, depth in enumerate(spec.depths):
            depths_seen[stage].add(depth)
    assert depths_seen == [set(choices) for choices in space.depth_choices]


def _codes_per_stage(space: ResNetSpace, codes: list[str]) -> list[Counter]:
    counts = [Counter() for _ in range(space.num_stages)]
    for code in codes:
        spec = space.decode(code)
        for stage in range(space.num_stages):
            counts[stage][spec.out_codes[stage]] += 1
            counts[stage].update(spec.mid_codes[stage])
    return counts


def test_competition_distribution_caps_width_codes_per_stage() -> None:
    space = SPACES.get("resnet48")
    counts = _codes_per_stage(space, sample_codes(space, 1000, seed=1, distribution="competition"))
    for stage, counter in enumerate(counts):
        assert set(counter) == set(range(1, COMPETITION_MAX_WIDTH_CODE[stage + 1] + 1))
    assert [COMPETITION_MAX_WIDTH_CODE[stage] for stage in (1, 2, 3, 4)] == [3, 3, 5, 7]


def test_uniform_distribution_uses_every_width_code() -> None:
    space = SPACES.get("resnet48")
    counts = _codes_per_stage(space, sample_codes(space, 1000, seed=1, distribution="uniform"))
    assert all(set(counter) == set(space.width_codes) for counter in counts)


def test_competition_limits_shrink_to_a_space_with_fewer_width_codes() -> None:
    space = dataclasses.replace(SPACES.get("resnet48_tiny"), width_ratios=(1.0, 0.5))
    counts = _codes_per_stage(space, sample_codes(space, 200, seed=0, distribution="competition"))
    assert all(set(counter) == {1, 2} for counter in counts)


def test_competition_needs_four_stages() -> None:
    two_stages = ResNetSpace(
        name="two",
        stage_blocks=(2, 2),
        base_channels=(8, 16),
        stage_strides=(1, 2),
        depth_choices=((1, 2), (1, 2)),
    )
    assert len(sample_codes(two_stages, 5, seed=0)) == 5
    with pytest.raises(HnasError, match="needs a space with 4 stages; space 'two' has 2"):
        sample_codes(two_stages, 5, seed=0, distribution="competition")


def test_unknown_distribution_lists_known_ones() -> None:
    with pytest.raises(HnasError, match="unknown arch distribution 'gaussian'; known: uniform, competition"):
        sample_spec(SPACES.get("resnet48"), random.Random(0), "gaussian")


def test_exhausted_space_raises_unless_duplicates_are_allowed() -> None:
    single = ResNetSpace(
        name="single",
        stage_blocks=(1,),
        base_channels=(8,),
        stage_strides=(1,),
        depth_choices=((1,),),
        width_ratios=(1.0,),
    )
    assert sample_codes(single, 3, seed=0, unique=False) == ["11111"] * 3
    with pytest.raises(HnasError, match="found only 1 distinct"):
        sample_codes(single, 2, seed=0)


def test_negative_count_is_rejected() -> None:
    with pytest.raises(HnasError, match="must be >= 0"):
        sample_codes(SPACES.get("resnet48"), -1, seed=0)
