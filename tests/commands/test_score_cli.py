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


def test_constant_predictions_are_refused(files, tmp_path: Path, capsys) -> None:
    _, gt, _, _ = files
    template = write(tmp_path / "zeros.json", {f"arch{i}": {"acc": 0.0, "arch": CODES[i]} for i in range(30)})
    assert main(["score", str(template), str(gt)]) == 2
    err = capsys.readouterr().err
    assert "are equal (0.0)" in err and "rank nothing" in err


def test_top_k_zero_message_has_a_single_percent_sign(files, capsys) -> None:
    sub, gt, _, _ = files
    with pytest.raises(SystemExit):
        main(["score", str(sub), str(gt), "--top-k", "0"])
    err = capsys.readouterr().err
    assert "top 20%)" in err and "%%" not in err


def test_bootstrap_gives_a_seeded_interval_around_tau(files, tmp_path: Path, capsys) -> None:
    sub, gt, pred, truth = files
    out = tmp_path / "r.json"
    assert main(["score", str(sub), str(gt), "--bootstrap", "200", "--seed", "3", "--json", str(out)]) == 0
    first = json.loads(out.read_text())["bootstrap"]
    low, high = first["kendall_tau"]
    assert low < stats.kendalltau(pred, truth)[0] < high and first["resamples"] == 200
    assert main(["score", str(sub), str(gt), "--bootstrap", "200", "--seed", "3", "--json", str(out), "--force"]) == 0
    assert json.loads(out.read_text())["bootstrap"] == first
    assert "kendall_tau 95% CI: [" in capsys.readouterr().out
    assert main(["score", str(sub), str(gt), "--bootstrap", "0"]) == 2


def test_plot_ranks_writes_a_png(files, tmp_path: Path) -> None:
    sub, gt, _, _ = files
    plot = tmp_path / "ranks.png"
    assert main(["score", str(sub), str(gt), "--plot-ranks", str(plot)]) == 0
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_plot_into_a_missing_folder_is_refused_before_scoring(files, tmp_path: Path, capsys) -> None:
    sub, gt, _, _ = files
    assert main(["score", str(sub), str(gt), "--plot", str(tmp_path / "typo" / "s.png")]) == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "typo").exists()


def test_no_shared_keys_says_whether_the_key_formats_differ(files, tmp_path: Path, capsys) -> None:
    sub, _, _, _ = files
    numbered = write(tmp_path / "n.json", {str(i): 0.1 * i for i in range(5)})
    assert main(["score", str(sub), str(numbered)]) == 2
    assert "the key formats differ: PRED keys look like archN, GT keys like N" in capsys.readouterr().err
    other = write(tmp_path / "o.json", {f"arch{100 + i}": 0.1 * i for i in range(5)})
    assert main(["score", str(sub), str(other)]) == 2
    assert "key formats are alike" in capsys.readouterr().err


def test_prior_writes_a_scorable_file(tmp_path: Path, capsys) -> None:
    codes = ["1558511111111111111111111111111111111111111111111111",
             "1558522222222222222222222222222222222222222222222222",
             "1252233313000000223212122253130000000000006515000000"]
    archs = write(tmp_path / "archs.json", {f"a{i}": {"acc": 0.5 + 0.1 * i, "arch": c} for i, c in enumerate(codes)})
    out = tmp_path / "params.json"
    assert main(["prior", "params", "--json", str(archs), "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert list(written) == ["a0", "a1", "a2"] and written["a0"]["acc"] > written["a1"]["acc"]
    assert main(["score", str(out), str(archs)]) == 0
    same_depth = write(tmp_path / "same.json", {f"a{i}": {"acc": 0.0, "arch": c} for i, c in enumerate(codes[:2])})
    assert main(["prior", "depth", "--json", str(same_depth)]) == 2
    assert "same value" in capsys.readouterr().err
