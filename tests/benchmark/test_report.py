"""``build_report`` and its rendering on a tiny synthetic ground truth."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from scipy import stats

from hnas.benchmark import report as report_module
from hnas.benchmark.methods import Method, select_methods
from hnas.benchmark.render import COST_PNG, REPORT_JSON, REPORT_MD, SCATTER_PNG, TAU_PNG, write_report
from hnas.benchmark.report import ReportSettings, build_report
from hnas.benchmark.truth import read_ground_truth
from hnas.errors import HnasError
from hnas.evaluation.scoring import load_scores
from tests.benchmark.report_fixtures import TINY_TRAINING, make_ground_truth

UNIFORM = select_methods(["uniform"])[0]


def settings_for(tmp_path: Path, *extra: str, **changes) -> ReportSettings:
    values = dict(runs_dir=tmp_path / "runs", seeds=(0,), overrides=(*TINY_TRAINING, *extra), val_images=16,
                  recal_batches=1, recal_batch_size=8, top_k=(2,))
    values.update(changes)
    return ReportSettings(**values)


@pytest.fixture()
def truth(tmp_path: Path):
    return read_ground_truth(make_ground_truth(tmp_path / "gt"))


def test_prior_scores_match_scipy(tmp_path: Path, truth) -> None:
    report = build_report(truth, select_methods(["flops", "params"]), settings_for(tmp_path))
    flops_score = report.scores[0]
    preds = load_scores(flops_score.runs[0].pred_path)
    keys = list(truth.entries)
    expected = stats.kendalltau([preds[k] for k in keys], [truth.accs[k] for k in keys])[0]
    assert flops_score.runs[0].metrics.kendall_tau == pytest.approx(expected, abs=1e-12)
    assert flops_score.runs[0].metrics.n == len(keys)
    assert report.best_supernet() is None


def test_supernet_run_is_trained_evaluated_and_then_reused(tmp_path: Path, truth, monkeypatch) -> None:
    settings = settings_for(tmp_path)
    first = build_report(truth, [UNIFORM], settings)
    run = first.scores[0].runs[0]
    assert run.seed == 0 and run.metrics.n == len(truth.entries) and run.train_seconds > 0
    assert set(load_scores(run.pred_path)) == set(truth.entries)
    record = json.loads((tmp_path / "runs" / "uniform" / "seed0" / "result.json").read_text())
    assert "sampler:\n  name: uniform" in record["config"]
    assert "name: synthetic" in record["config"]  # trained on the ground truth's data

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run must be reused, not retrained")

    monkeypatch.setattr("hnas.engine.trainer.train", no_training)
    again = build_report(truth, [UNIFORM], settings)
    assert again.scores[0].runs[0].metrics == run.metrics
    assert again.scores[0].runs[0].reused and not run.reused


def test_changed_settings_do_not_reuse_a_run(tmp_path: Path, truth) -> None:
    build_report(truth, [UNIFORM], settings_for(tmp_path))
    with pytest.raises(HnasError, match="other settings; pass --restart"):
        build_report(truth, [UNIFORM], settings_for(tmp_path, recal_batches=2))
    restarted = build_report(truth, [UNIFORM], settings_for(tmp_path, recal_batches=2, restart=True))
    assert restarted.scores[0].runs[0].metrics.n == len(truth.entries)


def test_changed_training_config_does_not_reuse_a_run(tmp_path: Path, truth) -> None:
    build_report(truth, [UNIFORM], settings_for(tmp_path))
    with pytest.raises(HnasError, match="other settings; pass --restart"):
        build_report(truth, [UNIFORM], settings_for(tmp_path, "optim.lr=0.5"))


def test_a_moved_runs_folder_is_reused(tmp_path: Path, truth, monkeypatch) -> None:
    first = build_report(truth, [UNIFORM], settings_for(tmp_path))
    moved = tmp_path / "moved"
    (tmp_path / "runs").rename(moved)

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run must be reused, not retrained")

    monkeypatch.setattr("hnas.engine.trainer.train", no_training)
    again = build_report(truth, [UNIFORM], settings_for(tmp_path, runs_dir=moved))
    assert again.scores[0].runs[0].metrics == first.scores[0].runs[0].metrics


def test_a_record_from_before_a_config_key_existed_is_not_reused(tmp_path: Path, truth) -> None:
    """Today's default of a new key need not be what the old run did, so the run is redone."""
    build_report(truth, [UNIFORM], settings_for(tmp_path))
    result = tmp_path / "runs" / "uniform" / "seed0" / "result.json"
    record = json.loads(result.read_text())
    assert "  student_label_weight: 1.0\n" in record["config"]
    record["config"] = record["config"].replace("  student_label_weight: 1.0\n", "")
    result.write_text(json.dumps(record))
    with pytest.raises(HnasError, match="other settings; pass --restart"):
        build_report(truth, [UNIFORM], settings_for(tmp_path))


def test_a_record_from_before_a_behaviour_preserving_key_existed_is_reused(tmp_path: Path, truth) -> None:
    first = build_report(truth, [UNIFORM], settings_for(tmp_path))
    result = tmp_path / "runs" / "uniform" / "seed0" / "result.json"
    record = json.loads(result.read_text())
    assert "  teacher: inplace\n" in record["config"] and "  ema_decay: 0.997\n" in record["config"]
    assert "\ngate: null\n" in record["config"]  # a whole section added later (DS-Net stage II)
    record["config"] = (record["config"].replace("  teacher: inplace\n", "").replace("  ema_decay: 0.997\n", "")
                        .replace("\ngate: null\n", "\n"))
    result.write_text(json.dumps(record))
    again = build_report(truth, [UNIFORM], settings_for(tmp_path))
    assert again.scores[0].runs[0].reused and again.scores[0].runs[0].metrics == first.scores[0].runs[0].metrics
    # ... but only while the run asks for the default
    with pytest.raises(HnasError, match="other settings; pass --restart"):
        build_report(truth, [UNIFORM], settings_for(tmp_path, "loss.teacher=ema"))


def test_data_override_away_from_ground_truth_is_refused(tmp_path: Path, truth) -> None:
    with pytest.raises(HnasError, match="changed the data"):
        build_report(truth, [UNIFORM], settings_for(tmp_path, "data.args.num_images=64"))
    assert not (tmp_path / "runs").exists()  # checked before any training


def test_interrupted_training_resumes(tmp_path: Path, truth, monkeypatch) -> None:
    settings = settings_for(tmp_path)
    cfg = report_module.supernet_config(UNIFORM, 0, truth, settings)
    from hnas.engine.trainer import train

    train(cfg)  # as if killed after training, before the evaluation finished
    calls = []
    real_train = train

    def spy(cfg, resume=False, overwrite=False):
        calls.append(resume)
        return real_train(cfg, resume=resume, overwrite=overwrite)

    monkeypatch.setattr("hnas.engine.trainer.train", spy)
    report = build_report(truth, [UNIFORM], settings)
    assert calls == [True]
    assert report.scores[0].runs[0].resumed


def test_written_outputs(tmp_path: Path, truth) -> None:
    methods = [*select_methods(["flops"]), UNIFORM]
    report = build_report(truth, methods, settings_for(tmp_path, seeds=(0, 1)))
    paths = write_report(report, tmp_path / "out", "hnas bench report --test")
    assert {p.name for p in paths} == {REPORT_MD, REPORT_JSON, TAU_PNG, COST_PNG, SCATTER_PNG}
    markdown = (tmp_path / "out" / REPORT_MD).read_text()
    assert f"noise ceiling (seed-vs-seed Kendall τ) {truth.noise.kendall_tau:.3f}" in markdown
    assert "| `uniform` | supernet ×2 |" in markdown and "±" in markdown and "% |" in markdown
    assert "hnas bench report --test" in markdown
    figures = json.loads((tmp_path / "out" / REPORT_JSON).read_text())
    assert [m["name"] for m in figures["methods"]] == ["flops", "uniform"]
    assert [r["seed"] for r in figures["methods"][1]["runs"]] == [0, 1]
    assert (tmp_path / "out" / TAU_PNG).read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "out" / COST_PNG).read_bytes()[:4] == b"\x89PNG"


def test_verdict_names_the_best_supernet(tmp_path: Path, truth) -> None:
    from hnas.benchmark.render import verdict

    report = build_report(truth, [*select_methods(["flops"]), UNIFORM], settings_for(tmp_path))
    text = verdict(report)
    assert text.startswith("Best supernet: `uniform`") and "Best prior: `flops`" in text


def test_settings_checks() -> None:
    with pytest.raises(HnasError, match="seeds"):
        ReportSettings(seeds=())
    with pytest.raises(HnasError, match="val_images"):
        ReportSettings(val_images=0)
    with pytest.raises(HnasError, match="workers"):
        ReportSettings(workers=0)
    assert Method("x", "y", prior="flops").is_prior


def test_verdict_flags_a_supernet_at_chance(tmp_path: Path, truth) -> None:
    from hnas.benchmark.render import verdict

    report = build_report(truth, [UNIFORM], settings_for(tmp_path))
    mean = report.scores[0].mean_acc
    text = verdict(report)
    assert mean is not None and 0 <= mean <= 1
    assert ("has not learned" in text) == (mean < 2 / truth.space.num_classes)


@pytest.mark.skipif(os.environ.get("OMP_NUM_THREADS", "1") != "1",
                    reason="a serial run here uses more CPU threads than the workers' one, which changes results")
def test_runs_in_worker_processes_equal_serial_runs(tmp_path: Path, truth) -> None:
    methods = [*select_methods(["flops"]), UNIFORM, *select_methods(["sandwich"])]
    serial = build_report(truth, methods, settings_for(tmp_path / "serial", seeds=(0, 1)))
    parallel = build_report(truth, methods, settings_for(tmp_path / "parallel", seeds=(0, 1), workers=2))
    assert [score.method.name for score in parallel.scores] == ["flops", "uniform", "sandwich"]
    for one, other in zip(serial.scores, parallel.scores):
        assert [run.seed for run in other.runs] == [run.seed for run in one.runs]  # in seed order
        for run, twin in zip(one.runs, other.runs):
            assert load_scores(twin.pred_path) == load_scores(run.pred_path)
            assert twin.metrics == run.metrics
    assert (tmp_path / "parallel" / "runs" / "sandwich" / "seed1" / "result.json").is_file()


def test_parallel_workers_refuse_a_gpu_config(tmp_path: Path, truth) -> None:
    with pytest.raises(HnasError, match="device 'gpu'.*--workers 1"):
        build_report(truth, [UNIFORM], settings_for(tmp_path, "device=gpu", workers=2))
    assert not (tmp_path / "runs").exists()


def _method_score(name: str, taus: list[float], prior: bool = False):
    """A MethodScore whose runs have the given Kendall taus (predictions built to reach them)."""
    from hnas.benchmark.report import MethodScore, RunScore
    from hnas.evaluation.ranking import RankReport

    runs = tuple(RunScore(None if prior else seed, RankReport(n=10, kendall_tau=tau, pearson=tau, spearman=tau),
                          1.0, 0.0, Path("x.json"), mean_acc=None if prior else 0.8)
                 for seed, tau in enumerate(taus))
    method = Method(name, name, prior="flops") if prior else Method(name, name, overrides=("seed=0",))
    return MethodScore(method, runs)


def test_beyond_seed_spread_is_non_overlapping_mean_std_intervals() -> None:
    from hnas.benchmark.report import beyond_seed_spread

    high = _method_score("high", [0.50, 0.52, 0.54])  # 0.52 ± 0.02
    low = _method_score("low", [0.40, 0.42, 0.44])  # 0.42 ± 0.02: gap 0.10 > 0.04
    near = _method_score("near", [0.47, 0.49, 0.51])  # 0.49 ± 0.02: gap 0.03 < 0.04
    assert beyond_seed_spread(high, low) is True and beyond_seed_spread(low, high) is True
    assert beyond_seed_spread(high, near) is False
    assert beyond_seed_spread(high, _method_score("one", [0.1])) is None  # one seed: spread unknown
    assert beyond_seed_spread(high, _method_score("prior", [0.45], prior=True)) is True  # a prior has no seed


def test_report_says_what_the_ground_truth_measures_and_which_gaps_are_real(tmp_path: Path, truth) -> None:
    from hnas.benchmark.render import markdown_report, spread_lines
    from hnas.benchmark.report import Report

    report = Report(truth, settings_for(tmp_path))
    report.scores = [_method_score("depth", [-0.6], prior=True), _method_score("a", [0.50, 0.52, 0.54]),
                     _method_score("b", [0.40, 0.42, 0.44]), _method_score("c", [0.47, 0.49, 0.51])]
    markdown = markdown_report(report, "hnas bench report --test")
    assert "depth prior (more active blocks ranks higher) reaches τ -0.60" in markdown
    assert "never to choose the competition's defaults" in markdown
    assert "Its lead over the next, `c`" in markdown and "is within the seed spread" in markdown
    lines = spread_lines(report)
    assert "- `a` (τ 0.520 ± 0.020): above `b`; not separable from `c`." in lines
    assert "- `c` (τ 0.490 ± 0.020): above `b`; not separable from `a`." in lines
    assert "- `b` (τ 0.420 ± 0.020): above none." in lines
    report.scores = [_method_score("a", [0.5]), _method_score("b", [0.4])]
    assert "run `--seeds 3`" in spread_lines(report)[0]


def test_finished_only_scores_the_finished_runs_and_trains_nothing(tmp_path: Path, truth, monkeypatch) -> None:
    from hnas.benchmark.render import markdown_report

    build_report(truth, [UNIFORM], settings_for(tmp_path))  # seed 0 finished

    def no_training(*args, **kwargs):
        raise AssertionError("--finished-only must not train")

    monkeypatch.setattr("hnas.engine.trainer.train", no_training)
    methods = [*select_methods(["flops"]), UNIFORM, *select_methods(["sandwich"])]
    report = build_report(truth, methods, settings_for(tmp_path, seeds=(0, 1), finished_only=True, workers=2))
    assert [score.method.name for score in report.scores] == ["flops", "uniform"]
    assert [run.seed for run in report.scores[1].runs] == [0]
    assert report.missing == [("sandwich", 0), ("uniform", 1), ("sandwich", 1)]  # seed-major
    markdown = markdown_report(report, "hnas bench report --finished-only")
    assert "**Interim report** (`--finished-only`): 3 supernet runs" in markdown
    assert "`sandwich` seeds 0, 1; `uniform` seed 1" in markdown
    with pytest.raises(HnasError, match="choose one"):
        settings_for(tmp_path, restart=True, finished_only=True)


def test_a_few_shot_method_scores_through_its_parts(tmp_path: Path, truth, monkeypatch) -> None:
    from hnas.benchmark.methods import FewShotStage
    from hnas.checkpoints.fewshot import read_manifest

    method = Method("fs", "few-shot", overrides=("sampler.name=sandwich", "sampler.args.num_random=1"),
                    fewshot=FewShotStage(split="depth3=2,3,4,5/6,7,8", epochs=1))
    settings = settings_for(tmp_path, "max_steps=0")  # the parts finish their epoch (4 steps)
    first = build_report(truth, [method], settings)
    run_dir = tmp_path / "runs" / "fs" / "seed0"
    manifest = read_manifest(run_dir / "fewshot")
    assert manifest.split.describe() == "depth3=2,3,4,5/6,7,8" and manifest.parent == (run_dir / "last").resolve()
    assert all((manifest.part_dir(index) / "last" / "model.pdparams").is_file() for index in range(2))
    record = json.loads((run_dir / "result.json").read_text())
    assert record["eval"]["fewshot"] == {"split": "depth3=2,3,4,5/6,7,8", "epochs": 1}
    assert set(load_scores(first.scores[0].runs[0].pred_path)) == set(truth.entries)

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run must be reused, not retrained")

    monkeypatch.setattr("hnas.engine.trainer.train", no_training)
    again = build_report(truth, [method], settings)
    assert again.scores[0].runs[0].reused and again.scores[0].runs[0].metrics == first.scores[0].runs[0].metrics
    other_split = Method("fs", "few-shot", overrides=method.overrides,
                         fewshot=FewShotStage(split="depth3=2,3/4,5,6,7,8", epochs=1))
    with pytest.raises(HnasError, match="other settings; pass --restart"):
        build_report(truth, [other_split], settings)


def test_extra_epochs_train_beyond_the_report_epochs(tmp_path: Path, truth) -> None:
    settings = settings_for(tmp_path)
    base = report_module.supernet_config(UNIFORM, 0, truth, settings)
    longer = Method("long", "longer", overrides=UNIFORM.overrides, extra_epochs=2)
    assert report_module.supernet_config(longer, 0, truth, settings).epochs == base.epochs + 2
