"""``hnas validate`` and ``hnas sample-archs --from`` find a file's space from its codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.cli import main
from hnas.io.archs import load_arch_file
from hnas.search_spaces import SPACES
from hnas.search_spaces.sampling import sample_codes


def write_codes(path: Path, codes: list[str]) -> Path:
    path.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": code} for i, code in enumerate(codes, start=1)}))
    return path


def test_validate_finds_the_space_of_an_mbv2_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_codes(tmp_path / "a.json", sample_codes(SPACES.get("mbv2_tiny"), 6, seed=0))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith("OK: 6 archs (space mbv2_tiny)")


def test_validate_names_every_space_a_file_fits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_codes(tmp_path / "r.json", sample_codes(SPACES.get("resnet48"), 5, seed=0))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "OK: 5 archs (space resnet48)"
    assert out[1].startswith("note: the codes also fit space") and "resnet48_tiny" in out[1]


def test_a_code_of_another_space_names_position_and_space(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    resnet = sample_codes(SPACES.get("resnet48"), 3, seed=0)
    bad = "9" + resnet[0][1:]
    path = write_codes(tmp_path / "m.json", [*resnet, sample_codes(SPACES.get("mbv2_tiny"), 1, seed=0)[0], bad])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "arch4: arch code" in err and "whole code: length 37, expected 52 (space resnet48)" in err
    assert "arch5: arch code" in err and "position 0: image-size code is 9" in err


def test_validate_with_the_wrong_space_says_which_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_codes(tmp_path / "r.json", sample_codes(SPACES.get("resnet48"), 3, seed=0))
    assert main(["validate", str(path), "--space", "mbv2_tiny"]) == 2
    err = capsys.readouterr().err
    assert "3 problems in 3 entries" in err and "(space mbv2_tiny)" in err
    assert "the codes are not of space mbv2_tiny; they fit resnet48" in err


def test_sample_archs_from_finds_the_space(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_codes(tmp_path / "a.json", sample_codes(SPACES.get("mbv2_tiny"), 8, seed=0))
    out = tmp_path / "out.json"
    assert main(["sample-archs", "--n", "4", "--from", str(source), "--out", str(out)]) == 0
    assert "mbv2_tiny archs drawn from" in capsys.readouterr().out
    assert len(load_arch_file(out, "mbv2_tiny")) == 4


def test_sample_archs_from_a_file_of_another_space_writes_nothing(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    source = write_codes(tmp_path / "a.json", sample_codes(SPACES.get("mbv2_tiny"), 8, seed=0))
    out = tmp_path / "out.json"
    assert main(["sample-archs", "--n", "4", "--from", str(source), "--out", str(out), "--space", "resnet48"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hnas: error:") and "length 37, expected 52 (space resnet48)" in err
    assert not out.exists()
