"""Finding an arch file's search space from its codes (:mod:`hnas.io.arch_space`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.errors import HnasError
from hnas.io.arch_space import decoded_count, keyed_codes, misfit_hint, space_of_file
from hnas.search_spaces import SPACES
from hnas.search_spaces.sampling import sample_codes


def write_codes(path: Path, codes: list[str]) -> Path:
    path.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": code} for i, code in enumerate(codes, start=1)}))
    return path


def fitting_by_hand(codes: list[str]) -> list[str]:
    fits = []
    for name in sorted(SPACES.names(), key=lambda name: (name != "resnet48", name)):
        space = SPACES.get(name)
        try:
            for code in codes:
                space.decode(code)
        except HnasError:
            continue
        fits.append(name)
    return fits


def test_a_file_of_one_space_is_read_with_it(tmp_path: Path) -> None:
    codes = sample_codes(SPACES.get("mbv2_tiny"), 10, seed=0)
    found = space_of_file(write_codes(tmp_path / "a.json", codes), None)
    fits = fitting_by_hand(codes)
    assert found.space.name == fits[0] and found.fitting == tuple(fits)
    assert "mbv2_tiny" in fits


def test_spaces_sharing_a_layout_are_all_named(tmp_path: Path) -> None:
    codes = sample_codes(SPACES.get("resnet48"), 10, seed=0, distribution="competition")
    found = space_of_file(write_codes(tmp_path / "r.json", codes), None)
    assert found.space.name == "resnet48"
    assert {"resnet48", "resnet48_tiny"} <= set(found.fitting)
    note = found.note()
    assert note is not None and "resnet48_tiny" in note and "read as resnet48" in note


def test_a_mixed_file_is_read_with_the_space_most_codes_fit(tmp_path: Path) -> None:
    resnet = sample_codes(SPACES.get("resnet48"), 3, seed=1)
    mbv2 = sample_codes(SPACES.get("mbv2_tiny"), 1, seed=1)
    path = write_codes(tmp_path / "m.json", resnet + mbv2)
    found = space_of_file(path, None)
    assert found.space.name == "resnet48" and found.fitting == ()
    assert decoded_count(keyed_codes(path), SPACES.get("mbv2_tiny")) == 1


def test_a_named_space_is_taken_as_given_and_the_hint_names_the_fitting_ones(tmp_path: Path) -> None:
    path = write_codes(tmp_path / "r.json", sample_codes(SPACES.get("resnet48"), 4, seed=2))
    assert space_of_file(path, "mbv2_tiny").space.name == "mbv2_tiny"
    hint = misfit_hint(path, SPACES.get("mbv2_tiny"))
    assert "not of space mbv2_tiny" in hint and "resnet48" in hint
    with pytest.raises(HnasError, match="unknown search space 'nope'"):
        space_of_file(path, "nope")


def test_codes_no_space_takes(tmp_path: Path) -> None:
    path = write_codes(tmp_path / "x.json", ["1", "12"])
    found = space_of_file(path, None)
    assert found.fitting == () and found.space.name == "resnet48"
    assert "no registered space takes all of the codes" in misfit_hint(path, found.space)
