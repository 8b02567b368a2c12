"""Sandwich sampler: max/min nets, students, rank pairs at a minimum Hamming distance."""

from __future__ import annotations

import pytest

from hnas.errors import HnasError
from hnas.samplers import SandwichSampler
from hnas.search_spaces import SPACES
from hnas.search_spaces.distance import hamming_distance
from hnas.search_spaces.resnet import COMPETITION_MAX_WIDTH_CODE

SPACE = SPACES.get("resnet48")


def test_teacher_smallest_and_random_students_in_order() -> None:
    nets = SandwichSampler(SPACE, seed=0, num_random=3).sample(0, 0)
    assert [net.role for net in nets] == ["teacher", "student", "student", "student", "student"]
    assert nets[0].spec == SPACE.max_spec()
    assert nets[1].spec == SPACE.min_spec()
    assert SPACE.encode(nets[1].spec) == "1222277777000000777700000077770000000000007777000000"


def test_include_min_false_drops_the_smallest() -> None:
    nets = SandwichSampler(SPACE, seed=0, num_random=1, include_min=False).sample(0, 0)
    assert [net.role for net in nets] == ["teacher", "student"]
    assert nets[1].spec != SPACE.min_spec()


def test_rank_pairs_follow_the_students() -> None:
    nets = SandwichSampler(SPACE, seed=0, num_random=2, rank_pairs=2).sample(7, 1)
    assert [(net.role, net.pair) for net in nets[4:]] == [("rank", 0), ("rank", 0), ("rank", 1), ("rank", 1)]


def test_pairs_respect_min_hamming() -> None:
    sampler = SandwichSampler(SPACE, seed=1, num_random=0, include_min=False, rank_pairs=3, min_hamming=33)
    for step in range(30):
        nets = sampler.sample(step, 0)
        for pair in range(3):
            first, second = (SPACE.encode(net.spec) for net in nets if net.pair == pair)
            assert hamming_distance(first, second) >= 33


def test_unreachable_min_hamming_fails_clearly() -> None:
    with pytest.raises(HnasError, match="min_hamming 48 exceeds the 47 width characters"):
        SandwichSampler(SPACE, seed=0, rank_pairs=1, min_hamming=48)
    # 47 (every width character differs) is possible but essentially never drawn.
    sampler = SandwichSampler(SPACE, seed=0, rank_pairs=1, min_hamming=47, max_tries=20)
    with pytest.raises(HnasError, match="in 20 draws; lower min_hamming"):
        sampler.sample(0, 0)


@pytest.mark.parametrize("bad", [{"num_random": -1}, {"rank_pairs": -1}, {"min_hamming": -1}, {"max_tries": 0}])
def test_negative_counts_are_rejected(bad: dict) -> None:
    with pytest.raises(HnasError, match="sandwich"):
        SandwichSampler(SPACE, seed=0, **bad)


def test_competition_distribution_stays_within_its_width_limits() -> None:
    sampler = SandwichSampler(SPACE, seed=2, distribution="competition", num_random=2, rank_pairs=2)
    seen_codes: set[int] = set()
    for step in range(50):
        for net in sampler.sample(step, 0):
            for stage, limit in enumerate(COMPETITION_MAX_WIDTH_CODE.values()):
                codes = (net.spec.out_codes[stage], *net.spec.mid_codes[stage])
                assert max(codes) <= limit
                seen_codes.update(codes)
    assert seen_codes == set(range(1, 8))


def test_competition_smallest_uses_the_widest_allowed_codes() -> None:
    smallest = SandwichSampler(SPACE, seed=0, distribution="competition").sample(0, 0)[1]
    assert smallest.role == "student"
    assert SPACE.encode(smallest.spec) == "1222233333000000333300000055550000000000007777000000"
