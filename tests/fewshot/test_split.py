"""Few-shot splits: parsing, the partition rules, routing and the narrowed distributions."""

from __future__ import annotations

import random

import pytest

from hnas.errors import HnasError
from hnas.fewshot.split import Split, always_used_slots
from hnas.search_spaces.distributions import named_distribution
from hnas.search_spaces.spaces import SPACES


@pytest.fixture(scope="module")
def resnet():
    return SPACES.get("resnet48_tiny")


@pytest.fixture(scope="module")
def mbv2():
    return SPACES.get("mbv2_tiny")


def test_a_slot_alone_gives_one_part_per_value(resnet) -> None:
    split = Split.parse("depth3", resnet)
    domain = resnet.slot_map()["depth3"].domain
    assert split.groups == tuple((value,) for value in domain)
    assert [split.part_name(index) for index in range(2)] == [f"part0_depth3-{domain[0]}", f"part1_depth3-{domain[1]}"]


def test_grouped_values_and_the_json_round_trip(resnet) -> None:
    domain = resnet.slot_map()["depth3"].domain
    text = "depth3=" + ",".join(map(str, domain[:2])) + "/" + ",".join(map(str, domain[2:]))
    split = Split.parse(text, resnet)
    assert split.groups == (tuple(domain[:2]), tuple(domain[2:]))
    assert split.describe() == text
    assert Split.from_json(split.to_json()) == split


@pytest.mark.parametrize("text, message", [
    ("depth9", "has no slot 'depth9'"),
    ("depth3=a/b", "integer values"),
    ("depth3=2,3,4,5,6,7,8", "at least 2 non-empty groups"),
    ("depth3=2,3//4", "at least 2 non-empty groups"),
    ("resolution", "one value only"),
])
def test_malformed_or_unroutable_splits_are_refused(resnet, text: str, message: str) -> None:
    with pytest.raises(HnasError, match=message):
        Split.parse(text, resnet)


def test_groups_must_partition_the_domain(resnet) -> None:
    low, *rest = resnet.slot_map()["depth3"].domain
    with pytest.raises(HnasError, match="in no group"):
        Split.parse(f"depth3={low}/{rest[0]}", resnet)
    with pytest.raises(HnasError, match="in two groups"):
        Split.parse(f"depth3={low},{rest[0]}/" + ",".join(map(str, rest)), resnet)
    with pytest.raises(HnasError, match="outside its domain"):
        Split.parse(f"depth3={low},99/" + ",".join(map(str, rest)), resnet)


def test_a_block_a_smaller_depth_drops_cannot_split(resnet) -> None:
    # The last block of a stage is absent from the smallest subnet: not every arch could be routed.
    droppable = [slot.name for slot in resnet.slots() if slot.name not in always_used_slots(resnet)
                 and len(slot.domain) > 1]
    assert droppable
    with pytest.raises(HnasError, match="do not use that slot"):
        Split.parse(droppable[-1], resnet)


@pytest.mark.parametrize("space_name, text", [("resnet48_tiny", "depth2"), ("resnet48_tiny", "stem"),
                                              ("mbv2_tiny", "depth2"), ("mbv2_tiny", "s1.b1.kernel")])
def test_every_draw_of_a_part_routes_back_to_it(space_name: str, text: str) -> None:
    space = SPACES.get(space_name)
    split = Split.parse(text, space)
    rng = random.Random(0)
    for index in range(len(split.groups)):
        dist = named_distribution(space, split.distribution(index))
        for spec in [dist.largest(), dist.smallest(), *(dist.sample(rng) for _ in range(30))]:
            assert split.part_of(space, spec) == index
            assert space.choices(spec)[split.slot] in split.groups[index]


def test_the_parts_cover_the_space(resnet) -> None:
    split = Split.parse("depth2", resnet)
    rng = random.Random(1)
    uniform = named_distribution(resnet, "uniform")
    seen = {split.part_of(resnet, uniform.sample(rng)) for _ in range(60)}
    assert seen == set(range(len(split.groups)))


def test_a_part_narrows_the_parents_named_distribution(resnet) -> None:
    split = Split.parse("depth2", resnet)
    setting = split.distribution(0, "competition")
    assert setting == {"name": "competition", "slots": {"depth2": list(split.groups[0])}}
    part = named_distribution(resnet, setting)
    competition = named_distribution(resnet, "competition")
    rng = random.Random(2)
    for _ in range(30):
        spec = part.sample(rng)
        assert competition.contains(spec) and part.contains(spec)
    with pytest.raises(HnasError, match="already narrows"):
        split.distribution(1, setting)
