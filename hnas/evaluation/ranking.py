"""Ranking fidelity: how well predicted scores order architectures like their true accuracies.

The competition scores a submission by Kendall's tau (leaderboard B) and |Pearson| (leaderboard A)
against stand-alone accuracies; Spearman's rho and the precision of the top-k are the usual
companions. Correlations come from :mod:`scipy.stats`, imported on first use like matplotlib.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from hnas.io.atomic import atomic_write_bytes

#: Default top-k sizes: the 10 best and the best 20 %.
DEFAULT_TOP_K: tuple[float, ...] = (10, 0.2)


@dataclass(frozen=True)
class TopKPrecision:
    """Fraction of the true top-``k`` that is also in the predicted top-``k``.

    Attributes:
        label: how ``k`` was asked for (``"10"`` or ``"20%"``).
        k: number of architectures in each top set.
        precision: overlap size divided by ``k``, in [0, 1] (``nan`` when ``k`` is 0).
    """

    label: str
    k: int
    precision: float


@dataclass(frozen=True)
class RankReport:
    """Agreement between predicted and true scores on their common keys.

    Attributes:
        n: number of keys present in both.
        kendall_tau: Kendall's tau-b (``scipy.stats.kendalltau``).
        pearson: Pearson's r of the raw values.
        spearman: Spearman's rho.
        top_k: precision of the top-k, one entry per requested k.
        missing: keys of the ground truth without a prediction, in ground-truth order.
        extra: predicted keys without ground truth, in prediction order.

    Correlations are ``nan`` when fewer than 2 keys are shared or one side is constant.
    """

    n: int
    kendall_tau: float
    pearson: float
    spearman: float
    top_k: tuple[TopKPrecision, ...] = ()
    missing: tuple[str, ...] = field(default=())
    extra: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly form (``nan`` becomes ``None``)."""

        def clean(value: float) -> float | None:
            return None if math.isnan(value) else value

        return {
            "n": self.n,
            "kendall_tau": clean(self.kendall_tau),
            "pearson": clean(self.pearson),
            "spearman": clean(self.spearman),
            "top_k": [
                {"label": item.label, "k": item.k, "precision": clean(item.precision)} for item in self.top_k
            ],
            "missing": list(self.missing),
            "extra": list(self.extra),
        }

    def summary(self) -> str:
        """One line with the headline figures, e.g. for a plot title."""
        parts = [
            f"n={self.n}",
            f"tau={self.kendall_tau:.4f}",
            f"pearson={self.pearson:.4f}",
            f"spearman={self.spearman:.4f}",
        ]
        parts += [f"P@{item.label}={item.precision:.3f}" for item in self.top_k]
        return "  ".join(parts)


def resolve_k(k: float, n: int) -> tuple[str, int]:
    """Turn a top-k request into ``(label, count)``.

    An integer ``k >= 1`` is a count (capped at ``n``); a float in (0, 1) is a fraction of ``n``,
    rounded to the nearest integer but at least 1 when ``n > 0``.

    Raises:
        ValueError: for ``k <= 0``, or a non-integer ``k >= 1``.
    """
    if k <= 0:
        raise ValueError(f"top-k must be positive, got {k}")
    if k < 1:
        count = max(1, round(k * n)) if n else 0
        return f"{k * 100:g}%", count
    if k != int(k):
        raise ValueError(f"top-k must be a count (integer >= 1) or a fraction in (0, 1), got {k}")
    return str(int(k)), min(int(k), n)


def top_k_keys(scores: Mapping[str, float], k: int) -> set[str]:
    """The ``k`` keys with the highest scores; ties are broken by key order in ``scores``."""
    ranked = sorted(enumerate(scores.items()), key=lambda item: (-item[1][1], item[0]))
    return {key for _, (key, _) in ranked[:k]}


def top_k_precision(pred: Mapping[str, float], truth: Mapping[str, float], k: int) -> float:
    """|true top-k ∩ predicted top-k| / k over the keys of ``truth`` (``nan`` for ``k == 0``)."""
    if k == 0:
        return math.nan
    return len(top_k_keys(pred, k) & top_k_keys(truth, k)) / k


def _correlation(function: Callable[[np.ndarray, np.ndarray], Sequence[float]], x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2:
        return math.nan
    with warnings.catch_warnings():
        # Constant input: scipy warns and returns nan, which is the answer we report.
        warnings.simplefilter("ignore")
        return float(function(x, y)[0])


def rank_metrics(
    pred: Mapping[str, float],
    truth: Mapping[str, float],
    top_k: Sequence[float] = DEFAULT_TOP_K,
) -> RankReport:
    """Compare predicted scores with true accuracies on the keys they share.

    Args:
        pred: predicted score per architecture key (any monotone proxy of accuracy).
        truth: true (stand-alone) accuracy per key.
        top_k: top-set sizes, each a count (``10``) or a fraction of the shared keys (``0.2``).

    Returns:
        A :class:`RankReport`; keys present on one side only are listed, not scored.
    """
    from scipy import stats  # imported here so that the CLI parser (DEFAULT_TOP_K, resolve_k) stays light

    common = [key for key in truth if key in pred]
    x = np.array([pred[key] for key in common], dtype=np.float64)
    y = np.array([truth[key] for key in common], dtype=np.float64)
    shared_pred = {key: float(pred[key]) for key in common}
    shared_truth = {key: float(truth[key]) for key in common}
    precisions = []
    for request in top_k:
        label, count = resolve_k(request, len(common))
        precisions.append(TopKPrecision(label, count, top_k_precision(shared_pred, shared_truth, count)))
    return RankReport(
        n=len(common),
        kendall_tau=_correlation(lambda a, b: stats.kendalltau(a, b, variant="b"), x, y),
        pearson=_correlation(stats.pearsonr, x, y),
        spearman=_correlation(stats.spearmanr, x, y),
        top_k=tuple(precisions),
        missing=tuple(key for key in truth if key not in pred),
        extra=tuple(key for key in pred if key not in truth),
    )


def scatter_plot(
    pred: Mapping[str, float],
    truth: Mapping[str, float],
    path: str | Path,
    title: str = "",
    xlabel: str = "predicted score",
    ylabel: str = "true accuracy",
) -> Path:
    """Write a scatter of predicted (x) against true (y) scores on the shared keys to ``path``.

    The title gets the headline figures of :func:`rank_metrics` appended. Matplotlib is imported
    here, with the non-interactive Agg backend, so importing this module stays cheap.
    """
    common = [key for key in truth if key in pred]
    return _plot_points([pred[key] for key in common], [truth[key] for key in common],
                        rank_metrics(pred, truth), path, title, xlabel, ylabel)


def ranks_of(values: Sequence[float]) -> np.ndarray:
    """1-based ranks, highest value first; ties get their average rank (``scipy.stats.rankdata``)."""
    from scipy import stats

    return stats.rankdata([-value for value in values], method="average")


def rank_plot(
    pred: Mapping[str, float],
    truth: Mapping[str, float],
    path: str | Path,
    title: str = "",
) -> Path:
    """Write predicted rank (x) against true rank (y), rank 1 = best, on the shared keys.

    Ranks spread the points evenly, so a 15,625-point cloud stays readable where raw scores
    pile up; a perfect ranking is the diagonal.
    """
    common = [key for key in truth if key in pred]
    x = ranks_of([pred[key] for key in common])
    y = ranks_of([truth[key] for key in common])
    return _plot_points(x.tolist(), y.tolist(), rank_metrics(pred, truth), path, title,
                        "predicted rank (1 = best)", "true rank (1 = best)", diagonal=True)


def _plot_points(
    x: Sequence[float],
    y: Sequence[float],
    report: RankReport,
    path: str | Path,
    title: str,
    xlabel: str,
    ylabel: str,
    diagonal: bool = False,
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 6))
    try:
        size, alpha = (6, 0.6) if len(x) <= 2000 else (1, 0.3)
        axes.scatter(x, y, s=size, alpha=alpha)
        if diagonal and len(x):
            axes.plot([1, len(x)], [1, len(x)], color="grey", linewidth=0.8)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        figures = f"n={report.n}  tau={report.kendall_tau:.4f}  r={report.pearson:.4f}  rho={report.spearman:.4f}"
        axes.set_title(f"{title}\n{figures}" if title else figures, fontsize=10)
        axes.grid(alpha=0.3)
        figure.tight_layout()
        buffer = io.BytesIO()
        suffix = Path(path).suffix.lstrip(".").lower() or "png"
        figure.savefig(buffer, format=suffix, dpi=120)
    finally:
        plt.close(figure)
    target = Path(path)
    atomic_write_bytes(target, buffer.getvalue())
    return target
