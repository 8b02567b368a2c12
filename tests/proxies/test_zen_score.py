"""ZenScore: deterministic, finite, isolated from the caller's model and RNG, cached."""

from __future__ import annotations

import math
import random

import numpy as np
import paddle
import pytest

import hnas.proxies.zen_score as zen_module
from hnas.errors import HnasError
from hnas.proxies.zen_score import ZenResult, compute_zen_score, zen_score
from hnas.search_spaces import SPACES
from hnas.search_spaces.resnet import final_channels
from hnas.search_spaces.resnet.zen import zen_features

SPACE = SPACES.get("resnet48_tiny")
ARCH1 = SPACE.decode("1252233313000000223212122253130000000000006515000000")
FAST = {"batch_size": 2, "repeats": 2}


def test_same_seed_same_score_other_seed_other_score() -> None:
    first = compute_zen_score(SPACE, ARCH1, seed=3, **FAST)
    assert compute_zen_score(SPACE, ARCH1, seed=3, **FAST) == first
    assert compute_zen_score(SPACE, ARCH1, seed=4, **FAST) != first


def test_result_is_finite_with_a_consistent_interval() -> None:
    result = compute_zen_score(SPACE, ARCH1, batch_size=2, repeats=3)
    assert isinstance(result, ZenResult)
    assert all(math.isfinite(value) for value in (result.mean, result.std, result.ci95))
    assert result.std > 0
    assert result.ci95 == pytest.approx(1.96 * result.std / math.sqrt(3))


def test_larger_net_scores_higher() -> None:
    largest = compute_zen_score(SPACE, SPACE.max_spec(), **FAST)
    smallest = compute_zen_score(SPACE, SPACE.min_spec(), **FAST)
    assert largest.mean > smallest.mean


def test_model_state_and_global_rngs_are_untouched() -> None:
    paddle.seed(123)
    model = SPACE.build_standalone(ARCH1)
    before = {name: value.numpy().copy() for name, value in model.state_dict().items()}
    paddle_state = paddle.get_rng_state("cpu")
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    expected_draw = paddle.rand([4]).numpy()
    paddle.set_rng_state(paddle_state, "cpu")

    compute_zen_score(SPACE, ARCH1, **FAST)

    np.testing.assert_array_equal(paddle.rand([4]).numpy(), expected_draw)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()
    assert random.getstate() == python_state
    after = model.state_dict()
    assert all(np.array_equal(after[name].numpy(), value) for name, value in before.items())


@pytest.mark.filterwarnings("ignore:When training, we now always track")
def test_features_skip_shortcuts_and_head() -> None:
    net = SPACE.build_standalone(ARCH1)
    variances: list[float] = []
    features = zen_features(net, paddle.randn([2, 1, 28, 28]), variances)
    assert features.shape == [2, final_channels(SPACE, ARCH1), 2, 2]
    assert len(variances) == 1 + 2 * sum(ARCH1.depths)  # stem + two convs per block, no projections
    assert all(value > 0 for value in variances)


def test_resolution_override_changes_the_input() -> None:
    default = compute_zen_score(SPACE, ARCH1, **FAST)
    larger = compute_zen_score(SPACE, ARCH1, resolution=56, **FAST)
    assert larger.mean > default.mean  # four times as many output positions sum into the score


def test_zen_score_is_cached_by_code_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple] = []

    def counting(*args: object) -> ZenResult:
        calls.append(args)
        return compute_zen_score(*args)

    zen_module.clear_zen_cache()
    monkeypatch.setattr(zen_module, "compute_zen_score", counting)
    first = zen_score(SPACE, ARCH1, **FAST)
    again = zen_score(SPACE, SPACE.decode("1252233313000000223212122253130000000000006515000000"), **FAST)
    assert again is first and len(calls) == 1
    assert zen_score(SPACE, ARCH1, seed=1, **FAST) != first and len(calls) == 2
    zen_module.clear_zen_cache()
    assert zen_score(SPACE, ARCH1, **FAST) == first and len(calls) == 3


@pytest.mark.parametrize(
    "bad", [{"batch_size": 0}, {"repeats": 0}, {"gamma": 0.0}, {"resolution": 0}]
)
def test_bad_settings_are_user_errors(bad: dict) -> None:
    settings = {**FAST, **bad}
    with pytest.raises(HnasError, match="zen score"):
        compute_zen_score(SPACE, ARCH1, **settings)
