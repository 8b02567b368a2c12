"""SPOS with cost bins (Guo et al., ECCV 2020; megvii-model/SinglePathOneShot).

Each step trains one path (role ``single``, cross-entropy with the labels). As in the
official supernet training, a cost bin is drawn uniformly first and then a subnet inside it
by bounded rejection from the base distribution
(:class:`~hnas.search_spaces.distributions.ConstrainedDistribution`, ``max_draws`` tries). So
every cost level is trained equally often, where plain uniform sampling (the ``uniform``
sampler) concentrates on the middle of the cost range.

Bins: ``bin_step`` cuts ``bin_range`` into bins of that width (official: ``[290, 360)`` MFLOPs,
step 10); otherwise ``bins`` equal bins over ``bin_range``. Without ``bin_range`` the range is
the central ``bin_quantiles`` of the cost of ``probe_draws`` base subnets (default 1 % to 99 %):
the space's smallest and largest subnets are so rare under uniform draws that bins at the
extremes could not be filled by rejection (on ``resnet48_tiny`` the smallest has 5.9 MFLOPs,
the 1 % quantile of 2,000 uniform draws 10.2 MFLOPs), which is also why the official range is a central one.

Bins the probe shows to be too rare for rejection (fewer than ``20 / max_draws`` of the probe,
i.e. a failure chance below ``e**-20`` per step) are refused at construction, before training,
with a message naming the option; so are empty ranges.
"""

from __future__ import annotations

import math
import random
from typing import Any, Sequence

from hnas.errors import HnasError
from hnas.samplers.base import SAMPLERS, SampledNet, Sampler
from hnas.samplers.costs import metric_cost
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.distributions import ConstrainedDistribution, Constraint

#: Expected hits per ``max_draws`` below which a bin is refused (failure chance ~ e**-20).
MIN_EXPECTED_HITS = 20.0


def bin_edges(low: float, high: float, bins: int | None = None, step: float | None = None) -> list[float]:
    """Edges of the bins over ``[low, high]``: width ``step`` (the last bin may be narrower) or ``bins`` equal bins."""
    if step is not None:
        count = max(1, math.ceil((high - low) / step - 1e-9))
        return [low + index * step for index in range(count)] + [high]
    assert bins is not None
    return [low + (high - low) * index / bins for index in range(bins)] + [high]


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (linear interpolation between order statistics)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


@SAMPLERS.register("spos")
class SposSampler(Sampler):
    """One path per step from a uniformly drawn cost bin.

    Args:
        space: the search space.
        seed: base seed of the per-step RNG (and of the probe).
        distribution: base distribution the paths are rejection-sampled from.
        metric: cost the bins cut (``flops``, ``params`` or a plugged-in one, see :mod:`hnas.samplers.costs`).
        bins: number of equal bins when ``bin_step`` is not given.
        bin_range: ``[low, high]`` of the binned cost; default: the ``bin_quantiles`` of the probe.
        bin_step: bin width (the official SPOS uses 10 MFLOPs).
        bin_quantiles: ``[q_low, q_high]`` of the probe's cost that make the default range.
        max_draws: rejection tries per step.
        probe_draws: base subnets drawn at construction to place the default range and check the bins.
    """

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        distribution: str = "uniform",
        metric: str = "flops",
        bins: int = 10,
        bin_range: Sequence[float] | None = None,
        bin_step: float | None = None,
        bin_quantiles: Sequence[float] = (0.01, 0.99),
        max_draws: int = 10_000,
        probe_draws: int = 2_000,
    ) -> None:
        super().__init__(space, seed, distribution)
        if bins < 1:
            raise HnasError(f"sampler.args.bins: must be >= 1, got {bins} (sampler 'spos')")
        if bin_step is not None and not bin_step > 0:
            raise HnasError(f"sampler.args.bin_step: must be > 0, got {bin_step} (sampler 'spos')")
        if max_draws < 1 or probe_draws < 1:
            raise HnasError(f"sampler.args.max_draws / probe_draws: must be >= 1, got {max_draws} / {probe_draws}")
        if len(bin_quantiles) != 2 or not 0 <= bin_quantiles[0] < bin_quantiles[1] <= 1:
            raise HnasError(f"sampler.args.bin_quantiles: need [q_low, q_high] with 0 <= q_low < q_high <= 1, "
                            f"got {list(bin_quantiles)}")
        self.metric = metric
        self.cost = metric_cost(space, metric, "sampler.args.metric")
        self.max_draws = max_draws
        self._bin_args = (bin_range, bin_step, bins, bin_quantiles, probe_draws)
        self._build_bins()

    def _build_bins(self) -> None:
        """The cost bins, placed from a probe of the distribution seeded by :attr:`seed`."""
        bin_range, bin_step, bins, bin_quantiles, probe_draws = self._bin_args
        metric, max_draws = self.metric, self.max_draws
        probe_rng = random.Random(f"hnas-spos-probe/{self.seed}")
        probe = [self.cost(self.dist.sample(probe_rng)) for _ in range(probe_draws)]
        low, high = self._range(bin_range, probe, bin_quantiles)
        self.edges = bin_edges(low, high, None if bin_step is not None else bins, bin_step)
        self.bins: list[ConstrainedDistribution] = []
        for index, (start, stop) in enumerate(zip(self.edges[:-1], self.edges[1:])):
            last = index == len(self.edges) - 2
            hits = sum(start <= value < stop or (last and value == stop) for value in probe)
            option = "bin_step" if bin_step is not None else "bins"
            if hits * max_draws / probe_draws < MIN_EXPECTED_HITS:
                raise HnasError(
                    f"sampler.args.{option}: {metric} bin [{start:g}, {stop:g}] holds {hits} of {probe_draws} "
                    f"{self.distribution!r} subnets, too few for rejection in max_draws={max_draws} tries; "
                    f"narrow sampler.args.bin_range (the probe spans {min(probe):g} to {max(probe):g}), "
                    "use fewer bins or raise max_draws"
                )
            # Half-open bins: the upper edge belongs to the next bin (ConstrainedDistribution bounds are
            # closed, so the edge is nudged down by one unit of the integer-valued costs).
            upper = stop if last else math.nextafter(stop, -math.inf)
            constraint = Constraint(metric, self.cost, start, upper)
            self.bins.append(ConstrainedDistribution(self.dist, [constraint], max_draws))

    def set_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the seed and distribution (the bins follow them: rebuilt when either changes)."""
        before = (self.seed, self.distribution)
        super().set_state_dict(state)
        if (self.seed, self.distribution) != before:
            self._build_bins()

    def _range(self, bin_range: Sequence[float] | None, probe: list[float],
               quantiles: Sequence[float]) -> tuple[float, float]:
        if bin_range is None:
            return quantile(probe, quantiles[0]), quantile(probe, quantiles[1])
        if len(bin_range) != 2 or not float(bin_range[0]) < float(bin_range[1]):
            raise HnasError(f"sampler.args.bin_range: need [low, high] with low < high, got {list(bin_range)} "
                            "(an empty range has no bins)")
        return float(bin_range[0]), float(bin_range[1])

    def sample(self, step: int, epoch: int) -> list[SampledNet]:
        rng = self.step_rng(step, epoch)
        chosen = self.bins[rng.randrange(len(self.bins))]
        return [SampledNet(chosen.sample(rng), "single")]

    def bin_of(self, spec: Any) -> int:
        """Index of the bin holding ``spec``'s cost (-1 outside the range)."""
        value = self.cost(spec)
        for index, (start, stop) in enumerate(zip(self.edges[:-1], self.edges[1:])):
            if start <= value < stop or (index == len(self.edges) - 2 and value == stop):
                return index
        return -1
