from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from hnas.evaluation.ranking import rank_metrics, resolve_k, scatter_plot, top_k_precision


def random_scores(n: int, seed: int, ties: bool = False) -> tuple[dict[str, float], dict[str, float]]:
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=n)
    pred = truth + rng.normal(scale=0.7, size=n)
    if ties:
        truth, pred = np.round(truth, 1), np.round(pred, 1)
    keys = [f"arch{i}" for i in range(n)]
    return dict(zip(keys, pred.tolist())), dict(zip(keys, truth.tolist()))


@pytest.mark.parametrize("ties", [False, True])
def test_correlations_equal_scipy(ties: bool) -> None:
    pred, truth = random_scores(300, seed=1, ties=ties)
    report = rank_metrics(pred, truth)
    x, y = list(pred.values()), list(truth.values())
    assert report.n == 300
    assert abs(report.kendall_tau - stats.kendalltau(x, y, variant="b")[0]) < 1e-9
    assert abs(report.pearson - stats.pearsonr(x, y)[0]) < 1e-9
    assert abs(report.spearman - stats.spearmanr(x, y)[0]) < 1e-9


def test_join_ignores_key_order_and_reports_missing_and_extra() -> None:
    pred, truth = random_scores(50, seed=2)
    shuffled = dict(reversed(list(pred.items())))
    del shuffled["arch3"], shuffled["arch7"]
    shuffled["zzz"] = 1.0
    report = rank_metrics(shuffled, truth)
    common = [key for key in truth if key in shuffled]
    assert report.n == 48
    assert report.missing == ("arch3", "arch7")
    assert report.extra == ("zzz",)
    expected = stats.kendalltau([shuffled[k] for k in common], [truth[k] for k in common])[0]
    assert abs(report.kendall_tau - expected) < 1e-9


def test_top_k_precision_counts_the_overlap_of_the_top_sets() -> None:
    truth = {"a": 5.0, "b": 4.0, "c": 3.0, "d": 2.0, "e": 1.0}
    pred = {"a": 1.0, "b": 9.0, "c": 8.0, "d": 0.0, "e": 7.0}  # predicted top-2: b, c
    assert top_k_precision(pred, truth, 2) == 0.5  # true top-2: a, b
    assert top_k_precision(pred, truth, 5) == 1.0
    report = rank_metrics(pred, truth, top_k=(2, 0.6))
    assert [(item.label, item.k, item.precision) for item in report.top_k] == [("2", 2, 0.5), ("60%", 3, 2 / 3)]


def test_resolve_k() -> None:
    assert resolve_k(10, 45000) == ("10", 10)
    assert resolve_k(10, 4) == ("10", 4)
    assert resolve_k(0.2, 45000) == ("20%", 9000)
    assert resolve_k(0.01, 10) == ("1%", 1)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError):
            resolve_k(bad, 10)


def test_degenerate_inputs_give_nan_not_errors() -> None:
    report = rank_metrics({"a": 1.0, "b": 1.0}, {"a": 0.1, "b": 0.2})
    assert math.isnan(report.pearson) and math.isnan(report.kendall_tau)
    empty = rank_metrics({"x": 1.0}, {"y": 2.0})
    assert empty.n == 0 and empty.missing == ("y",) and empty.extra == ("x",)
    assert empty.to_dict()["kendall_tau"] is None


def test_scatter_plot_writes_a_png(tmp_path: Path) -> None:
    pred, truth = random_scores(40, seed=3)
    path = scatter_plot(pred, truth, tmp_path / "plots" / "scatter.png", title="demo")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp files left
