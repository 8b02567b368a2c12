"""The noise ceiling of a ground truth: how well one seed's accuracies rank the archs of another.

The seed-vs-seed Kendall tau is the ceiling a supernet's tau is compared with: it says how
much of the ranking survives retraining. A ranking method is scored against the *mean* over
the seeds, which is less noisy than one seed, so a method that tracks the archs' true
(noise-free) accuracy can exceed it; :attr:`NoiseCeiling.mean_ceiling` estimates how far.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import stats

from hnas.errors import HnasError


@dataclass(frozen=True)
class NoiseCeiling:
    """Seed-vs-seed agreement and spread of a ground truth.

    Attributes:
        archs: archs with an accuracy for every seed.
        seeds: seeds per arch.
        kendall_tau: Kendall tau between the accuracies of two seeds (mean over seed pairs).
        spearman: Spearman rho between two seeds (mean over seed pairs).
        pearson: Pearson r between two seeds (mean over seed pairs).
        spread: max minus min of the seed-mean accuracy, in accuracy units (0.05 = 5 points).
        mean_acc: mean of the seed-mean accuracies.
        seed_std: root-mean-square over archs of the per-arch standard deviation across seeds
            (sample std, ``ddof=1``): the typical seed noise of one accuracy.
        arch_std: sample std over archs of the seed-mean accuracy (which still holds about
            ``seed_std / sqrt(seeds)`` of seed noise): the seeds agree on the order of the archs
            when it is well above ``seed_std``. ``None`` in files written before it was recorded.
    """

    archs: int
    seeds: int
    kendall_tau: float
    spearman: float
    pearson: float
    spread: float
    mean_acc: float
    seed_std: float
    arch_std: float | None = None

    @property
    def mean_ceiling(self) -> float:
        """Estimated Kendall tau of a perfect (noise-free) ranking against the seed-mean accuracy.

        Model: each accuracy is the arch's true value plus independent, equal seed noise. Then
        ``pearson`` is the reliability of one seed, the Spearman-Brown formula gives that of the
        mean of ``seeds`` seeds, ``r_S = S r / (1 + (S - 1) r)``; a noise-free ranking
        correlates with the mean by ``sqrt(r_S)``, which is turned into Kendall tau with
        Greiner's relation for normal scores, ``tau = (2 / pi) asin(rho)``. An estimate, not
        a bound: 0 when the seeds do not agree at all.
        """
        r = self.pearson
        if not r > 0:
            return 0.0
        reliability = self.seeds * r / (1 + (self.seeds - 1) * r)
        return 2 / math.pi * math.asin(math.sqrt(min(1.0, reliability)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return (f"{self.archs} archs x {self.seeds} seeds: seed-vs-seed Kendall tau "
                f"{self.kendall_tau:.3f} (Spearman {self.spearman:.3f}, Pearson {self.pearson:.3f}); "
                f"estimated tau of a noise-free ranking vs the {self.seeds}-seed mean {self.mean_ceiling:.3f}; "
                f"mean acc {100 * self.mean_acc:.2f} %, spread {100 * self.spread:.2f} points, "
                f"seed std {100 * self.seed_std:.2f} points"
                + ("" if self.arch_std is None else f", arch std {100 * self.arch_std:.2f} points"))


def noise_ceiling(accs: Mapping[str, Sequence[float]]) -> NoiseCeiling:
    """Noise ceiling from per-seed accuracies ``{key: [acc of seed 1, acc of seed 2, ...]}``.

    Raises:
        HnasError: fewer than 2 archs, fewer than 2 seeds, or archs with different seed counts.
    """
    counts = {len(values) for values in accs.values()}
    if len(accs) < 2 or len(counts) != 1 or min(counts) < 2:
        raise HnasError(f"noise ceiling needs >= 2 archs with the same number (>= 2) of seeds; "
                        f"got {len(accs)} archs with seed counts {sorted(counts)}")
    table = np.asarray(list(accs.values()), dtype=np.float64)  # [archs, seeds]
    pairs = list(itertools.combinations(range(table.shape[1]), 2))

    def mean_over_pairs(function: Any) -> float:
        with warnings.catch_warnings():  # constant columns give nan, counted as no agreement
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            values = [function(table[:, a], table[:, b])[0] for a, b in pairs]
        return float(np.mean([0.0 if np.isnan(v) else v for v in values]))

    means = table.mean(axis=1)
    return NoiseCeiling(
        archs=table.shape[0],
        seeds=table.shape[1],
        kendall_tau=mean_over_pairs(stats.kendalltau),
        spearman=mean_over_pairs(stats.spearmanr),
        pearson=mean_over_pairs(stats.pearsonr),
        spread=float(means.max() - means.min()),
        mean_acc=float(means.mean()),
        seed_std=float(np.sqrt(np.mean(table.std(axis=1, ddof=1) ** 2))),
        arch_std=float(means.std(ddof=1)),
    )
