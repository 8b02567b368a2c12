"""PSS-Net pools: bucket rounding, conditional sampler, insertion / EMA / eviction, decays, state, resume."""

from __future__ import annotations

import json
import math
import random
from collections import Counter

import pytest

from hnas.errors import HnasError
from hnas.samplers import SAMPLERS
from hnas.samplers.pss import Pool, decayed, round_metric, softmax_choice, top_subnets
from hnas.search_spaces import SPACES

SPACE = SPACES.get("resnet48_tiny")
SMALL = {"metrics": ["flops"], "ranges": {"flops": [12e6, 24e6, 3e6]}, "pool_size": 3, "map_size": 1000}


def test_round_metric_follows_pss_net() -> None:
    assert round_metric(114, 110, 10) == 110 and round_metric(116, 110, 10) == 120
    assert round_metric(73, 75, 10) == 75  # offset = start % step = 5
    assert round_metric(12_000, 10_000, 1_000) == 12_000


def test_pool_insertion_ema_and_eviction() -> None:
    pool = Pool(size=2, ema=0.9, scores={})
    pool.update("a", -1.0)
    pool.update("b", -2.0)
    assert pool.scores == {"a": -1.0, "b": -2.0} and pool.full
    pool.update("a", -3.0)  # EMA: 0.9 * -1 + 0.1 * -3
    assert math.isclose(pool.scores["a"], -1.2)
    pool.update("c", -0.5)  # over size: the worst (b, -2) goes
    assert set(pool.scores) == {"a", "c"}
    pool.update("d", -5.0)  # a newcomer worse than everyone is evicted at once
    assert set(pool.scores) == {"a", "c"}
    assert pool.top(1) == [("c", -0.5)]


def test_softmax_temperature_sharpens_the_pool_draw() -> None:
    scores = [0.0, -1.0]
    rng = random.Random(0)
    hot = Counter(softmax_choice(scores, 1.0, rng) for _ in range(4000))
    cold = Counter(softmax_choice(scores, 0.01, rng) for _ in range(4000))
    assert abs(hot[0] / 4000 - 1 / (1 + math.exp(-1))) < 0.03  # softmax at t=1: 0.731
    assert cold[1] == 0
    assert decayed(1.0, 0.01, 0.0) == 1.0 and math.isclose(decayed(1.0, 0.01, 0.5), 0.1)
    assert math.isclose(decayed(1.0, 0.01, 1.0), 0.01)


def test_step_is_largest_then_bucket_subnet_then_smallest_and_rounds_to_its_bucket() -> None:
    sampler = SAMPLERS.build("pss", space=SPACE, seed=0, **SMALL)
    assert sampler.samplers["flops"].targets == [12e6, 15e6, 18e6, 21e6, 24e6]
    for step in range(20):
        metric, target, spec, branch = sampler.choose(step, 0)
        assert branch == "random"  # pools are not full yet
        assert sampler.samplers[metric].bucket(spec) == target
        nets = sampler.sample(step, 0)
        assert [net.role for net in nets] == ["teacher", "student", "student"]
        assert nets[0].spec == SPACE.max_spec() and nets[2].spec == SPACE.min_spec()


def _run(sampler, steps, epochs=2, per_epoch=50):
    """Drive sample/observe with a deterministic fake loss; returns the codes trained."""
    codes = []
    for step in steps:
        nets = sampler.sample(step, step // per_epoch)
        code = SPACE.encode(nets[1].spec)
        codes.append(code)
        loss = (sum(map(int, code)) % 17) / 10  # a fixed "loss" per arch
        sampler.observe(nets, [2.0, loss, 3.0])
    return codes


def test_observe_scores_the_middle_subnet_and_fills_pools_then_pool_draws_start() -> None:
    sampler = SAMPLERS.build("pss", space=SPACE, seed=0, p_sup=[0.5, 0.5], **SMALL)
    sampler.set_schedule(2)
    codes = _run(sampler, range(100))
    pools = sampler.pools["flops"]
    assert all(len(pool.scores) <= 3 for pool in pools.values())
    assert all(pool.full for pool in pools.values())
    pooled = [sampler.choose(step, 0)[3] for step in range(100, 200)]
    assert 25 < pooled.count("pool") < 75  # p_sup 0.5 once the pools are full
    for pool in pools.values():  # the score of a kept member is -loss of a fixed loss: no EMA drift
        for code, score in pool.scores.items():
            assert math.isclose(score, -(sum(map(int, code)) % 17) / 10)
    assert len(set(codes)) > 10


def test_decay_of_p_sup_and_temperature_follows_the_epochs() -> None:
    sampler = SAMPLERS.build("pss", space=SPACE, seed=0, **SMALL)
    assert sampler.p_sup_at(5) == 1.0  # no schedule known: no decay
    sampler.set_schedule(4)
    assert [round(sampler.p_sup_at(e), 6) for e in range(5)] == [1.0, round(0.01 ** 0.25, 6), 0.1,
                                                                 round(0.01 ** 0.75, 6), 0.01]
    assert sampler.temperature_at(2) == pytest.approx(0.1)


def test_state_dict_round_trip_and_exact_resume() -> None:
    args = dict(SMALL, p_sup=[1.0, 0.05])
    whole = SAMPLERS.build("pss", space=SPACE, seed=3, **args)
    whole.set_schedule(2)
    expected = _run(whole, range(100))

    first = SAMPLERS.build("pss", space=SPACE, seed=3, **args)
    first.set_schedule(2)
    head = _run(first, range(60))
    state = json.loads(json.dumps(first.state_dict()))  # plain data
    resumed = SAMPLERS.build("pss", space=SPACE, seed=99, **args)  # the checkpoint's seed wins
    resumed.set_schedule(2)
    resumed.set_state_dict(state)
    assert resumed.state_dict() == first.state_dict()
    tail = _run(resumed, range(60, 100))
    assert head + tail == expected
    assert resumed.state_dict() == whole.state_dict()
    assert any(resumed.choose(step, 1)[3] == "pool" for step in range(60, 100))


def test_top_subnets_lists_the_best_of_each_pool() -> None:
    sampler = SAMPLERS.build("pss", space=SPACE, seed=0, **SMALL)
    _run(sampler, range(60))
    rows = top_subnets(sampler.state_dict(), k=2)
    assert [row[1] for row in rows] == sampler.samplers["flops"].targets
    for metric, bucket, best in rows:
        assert len(best) == 2 and best[0][1] >= best[1][1]
        assert best[0] == sampler.pools[metric][bucket].top(1)[0]
    with pytest.raises(HnasError, match="not 'pss'"):
        top_subnets(SAMPLERS.build("uniform", space=SPACE, seed=0).state_dict())


@pytest.mark.parametrize(("args", "option"), [
    ({"pool_size": 0}, "pool_size"),
    ({"ranges": {"flops": [20e6, 10e6, 1e6]}}, r"ranges\.flops.*empty bucket range"),
    ({"ranges": {"flops": [10e6, 20e6, 0]}}, r"ranges\.flops.*empty bucket range"),
    ({"ranges": {"flops": [1e6, 12e6, 1e6]}}, r"ranges\.flops: bucket\(s\) 1e\+06"),  # below the smallest
    ({"metrics": ["latency"]}, "metrics"),
    ({"ranges": {"params": [1, 2, 1]}}, "ranges"),  # params is not pooled
    ({"ema": 1.0}, "ema"),
    ({"p_sup": [1.0, 0.0]}, "p_sup"),
])
def test_bad_settings_are_refused_naming_the_option(args: dict, option: str) -> None:
    with pytest.raises(HnasError, match=rf"sampler\.args\.{option}"):
        SAMPLERS.build("pss", space=SPACE, seed=0, **{"metrics": ["flops"], "map_size": 500, **args})


def test_pss_net_ranges_in_its_own_flops_convention() -> None:
    """configs/pss_mbv1_f.yaml: PSS-Net's 110-570 M step 10 without its ends is 45 targets 120 ... 560 M."""
    from hnas.samplers.pss import BucketSampler
    from hnas.search_spaces.distributions import cost_function

    space = SPACES.get("pss_mbv1")
    cost = cost_function(space, "flops_pss")
    grid = BucketSampler(space, "flops_pss", cost, (110e6, 570e6, 10e6), [], 1, inner=True)
    assert grid.targets == [t * 1e6 for t in range(120, 561, 10)] and len(grid.targets) == 45
    sampler = SAMPLERS.build("pss", space=space, seed=0, metrics=["flops_pss"], map_size=300,
                             ranges={"flops_pss": [200e6, 400e6, 50e6]}, range_ends="exclude")
    assert sampler.samplers["flops_pss"].targets == [250e6, 300e6, 350e6]
    for step in range(6):
        metric, target, spec, _ = sampler.choose(step, 0)
        assert metric == "flops_pss" and round_metric(cost(spec), 200e6, 50e6) == target
    with pytest.raises(HnasError, match="range_ends"):
        SAMPLERS.build("pss", space=space, seed=0, metrics=["flops_pss"], range_ends="both")
