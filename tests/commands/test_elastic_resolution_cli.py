"""Elastic input resolution through the commands: train, then evaluate archs at several resolutions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.checkpoints.folder import LAST
from hnas.cli import main
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.sampling import sample_codes
from tests.engine.tiny import TINY_SPACE, TINY_SPACE_OVERRIDE

#: The tiny ResNet space at 8, 12 or 16 px (the synthetic data gives 16 px).
SPACE: SearchSpace = TINY_SPACE.replace({"resolutions": (8, 12, 16)})
OVERRIDE = TINY_SPACE_OVERRIDE.replace("resolutions: [16]", "resolutions: [8, 12, 16]")
TRAIN = [OVERRIDE, "data.name=synthetic", "--data.batch_size", "16", "--device", "cpu", "log.visualdl=false",
         "--epochs", "1", "max_steps=3", "eval.every_epochs=0"]
FAST = ["--val-images", "16", "--batch-size", "8", "--recal-batches", "1", "--recal-batch-size", "8"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("elastic")
    assert main(["train", *TRAIN, "--checkpoint.dir", str(folder / "run")]) == 0
    return folder / "run" / LAST


def _codes() -> list[str]:
    """One code at each resolution (the same subnet otherwise)."""
    code = sample_codes(SPACE, 1, seed=2)[0]
    return [str(index) + code[1:] for index in (1, 2, 3)]


def test_archs_of_several_resolutions_are_evaluated_each_at_its_own(run: Path, tmp_path: Path) -> None:
    archs = tmp_path / "archs.json"
    archs.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": code} for i, code in enumerate(_codes(), 1)}))
    out = tmp_path / "submit.json"
    assert main(["eval", str(archs), "--ckpt", str(run), "--out", str(out), *FAST]) == 0
    results = json.loads(out.read_text())
    assert [results[f"arch{i}"]["arch"] for i in (1, 2, 3)] == _codes()
    losses = [json.loads(line) for line in (tmp_path / "submit.progress.jsonl").read_text().splitlines()[1:]]
    assert len({round(entry["loss"], 6) for entry in losses}) == 3  # three resolutions, three results


def test_a_resolution_outside_the_space_exits_2_and_writes_nothing(run: Path, tmp_path: Path, capsys) -> None:
    archs = tmp_path / "archs.json"
    archs.write_text(json.dumps({"arch1": {"acc": 0.0, "arch": "4" + _codes()[0][1:]}}))
    out = tmp_path / "submit.json"
    assert main(["eval", str(archs), "--ckpt", str(run), "--out", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert "hnas: error:" in err and "position 0: image-size code is 4, expected 1..3" in err
    assert "space 'resnet48_tiny' runs at 8, 12, 16 px" in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["archs.json"]
