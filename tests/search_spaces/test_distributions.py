"""Distributions over the choice view: draw order, pinned slots, restriction, constraints."""

from __future__ import annotations

import random

import pytest

from hnas.errors import HnasError
from hnas.search_spaces import SPACES, ChoiceDistribution, ConstrainedDistribution, Constraint
from hnas.search_spaces.distributions import cost_function
from hnas.search_spaces.resnet import COMPETITION_MAX_WIDTH_CODE, ResNetSpec

SPACE = SPACES.get("resnet48_tiny")


def _documented_resnet_draw(rng: random.Random, limits: tuple[int, ...], draw_resolution: bool) -> ResNetSpec:
    """The ResNet draw order as documented since the first release: resolution (uniform only),
    then per stage the depth, the stage's output code and one conv1 code per active block."""
    resolution = rng.choice(SPACE.resolutions) if draw_resolution else SPACE.resolutions[0]
    depths, outs, mids = [], [], []
    for stage, limit in enumerate(limits):
        depth = rng.choice(SPACE.depth_choices[stage])
        depths.append(depth)
        outs.append(rng.randint(1, limit))
        mids.append(tuple(rng.randint(1, limit) for _ in range(depth)))
    return ResNetSpec(resolution, tuple(depths), tuple(outs), tuple(mids))


@pytest.mark.parametrize("name", ["uniform", "competition"])
def test_resnet_draws_follow_the_documented_order(name: str) -> None:
    dist = SPACE.distribution(name)
    limits = (7,) * 4 if name == "uniform" else tuple(COMPETITION_MAX_WIDTH_CODE[s] for s in (1, 2, 3, 4))
    ours, reference = random.Random(11), random.Random(11)
    for _ in range(500):
        assert dist.sample(ours) == _documented_resnet_draw(reference, limits, draw_resolution=name == "uniform")
    assert ours.random() == reference.random()  # the same amount of randomness consumed


def test_pinned_slots_consume_no_randomness() -> None:
    pinned = ChoiceDistribution(SPACE, "pinned", {"depth1": (3,)}, pinned=("resolution", "depth1"))
    free = ChoiceDistribution(SPACE, "free", {"depth1": (3,)}, pinned=("resolution",))
    a, b = random.Random(0), random.Random(0)
    assert all(pinned.sample(a).depths[0] == 3 for _ in range(20))
    free.sample(b)
    assert a.getstate() != b.getstate()


def test_domains_are_checked() -> None:
    with pytest.raises(HnasError, match="unknown slot"):
        ChoiceDistribution(SPACE, "bad", {"depth9": (2,)})
    with pytest.raises(HnasError, match=r"slot depth3 .* takes \[2, 3, 4, 5, 6, 7, 8\], got \[9\]"):
        ChoiceDistribution(SPACE, "bad", {"depth3": (9,)})
    with pytest.raises(HnasError, match="tied slots"):
        ChoiceDistribution(SPACE, "bad", {"s2.b1.conv2": (1, 2)})


def test_restrict_narrows_whole_dimensions_and_names_the_phase() -> None:
    phase = SPACE.distribution("uniform").restrict(depth=(4, 5))
    rng = random.Random(2)
    for _ in range(100):
        spec = phase.sample(rng)
        assert set(spec.depths) <= {4, 5}
    assert phase.name == "uniform[depth=[4, 5]]"
    assert phase.smallest().depths == (4, 4, 4, 4)
    with pytest.raises(HnasError, match="unknown dimension"):
        phase.restrict(colour=(1,))


def test_constraint_checks_its_bounds() -> None:
    flops = cost_function(SPACE, "flops")
    with pytest.raises(HnasError, match="exceeds max"):
        Constraint("flops", flops, low=2e6, high=1e6)
    with pytest.raises(HnasError, match="finite"):
        Constraint("flops", flops, high=float("inf"))
    with pytest.raises(HnasError, match="unknown cost metric"):
        cost_function(SPACE, "latency")


def test_constrained_sampling_gives_up_after_max_draws() -> None:
    flops = cost_function(SPACE, "flops")
    smallest = flops(SPACE.min_spec())
    # Feasible on paper (the smallest subnet fits) but almost never drawn.
    dist = ConstrainedDistribution(SPACE.distribution("uniform"), [Constraint("flops", flops, high=smallest)],
                                   max_draws=5)
    with pytest.raises(HnasError, match="in 5 draws"):
        dist.sample(random.Random(0))
    assert dist.smallest() == SPACE.min_spec()
    with pytest.raises(HnasError, match="no closed-form extreme"):
        dist.largest()


def test_within_narrows_named_slots_and_their_ties() -> None:
    part = SPACE.distribution("uniform").within({"depth2": [3, 4], "stem": [2]})
    rng = random.Random(4)
    for _ in range(100):
        spec = part.sample(rng)
        choices = SPACE.choices(spec)
        assert choices["depth2"] in (3, 4)
        # The stem width is tied to stage 1's output width (the residual additions).
        assert choices["stem"] == 2 and choices["s1.b1.conv2"] == 2 and spec.out_codes[0] == 2
        assert part.contains(spec)
    assert part.largest().depths[1] == 4 and part.smallest().depths[1] == 3
    assert not part.contains(SPACE.max_spec())


def test_within_keeps_a_named_distributions_limits() -> None:
    competition = SPACE.distribution("competition")
    part = competition.within({"depth3": [2]})
    assert part.name == "competition{depth3=[2]}"
    rng = random.Random(5)
    assert all(competition.contains(spec := part.sample(rng)) and spec.depths[2] == 2 for _ in range(50))


@pytest.mark.parametrize("slots, message", [
    ({"depth9": [2]}, r"unknown slot\(s\) \['depth9'\]"),
    ({"depth3": [9]}, r"slot depth3 .* takes \[2, 3, 4, 5, 6, 7, 8\] here, got \[9\]"),
    ({"depth3": []}, "got \\[\\]"),
])
def test_within_names_the_bad_slot(slots: dict, message: str) -> None:
    with pytest.raises(HnasError, match=message):
        SPACE.distribution("uniform").within(slots)


def test_the_mapping_form_of_a_distribution_setting() -> None:
    setting = {"name": "competition", "slots": {"depth1": [2]}}
    dist = SPACE.distribution(setting)
    assert dist.smallest().depths[0] == 2 and dist.largest().depths[0] == 2
    assert SPACE.distribution({"slots": {"depth1": [2]}}).name == "uniform{depth1=[2]}"
    with pytest.raises(HnasError, match=r"unknown key\(s\) \['slot'\]"):
        SPACE.distribution({"name": "uniform", "slot": {"depth1": [2]}})
    with pytest.raises(HnasError, match="unknown arch distribution 'nope'"):
        SPACE.distribution({"name": "nope"})
    with pytest.raises(HnasError, match="'slots' must map"):
        SPACE.distribution({"name": "uniform", "slots": [2]})
