"""Noise ceiling: seed-vs-seed rank agreement and spread."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hnas.benchmark.noise import NoiseCeiling, noise_ceiling
from hnas.errors import HnasError


def test_identical_seeds_give_tau_one_and_the_spread() -> None:
    ceiling = noise_ceiling({"a": [0.5, 0.5], "b": [0.6, 0.6], "c": [0.9, 0.9]})
    assert ceiling.kendall_tau == pytest.approx(1.0)
    assert ceiling.spread == pytest.approx(0.4)
    assert ceiling.seed_std == pytest.approx(0.0)
    assert ceiling.arch_std == pytest.approx(np.std([0.5, 0.6, 0.9], ddof=1))
    assert (ceiling.archs, ceiling.seeds) == (3, 2)
    assert "arch std 20.82 points" in ceiling.summary()


def test_files_without_arch_std_still_load() -> None:
    ceiling = noise_ceiling({"a": [0.5, 0.5], "b": [0.6, 0.7]})
    old = {key: value for key, value in ceiling.to_dict().items() if key != "arch_std"}
    assert NoiseCeiling(**old).arch_std is None and "arch std" not in NoiseCeiling(**old).summary()


def test_reversed_seeds_give_tau_minus_one() -> None:
    ceiling = noise_ceiling({"a": [0.1, 0.3], "b": [0.2, 0.2], "c": [0.3, 0.1]})
    assert ceiling.kendall_tau == pytest.approx(-1.0)
    assert ceiling.spread == pytest.approx(0.0)
    assert ceiling.seed_std == pytest.approx(0.2 / 2 ** 0.5 * (2 / 3) ** 0.5)


def test_three_seeds_average_the_seed_pairs() -> None:
    ceiling = noise_ceiling({"a": [0.1, 0.1, 0.3], "b": [0.2, 0.2, 0.2], "c": [0.3, 0.3, 0.1]})
    assert ceiling.kendall_tau == pytest.approx((1 - 1 - 1) / 3)


@pytest.mark.parametrize("accs", [{"a": [0.1, 0.2]}, {"a": [0.1], "b": [0.2]}, {"a": [0.1, 0.2], "b": [0.3]}])
def test_too_little_data_is_an_error(accs: dict[str, list[float]]) -> None:
    with pytest.raises(HnasError, match="noise ceiling"):
        noise_ceiling(accs)


@pytest.mark.parametrize("noise", [0.5, 1.0])
def test_mean_ceiling_predicts_the_tau_of_the_true_values_against_the_seed_mean(noise: float) -> None:
    """Simulated archs: true value + seed noise. A ranking by the true values (noise-free) agrees
    with the 2-seed mean about as well as the estimate says, and better than seed with seed."""
    rng = np.random.default_rng(0)
    truth = rng.standard_normal(3000)
    seeds = truth[:, None] + noise * rng.standard_normal((3000, 2))
    ceiling = noise_ceiling({str(i): list(row) for i, row in enumerate(seeds)})
    achieved = stats.kendalltau(truth, seeds.mean(axis=1))[0]
    assert ceiling.mean_ceiling == pytest.approx(achieved, abs=0.02)
    assert ceiling.mean_ceiling > ceiling.kendall_tau + 0.05


def test_mean_ceiling_is_zero_without_seed_agreement() -> None:
    ceiling = noise_ceiling({"a": [0.1, 0.3], "b": [0.2, 0.2], "c": [0.3, 0.1]})
    assert ceiling.mean_ceiling == 0.0
