from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.cli import main
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import SPACES


@pytest.fixture
def arch_file(tmp_path: Path) -> Path:
    codes = sample_codes(SPACES.get("resnet48"), 11, seed=3, distribution="competition")
    path = tmp_path / "test.json"
    path.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": code} for i, code in enumerate(codes, start=1)}))
    return path


def test_split_then_merge_reproduces_the_file(arch_file: Path, tmp_path: Path, capsys) -> None:
    assert main(["split", str(arch_file), "--parts", "3", "--out", str(tmp_path / "parts")]) == 0
    parts = sorted((tmp_path / "parts").glob("test_part*of3.json"))
    sizes = [len(json.loads(p.read_text())) for p in parts]
    assert sizes == [4, 4, 3]
    merged = tmp_path / "merged.json"
    assert main(["merge", *map(str, reversed(parts)), "--against", str(arch_file), "--out", str(merged)]) == 0
    assert merged.read_bytes() == arch_file.read_bytes()


def test_split_refuses_to_overwrite_without_force(arch_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "parts"
    assert main(["split", str(arch_file), "--parts", "2", "--out", str(out)]) == 0
    (out / "test_part0of2.json").write_text("KEEP")
    assert main(["split", str(arch_file), "--parts", "2", "--out", str(out)]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (out / "test_part0of2.json").read_text() == "KEEP"
    assert main(["split", str(arch_file), "--parts", "2", "--out", str(out), "--force"]) == 0
    assert (out / "test_part0of2.json").read_text() != "KEEP"


def split_parts(arch_file: Path, tmp_path: Path) -> list[Path]:
    main(["split", str(arch_file), "--parts", "2", "--out", str(tmp_path / "parts")])
    return [tmp_path / "parts" / f"test_part{i}of2.json" for i in range(2)]


@pytest.mark.parametrize("damage", ["missing_key", "duplicate_key", "arch_mismatch", "missing_part"])
def test_merge_errors_exit_2_and_leave_the_output_alone(arch_file: Path, tmp_path: Path, capsys, damage: str) -> None:
    parts = split_parts(arch_file, tmp_path)
    first = json.loads(parts[0].read_text())
    second = json.loads(parts[1].read_text())
    if damage == "missing_key":
        del second["arch11"]
        expected = "1 key(s) of the original are in no part: arch11"
    elif damage == "duplicate_key":
        second["arch1"] = first["arch1"]
        expected = "'arch1' appears in both"
    elif damage == "arch_mismatch":
        second["arch11"]["arch"] = first["arch1"]["arch"]
        expected = "'arch11' in "
    parts[1].write_text(json.dumps(second))
    given = parts[:1] if damage == "missing_part" else parts
    if damage == "missing_part":
        expected = "missing part file(s) 1 of 2"
    out = tmp_path / "merged.json"
    out.write_text("OLD")
    assert main(["merge", *map(str, given), "--against", str(arch_file), "--out", str(out), "--force"]) == 2
    assert expected in capsys.readouterr().err
    assert out.read_text() == "OLD"
