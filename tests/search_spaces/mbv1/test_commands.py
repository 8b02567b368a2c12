"""Every hnas command on the mbv1 family's tiny spaces: train, eval, score, flops, zen, validate,
sample-archs, search, export, latency build, fewshot and standalone (a smoke test: each runs to
exit 0 on a 2-step supernet and writes its output), and PSS-Net's end-of-training table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.cli import main
from hnas.search_spaces import SPACES

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

NAMES = ["pss_mbv1_tiny", "dsnet_mbv1_tiny"]
DATA = ["data.name=synthetic", "--data.args", "{num_images: 32, num_classes: 10, in_channels: 1, image_size: 28}",
        "--data.batch_size", "8", "--device", "cpu", "log.visualdl=false", "eval.every_epochs=0"]
FAST_EVAL = ["--val-images", "16", "--batch-size", "8", "--recal-batches", "1", "--recal-batch-size", "8"]
#: A slot with two values each space can be split by (few-shot).
SPLIT = {"pss_mbv1_tiny": "s1.width", "dsnet_mbv1_tiny": "stem.width"}


@pytest.fixture(scope="module", params=NAMES)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """(space, a 2-step checkpoint, a 6-arch file drawn by hnas sample-archs)."""
    name = request.param
    folder = tmp_path_factory.mktemp(name)
    ckpt = folder / "ckpt"
    assert main(["train", f"space.name={name}", *DATA, "--epochs", "1", "max_steps=2",
                 "--checkpoint.dir", str(ckpt)]) == 0
    archs = folder / "archs.json"
    assert main(["sample-archs", "--space", name, "--n", "6", "--seed", "0", "--out", str(archs)]) == 0
    return name, ckpt, archs


def _code(name: str, archs: Path) -> str:
    return next(iter(json.loads(archs.read_text()).values()))["arch"]


def test_validate_flops_and_zen(run, tmp_path: Path) -> None:
    name, _, archs = run
    assert main(["validate", "--space", name, str(archs)]) == 0
    assert main(["flops", "--space", name, "--json", str(archs), "--convention", "pss",
                 "--out", str(tmp_path / "flops.json")]) == 0
    assert len(json.loads((tmp_path / "flops.json").read_text())) == 6
    assert main(["zen", "--space", name, _code(name, archs), "--repeats", "2", "--batch-size", "2"]) == 0


def test_eval_then_score(run, tmp_path: Path) -> None:
    name, ckpt, archs = run
    out = tmp_path / "submit.json"
    assert main(["eval", str(archs), "--ckpt", str(ckpt), "--out", str(out), *FAST_EVAL]) == 0
    submission = json.loads(out.read_text())
    assert set(submission) == set(json.loads(archs.read_text()))
    space = SPACES.get(name)
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({key: {"acc": float(space.flops(space.decode(entry["arch"]))), "arch": entry["arch"]}
                                 for key, entry in submission.items()}))
    # A 2-step supernet's accuracies may all tie (score refuses constant predictions), so score the
    # FLOPs against themselves: the command reads this space's codes and keys.
    assert main(["score", str(truth), str(truth), "--top-k", "2"]) == 0


def test_search_and_export(run, tmp_path: Path) -> None:
    name, ckpt, archs = run
    assert main(["search", "--ckpt", str(ckpt), "--out", str(tmp_path / "search"), "--generations", "1",
                 "--population", "4", "--top-k", "2", "--mutations", "2", "--crossovers", "2",
                 "--flops-convention", "pss", *FAST_EVAL]) == 0
    best = json.loads((tmp_path / "search" / "best.json").read_text())
    SPACES.get(name).decode(best["arch"])
    assert main(["export", _code(name, archs), "--ckpt", str(ckpt), "--out", str(tmp_path / "export")]) == 0
    assert any((tmp_path / "export").iterdir())


def test_latency_build(run, tmp_path: Path) -> None:
    name, _, _ = run
    table = tmp_path / "latency.json"
    assert main(["latency", "build", "--space", name, "--warmup", "0", "--repeats", "1", "--out", str(table)]) == 0
    assert len(json.loads(table.read_text())["entries"]) == len(SPACES.get(name).all_latency_keys())


def test_fewshot_and_standalone(run, tmp_path: Path) -> None:
    name, ckpt, archs = run
    assert main(["fewshot", "train", str(ckpt), "--split", SPLIT[name], "--out", str(tmp_path / "fewshot"),
                 "max_steps=1"]) == 0
    assert main(["standalone", _code(name, archs), "--space", name, "--data", "synthetic",
                 "--data-arg", "num_images=16", "--data-arg", "in_channels=1", "--data-arg", "image_size=28",
                 "--data-arg", "num_classes=10", "--batch-size", "8", "--max-train-batches", "1",
                 "--out", str(tmp_path / "standalone.json")]) == 0


@pytest.fixture(scope="module")
def pss_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-step pss_mbv1_tiny run with PSS-Net's sampler and FLOPs convention (pools of 2)."""
    ckpt = tmp_path_factory.mktemp("pss") / "ckpt"
    assert main(["train", "--config", "configs/pss_mbv1_f_tiny.yaml", *DATA, "--epochs", "1", "max_steps=4",
                 "sampler.args.pool_size=2", "sampler.args.map_size=300",
                 "--sampler.args.ranges", "{flops_pss: [100.0e+3, 260.0e+3, 80.0e+3]}",
                 "--checkpoint.dir", str(ckpt)]) == 0
    return ckpt


def test_pools_table_from_hnas_eval(pss_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archs, result, table = tmp_path / "archs.json", tmp_path / "result.json", tmp_path / "table"
    assert main(["pools", str(pss_run), "--archs-out", str(archs)]) == 0
    keys = list(json.loads(archs.read_text()))
    assert keys[0] == "max" and keys[-1] == "min" and any(key.startswith("flops_pss@180000#") for key in keys)
    assert main(["eval", str(archs), "--ckpt", str(pss_run), "--out", str(result), *FAST_EVAL]) == 0
    capsys.readouterr()
    assert main(["pools", str(pss_run), "--table", str(result), "--out-dir", str(table)]) == 0
    assert "| max net |" in capsys.readouterr().out
    assert sorted(p.name for p in table.iterdir()) == ["table.json", "table.md", "table.png"]
    rows = json.loads((table / "table.json").read_text())["flops_pss"]
    assert [row["label"] for row in rows] == ["max net", "180000", "min net"]
    submitted = json.loads(result.read_text())
    assert rows[0]["acc"] == submitted["max"]["acc"] and rows[-1]["acc"] == submitted["min"]["acc"]


def test_pools_table_bad_input_exits_2_and_writes_nothing(pss_run: Path, tmp_path: Path) -> None:
    archs = tmp_path / "archs.json"
    archs.write_text("{}")
    assert main(["pools", str(pss_run), "--archs-out", str(archs)]) == 2  # exists, no --force
    assert archs.read_text() == "{}"
    assert main(["pools", str(pss_run), "--table", str(archs)]) == 2  # no --out-dir
    assert main(["pools", str(pss_run), "--table", str(archs), "--out-dir", str(tmp_path / "t")]) == 2  # no max/min
    assert not (tmp_path / "t").exists()
