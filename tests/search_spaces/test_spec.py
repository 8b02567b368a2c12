"""The arch-code codec: round trip of the real test file, extremes and every malformed variant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.errors import ArchCodeError, HnasError
from hnas.search_spaces import SPACES
from hnas.search_spaces.resnet import ResNetSpec

TEST_FILE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "CVPR_2022_NAS_Track1_test.json"

LARGEST = "1558511111111111111111111111111111111111111111111111"
SMALLEST = "1222277777000000777700000077770000000000007777000000"
ARCH1 = "1252233313000000223212122253130000000000006515000000"


@pytest.fixture(scope="module")
def space():
    return SPACES.get("resnet48")


def _replace(code: str, position: int, char: str) -> str:
    return code[:position] + char + code[position + 1 :]


def test_round_trip_of_every_competition_code(space) -> None:
    if not TEST_FILE.exists():
        pytest.skip(f"{TEST_FILE} not found")
    entries = json.loads(TEST_FILE.read_text())
    assert len(entries) == 45_000
    for key, entry in entries.items():
        code = entry["arch"]
        assert space.encode(space.decode(code)) == code, key


def test_max_and_min_codes(space) -> None:
    assert space.encode(space.max_spec()) == LARGEST
    assert space.encode(space.min_spec()) == SMALLEST
    assert space.decode(LARGEST) == space.max_spec()
    assert space.decode(SMALLEST) == space.min_spec()


def test_decode_reads_depths_and_codes(space) -> None:
    spec = space.decode(ARCH1)
    assert spec == ResNetSpec(
        resolution=224,
        depths=(2, 5, 2, 2),
        out_codes=(3, 2, 3, 5),
        mid_codes=((3, 1), (2, 3, 1, 1, 2), (5, 1), (6, 1)),
    )


def test_round_trip_in_tiny_space() -> None:
    tiny = SPACES.get("resnet48_tiny")
    for code in (LARGEST, SMALLEST, ARCH1):
        spec = tiny.decode(code)
        assert spec.resolution == 28
        assert tiny.encode(spec) == code


# (name, code, position, reason substring); positions are 0-based.
# Layout: [0] image size, [1:5] depths, [5] stem, stage blocks from 6 (stage 2 at 16,
# stage 3 at 26, stage 4 at 42), two characters per block.
MALFORMED = [
    ("too short", LARGEST[:-1], None, "length 51, expected 52"),
    ("too long", LARGEST + "0", None, "length 53, expected 52"),
    ("letter", _replace(LARGEST, 20, "a"), 20, "'a' is not a digit"),
    ("space", _replace(LARGEST, 3, " "), 3, "' ' is not a digit"),
    ("image-size code 0", _replace(LARGEST, 0, "0"), 0, "image-size code is 0"),
    ("image-size code 2", _replace(LARGEST, 0, "2"), 0, "image-size code is 2"),
    ("depth 1", _replace(SMALLEST, 1, "1"), 1, "depth of stage 1 is 1"),
    ("depth 6 in a 5-block stage", _replace(LARGEST, 4, "6"), 4, "depth of stage 4 is 6"),
    ("depth 9", _replace(LARGEST, 3, "9"), 3, "depth of stage 3 is 9"),
    ("stem code 0", _replace(LARGEST, 5, "0"), 5, "stem width code is 0"),
    ("stem code 8", _replace(LARGEST, 5, "8"), 5, "stem width code is 8"),
    ("conv1 code 0", _replace(LARGEST, 6, "0"), 6, "conv1 code of stage 1 block 1 is 0"),
    ("conv1 code 8", _replace(LARGEST, 28, "8"), 28, "conv1 code of stage 3 block 2 is 8"),
    ("conv2 code 0", _replace(LARGEST, 7, "0"), 7, "conv2 code of stage 1 block 1 is 0"),
    ("conv2 code 8", _replace(LARGEST, 43, "8"), 43, "conv2 code of stage 4 block 1 is 8"),
    ("padding conv1", _replace(SMALLEST, 10, "7"), 10, "stage 1 block 3 is inactive (depth 2)"),
    ("padding conv2", _replace(SMALLEST, 51, "1"), 51, "stage 4 block 5 is inactive (depth 2)"),
    ("conv2 tie", _replace(ARCH1, 19, "1"), 19, "residual additions tie"),
    ("stem vs stage 1", _replace(LARGEST, 5, "2"), 5, "differs from the stage-1 conv2 code"),
]


@pytest.mark.parametrize(("code", "position", "reason"), [case[1:] for case in MALFORMED],
                         ids=[case[0] for case in MALFORMED])
def test_malformed_code_names_position_and_reason(space, code: str, position: int | None, reason: str) -> None:
    with pytest.raises(ArchCodeError) as caught:
        space.decode(code)
    assert caught.value.position == position
    assert reason in caught.value.reason
    assert isinstance(caught.value, HnasError)
    where = "whole code" if position is None else f"position {position}"
    assert where in str(caught.value)


def test_non_string_code_is_rejected(space) -> None:
    with pytest.raises(ArchCodeError, match="expected a string, got int"):
        space.decode(1558511111)


def test_encode_rejects_spec_outside_space(space) -> None:
    bad_depth = ResNetSpec(224, (1, 2, 2, 2), (1, 1, 1, 1), ((1,), (1, 1), (1, 1), (1, 1)))
    with pytest.raises(ValueError, match="depth 1 of stage 1"):
        space.encode(bad_depth)
    bad_code = ResNetSpec(224, (2, 2, 2, 2), (1, 1, 1, 8), ((1, 1), (1, 1), (1, 1), (1, 1)))
    with pytest.raises(ValueError, match="width code 8 of stage 4"):
        space.encode(bad_code)
