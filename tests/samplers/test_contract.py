"""Contract of every registered sampler: determinism, rank agreement, resumability, validity."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from hnas.errors import HnasError
from hnas.samplers import ROLES, SAMPLERS, SampledNet, Sampler, check_sampler_args, sampler_options
from hnas.search_spaces import SPACES

#: A few-shot part of the space (hnas.fewshot): the competition distribution with stage 2 at depth 3.
FEWSHOT_PART = {"name": "competition", "slots": {"depth2": [3]}}

DISTRIBUTIONS = [*SPACES.get("resnet48").distribution_names(), FEWSHOT_PART]

SPACE = SPACES.get("resnet48_tiny")

#: Extra constructor arguments exercised per sampler, besides the defaults.
EXTRA_ARGS: dict[str, list[dict]] = {
    "uniform": [{"num_subnets": 3}],
    "sandwich": [{"num_random": 1, "rank_pairs": 2, "min_hamming": 20}],
    "spos": [{"metric": "params", "bins": 4}],
    "pss": [{"metrics": ["flops"], "pool_size": 2, "buckets": 3, "map_size": 500}],
    "ofa_ps": [{"num_subnets": 1, "phases": [{"until": 1, "depth": "all"}, {"width": "all"}]}],
}

CASES = [
    pytest.param(name, args, distribution,
                 id=f"{name}-{distribution if isinstance(distribution, str) else 'part'}-{index}")
    for name in SAMPLERS.names()
    for index, args in enumerate([{}, *EXTRA_ARGS.get(name, [])])
    for distribution in DISTRIBUTIONS
]

STEPS = [(epoch, step) for epoch in range(2) for step in range(4)]


def _build(name: str, args: dict, distribution: str, seed: int) -> Sampler:
    return SAMPLERS.build(name, space=SPACE, seed=seed, distribution=distribution, **args)


def _codes(nets: list[SampledNet]) -> list[tuple[str, str, int | None]]:
    return [(SPACE.encode(net.spec), net.role, net.pair) for net in nets]


@pytest.mark.parametrize(("name", "args", "distribution"), CASES)
def test_two_ranks_with_the_same_seed_agree_at_every_step(name: str, args: dict, distribution: str) -> None:
    rank0 = _build(name, args, distribution, seed=3)
    rank1 = _build(name, args, distribution, seed=3)
    for epoch, step in STEPS:
        assert _codes(rank0.sample(step, epoch)) == _codes(rank1.sample(step, epoch))


@pytest.mark.parametrize(("name", "args", "distribution"), CASES)
def test_sampling_does_not_depend_on_call_history(name: str, args: dict, distribution: str) -> None:
    warm = _build(name, args, distribution, seed=5)
    for epoch, step in STEPS:
        warm.sample(step, epoch)
    fresh = _build(name, args, distribution, seed=5)
    assert _codes(warm.sample(2, 1)) == _codes(fresh.sample(2, 1))


@pytest.mark.parametrize(("name", "args", "distribution"), CASES)
def test_seed_and_step_change_the_draw(name: str, args: dict, distribution: str) -> None:
    sampler = _build(name, args, distribution, seed=0)
    other_seed = _build(name, args, distribution, seed=1)
    sequence = [_codes(sampler.sample(step, epoch)) for epoch, step in STEPS]
    assert sequence != [_codes(other_seed.sample(step, epoch)) for epoch, step in STEPS]
    assert len({json.dumps(draw) for draw in sequence}) > 1


@pytest.mark.parametrize(("name", "args", "distribution"), CASES)
def test_state_dict_round_trip_replays_the_sequence(name: str, args: dict, distribution: str) -> None:
    original = _build(name, args, distribution, seed=11)
    for epoch, step in STEPS[:3]:
        original.sample(step, epoch)
    state = json.loads(json.dumps(original.state_dict()))  # plain data, survives JSON
    resumed = _build(name, args, distribution, seed=999)
    resumed.set_state_dict(state)
    for epoch, step in STEPS[3:]:
        assert _codes(resumed.sample(step, epoch)) == _codes(original.sample(step, epoch))


@pytest.mark.parametrize(("name", "args", "distribution"), CASES)
def test_specs_are_members_of_the_space(name: str, args: dict, distribution: str) -> None:
    sampler = _build(name, args, distribution, seed=2)
    for epoch, step in STEPS:
        for net in sampler.sample(step, epoch):
            SPACE.validate(net.spec)
            assert SPACE.decode(SPACE.encode(net.spec)) == net.spec


@pytest.mark.parametrize(("name", "args"), [(case.values[0], case.values[1]) for case in CASES
                                           if case.values[2] == FEWSHOT_PART])
def test_a_few_shot_part_is_never_left(name: str, args: dict) -> None:
    sampler = _build(name, args, FEWSHOT_PART, seed=3)
    for epoch, step in STEPS:
        for net in sampler.sample(step, epoch):
            assert net.spec.depths[1] == 3, (net.role, SPACE.encode(net.spec))


@pytest.mark.parametrize(("name", "args", "distribution"), CASES)
def test_roles_follow_the_documented_contract(name: str, args: dict, distribution: str) -> None:
    sampler = _build(name, args, distribution, seed=4)
    for epoch, step in STEPS:
        nets = sampler.sample(step, epoch)
        assert nets
        roles = [net.role for net in nets]
        assert set(roles) <= set(ROLES)
        if "teacher" in roles:
            assert roles.count("teacher") == 1 and roles[0] == "teacher"
            assert nets[0].spec == sampler.teacher
            if isinstance(distribution, str):
                assert sampler.teacher == SPACE.max_spec()
            else:  # the largest subnet of the few-shot part: stage 2 at depth 3, everything else largest
                largest = SPACE.max_spec()
                assert sampler.teacher.depths == (largest.depths[0], 3, *largest.depths[2:])
                assert sampler.teacher.out_codes == largest.out_codes
                assert {code for codes in sampler.teacher.mid_codes for code in codes} == {1}  # code 1: widest
        if "student" in roles:
            assert "teacher" in roles
        pairs = Counter(net.pair for net in nets if net.role == "rank")
        assert all(count == 2 for count in pairs.values())
        assert sorted(pairs) == list(range(len(pairs)))


@pytest.mark.parametrize("name", SAMPLERS.names())
def test_observe_accepts_one_loss_per_net(name: str) -> None:
    sampler = _build(name, {}, "uniform", seed=0)
    nets = sampler.sample(0, 0)
    sampler.observe(nets, [1.0] * len(nets))
    with pytest.raises(ValueError):
        sampler.observe(nets, [1.0] * (len(nets) + 1))


def test_state_of_another_sampler_is_rejected() -> None:
    uniform = _build("uniform", {}, "uniform", seed=0)
    sandwich = _build("sandwich", {}, "uniform", seed=0)
    with pytest.raises(HnasError, match="UniformSampler"):
        sandwich.set_state_dict(uniform.state_dict())


def test_unknown_distribution_and_sampler_are_user_errors() -> None:
    with pytest.raises(HnasError, match="competition"):
        _build("uniform", {}, "gaussian", seed=0)
    with pytest.raises(HnasError, match="sandwich"):
        SAMPLERS.build("dsnet_gate", space=SPACE, seed=0)


def test_sampled_net_checks_role_and_pair() -> None:
    spec = SPACE.max_spec()
    with pytest.raises(ValueError, match="role"):
        SampledNet(spec, "tutor")
    with pytest.raises(ValueError, match="pair"):
        SampledNet(spec, "rank")
    with pytest.raises(ValueError, match="pair"):
        SampledNet(spec, "student", pair=0)


def test_uniform_sampler_trains_single_paths() -> None:
    nets = _build("uniform", {"num_subnets": 3}, "uniform", seed=0).sample(0, 0)
    assert [net.role for net in nets] == ["single"] * 3
    assert len({SPACE.encode(net.spec) for net in nets}) == 3


@pytest.mark.parametrize("name", SAMPLERS.names())
def test_every_option_a_sampler_lists_is_accepted(name: str) -> None:
    options = sampler_options(name)
    assert "space" not in options and "seed" not in options and "distribution" in options
    check_sampler_args(name, dict.fromkeys(options))  # names only: no error
    with pytest.raises(HnasError, match=rf"sampler.args.bogus: sampler '{name}' has no option 'bogus'.*known: "):
        check_sampler_args(name, {"bogus": 1})
