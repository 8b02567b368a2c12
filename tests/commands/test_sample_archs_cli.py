"""``hnas sample-archs``: a competition-format file, deterministic, never overwritten silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.cli import main
from hnas.io.archs import load_arch_file
from hnas.search_spaces import SPACES
from hnas.search_spaces.sampling import sample_codes


def test_writes_competition_format(tmp_path: Path) -> None:
    out = tmp_path / "archs.json"
    assert main(["sample-archs", "--n", "20", "--out", str(out), "--seed", "3", "--distribution", "competition"]) == 0
    data = json.loads(out.read_text())
    assert list(data) == [f"arch{index}" for index in range(1, 21)]
    assert all(set(entry) == {"acc", "arch"} and entry["acc"] == 0.0 for entry in data.values())
    space = SPACES.get("resnet48")
    assert [entry["arch"] for entry in data.values()] == sample_codes(space, 20, seed=3, distribution="competition")
    assert len(load_arch_file(out, space)) == 20


def test_same_seed_same_file_other_seed_other_file(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("a.json", "b.json", "c.json")]
    for path, seed in zip(paths, ("1", "1", "2")):
        assert main(["sample-archs", "--n", "5", "--out", str(path), "--seed", seed, "--space", "resnet48_tiny"]) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes() != paths[2].read_bytes()


def test_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "archs.json"
    out.write_text("keep me")
    assert main(["sample-archs", "--n", "5", "--out", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_text() == "keep me"
    assert main(["sample-archs", "--n", "5", "--out", str(out), "--force"]) == 0
    assert len(json.loads(out.read_text())) == 5


def test_bad_count_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "archs.json"
    assert main(["sample-archs", "--n", "0", "--out", str(out)]) == 2
    assert "--n must be at least 1" in capsys.readouterr().err
    assert not out.exists()


def test_from_file_draws_a_seeded_subset_keeping_keys_and_order(tmp_path: Path) -> None:
    source = tmp_path / "all.json"
    assert main(["sample-archs", "--n", "30", "--out", str(source), "--seed", "4"]) == 0
    out = tmp_path / "subset.json"
    assert main(["sample-archs", "--n", "7", "--from", str(source), "--out", str(out), "--seed", "1"]) == 0
    full, subset = json.loads(source.read_text()), json.loads(out.read_text())
    assert len(subset) == 7
    assert all(subset[key] == full[key] for key in subset)
    assert list(subset) == [key for key in full if key in subset]
    again = tmp_path / "again.json"
    assert main(["sample-archs", "--n", "7", "--from", str(source), "--out", str(again), "--seed", "1"]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_from_file_rejects_more_archs_than_the_file_has(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "all.json"
    assert main(["sample-archs", "--n", "3", "--out", str(source)]) == 0
    out = tmp_path / "subset.json"
    assert main(["sample-archs", "--n", "4", "--from", str(source), "--out", str(out)]) == 2
    assert "cannot draw 4 archs from a file of 3" in capsys.readouterr().err
    assert not out.exists()
