from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from hnas.cli import main

CODES = [f"1222{i % 3 + 1}{i % 3 + 1}" + "0" * 46 for i in range(30)]


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, list[float], list[float]]:
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.5, 0.8, 30).tolist()
    pred = (np.array(truth) + rng.normal(0, 0.05, 30)).tolist()
    gt = write(tmp_path / "gt.json", {f"arch{i}": t for i, t in enumerate(truth)})  # plain map
    sub = write(tmp_path / "sub.json", {f"arch{i}": {"acc": p, "arch": CODES[i]} for i, p in enumerate(pred)})
    return sub, gt, pred, truth


def test_score_prints_scipy_figures_and_writes_json_and_plot(files, tmp_path: Path, capsys) -> None:
    sub, gt, pred, truth = files
    plot, report = tmp_path / "s.png", tmp_path / "r.json"
    assert main(["score", str(sub), str(gt), "--top-k", "5", "0.5", "--plot", str(plot), "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "n:           30" in out and "precision@5:" in out and "precision@50%:" in out
    figures = json.loads(report.read_text())
    assert abs(figures["kendall_tau"] - stats.kendalltau(pred, truth)[0]) < 1e-9
    assert abs(figures["pearson"] - stats.pearsonr(pred, truth)[0]) < 1e-9
    assert abs(figures["spearman"] - stats.spearmanr(pred, truth)[0]) < 1e-9
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_missing_and_extra_keys_are_listed(files, tmp_path: Path, capsys) -> None:
    sub, gt, _, _ = files
    data = json.loads(sub.read_text())
    del data["arch3"]
    data["arch99"] = {"acc": 0.1, "arch": CODES[0]}
    partial = write(tmp_path / "partial.json", data)
    assert main(["score", str(partial), str(gt)]) == 0
    out = capsys.readouterr().out
    assert "n:           29" in out
    assert "missing (in GT, not in PRED): 1 (arch3)" in out
    assert "extra (in PRED, not in GT): 1 (arch99)" in out


def test_different_arch_strings_for_a_key_are_an_error(files, tmp_path: Path, capsys) -> None:
    sub, _, _, _ = files
    data = json.loads(sub.read_text())
    data["arch4"]["arch"] = CODES[5]
    other = write(tmp_path / "other.json", data)
    assert main(["score", str(sub), str(other)]) == 2
    assert "arch4:" in capsys.readouterr().err


def test_no_overlap_exits_non_zero(files, tmp_path: Path, capsys) -> None:
    sub, _, _, _ = files
    gt = write(tmp_path / "gt2.json", {"x1": 0.5, "x2": 0.6})
    assert main(["score", str(sub), str(gt)]) == 2
    captured = capsys.readouterr()
    assert "share no keys" in captured.err and "missing (in GT, not in PRED): 2 (x1, x2)" in captured.out


def test_a_bad_score_file_exits_2(files, tmp_path: Path, capsys) -> None:
    sub, _, _, _ = files
    truncated = tmp_path / "t.json"
    truncated.write_text(sub.read_text()[:-20])
    assert main(["score", str(truncated), str(sub)]) == 2
    assert "invalid JSON" in capsys.readouterr().err


def test_scoring_against_another_field(files, tmp_path: Path, capsys) -> None:
    sub, _, pred, _ = files
    flops = write(tmp_path / "flops.json",
                  {f"arch{i}": {"arch": CODES[i], "flops": 10 * p} for i, p in enumerate(pred)})
    assert main(["score", str(sub), str(flops), "--truth-field", "flops"]) == 0
    assert "kendall_tau: 1.000000" in capsys.readouterr().out
    assert main(["score", str(sub), str(flops), "--truth-field", "params"]) == 2
    assert "no finite number in field 'params'" in capsys.readouterr().err


def test_score_against_a_benchmark_reports_its_noise_ceiling(tmp_path: Path, capsys) -> None:
    from tests.benchmark.report_fixtures import make_ground_truth

    truth = make_ground_truth(tmp_path)
    ceiling = json.loads(truth.with_name("ground_truth.meta.json").read_text())["noise"]["kendall_tau"]
    assert main(["score", str(truth), str(truth)]) == 0
    assert f"seed-vs-seed Kendall tau): {ceiling:.4f}; tau / ceiling = {1 / ceiling:.2f}" in capsys.readouterr().out


def test_plain_truth_file_has_no_ceiling_line(files, capsys) -> None:
    sub, gt, _, _ = files
    assert main(["score", str(sub), str(gt)]) == 0
    assert "noise ceiling" not in capsys.readouterr().out
