"""SPOS: cost bins drawn uniformly, each subnet inside its bin; bad bins refused at construction."""

from __future__ import annotations

from collections import Counter

import pytest
from scipy.stats import chisquare

from hnas.errors import HnasError
from hnas.samplers import SAMPLERS
from hnas.samplers.spos import bin_edges, quantile
from hnas.search_spaces import SPACES

SPACE = SPACES.get("resnet48_tiny")


def test_bins_are_drawn_uniformly() -> None:
    sampler = SAMPLERS.build("spos", space=SPACE, seed=0, bins=5)
    draws = 1000
    counts = Counter(sampler.bin_of(sampler.sample(step, 0)[0].spec) for step in range(draws))
    assert -1 not in counts
    observed = [counts[index] for index in range(5)]
    assert chisquare(observed).pvalue > 0.001, observed
    # Plain uniform sampling is far from flat over the same bins (the test can fail).
    uniform = SAMPLERS.build("uniform", space=SPACE, seed=0)
    plain = Counter(sampler.bin_of(uniform.sample(step, 0)[0].spec) for step in range(draws))
    assert chisquare([plain[index] for index in range(5)]).pvalue < 1e-6


def test_one_single_path_per_step_inside_its_bin_with_explicit_step() -> None:
    sampler = SAMPLERS.build("spos", space=SPACE, seed=1, bin_range=[14e6, 20e6], bin_step=2e6)
    assert sampler.edges == [14e6, 16e6, 18e6, 20e6]
    for step in range(30):
        nets = sampler.sample(step, 0)
        assert len(nets) == 1 and nets[0].role == "single"
        assert 14e6 <= SPACE.flops(nets[0].spec) <= 20e6


def test_edges_and_quantiles() -> None:
    assert bin_edges(0, 10, bins=4) == [0, 2.5, 5, 7.5, 10]
    assert bin_edges(0, 10, step=4) == [0, 4, 8, 10]
    assert quantile([1, 2, 3, 4, 5], 0.5) == 3 and quantile([0, 10], 0.25) == 2.5


@pytest.mark.parametrize(("args", "option"), [
    ({"bin_range": [20e6, 10e6]}, "bin_range"),
    ({"bin_range": [0, 1e6]}, "bins"),                      # below the smallest subnet
    ({"bin_range": [5e6, 37e6], "bins": 10}, "bins"),       # the extremes are too rare for rejection
    ({"bin_step": 0}, "bin_step"),
    ({"bins": 0}, "bins"),
    ({"metric": "latency"}, "metric"),
])
def test_bad_bins_are_refused_naming_the_option(args: dict, option: str) -> None:
    with pytest.raises(HnasError, match=rf"sampler\.args\.{option}"):
        SAMPLERS.build("spos", space=SPACE, seed=0, **args)
