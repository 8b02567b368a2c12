"""Reading a built ground truth and its meta file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.benchmark.truth import read_ground_truth
from hnas.errors import HnasError
from tests.benchmark.report_fixtures import RECIPE, make_ground_truth

SHIPPED = Path(__file__).resolve().parents[2] / "benchmarks" / "minibench" / "ground_truth.json"


def test_reads_accuracies_recipe_and_noise(tmp_path: Path) -> None:
    path = make_ground_truth(tmp_path, n_archs=5)
    truth = read_ground_truth(path)
    meta = json.loads(path.with_name("ground_truth.meta.json").read_text())
    assert truth.recipe == RECIPE
    assert list(truth.entries) == [f"arch{i}" for i in range(1, 6)]
    assert truth.accs == {key: value["acc"] for key, value in meta["archs"].items()}
    assert truth.per_seed == {key: value["accs"] for key, value in meta["archs"].items()}
    assert truth.noise.kendall_tau == meta["noise"]["kendall_tau"]
    assert truth.space.num_classes == 3  # adapted to the recipe's data


def test_missing_meta_is_named(tmp_path: Path) -> None:
    path = make_ground_truth(tmp_path)
    path.with_name("ground_truth.meta.json").unlink()
    with pytest.raises(HnasError, match=r"ground_truth\.meta\.json: missing"):
        read_ground_truth(path)


def test_meta_and_file_must_agree(tmp_path: Path) -> None:
    path = make_ground_truth(tmp_path)
    document = json.loads(path.read_text())
    document.pop("arch2")
    path.write_text(json.dumps(document))
    with pytest.raises(HnasError, match="disagree on 1 arch"):
        read_ground_truth(path)


def test_wrong_format_tag(tmp_path: Path) -> None:
    path = make_ground_truth(tmp_path)
    meta_path = path.with_name("ground_truth.meta.json")
    meta = json.loads(meta_path.read_text())
    meta["format"] = "something-else"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(HnasError, match="format 'something-else'"):
        read_ground_truth(path)


def test_shipped_ground_truth_loads() -> None:
    truth = read_ground_truth(SHIPPED)
    assert len(truth.entries) == truth.noise.archs >= 40
    assert all(len(accs) == truth.noise.seeds >= 2 for accs in truth.per_seed.values())
