"""Hamming distance over the width part of arch codes."""

from __future__ import annotations

import dataclasses

import pytest

from hnas.errors import ArchCodeError
from hnas.search_spaces import SPACES
from hnas.search_spaces.distance import hamming_distance, spec_distance, width_part_start

LARGEST = "1558511111111111111111111111111111111111111111111111"
SMALLEST = "1222277777000000777700000077770000000000007777000000"
ARCH1 = "1252233313000000223212122253130000000000006515000000"


def test_identical_codes_are_at_distance_zero() -> None:
    assert hamming_distance(ARCH1, ARCH1) == 0


def test_largest_and_smallest_differ_in_every_width_character() -> None:
    assert hamming_distance(LARGEST, SMALLEST) == 47
    space = SPACES.get("resnet48")
    assert spec_distance(space, space.max_spec(), space.min_spec()) == 47


def test_image_size_and_depth_digits_are_not_counted() -> None:
    changed = "2" + "3333" + ARCH1[5:]
    assert hamming_distance(ARCH1, changed) == 0


def test_each_width_character_counts_once() -> None:
    stem_changed = ARCH1[:5] + "9" + ARCH1[6:]
    last_changed = ARCH1[:-1] + "7"
    assert hamming_distance(ARCH1, stem_changed) == 1
    assert hamming_distance(ARCH1, last_changed) == 1
    assert hamming_distance(stem_changed, last_changed) == 2


def test_depth_change_shows_up_through_the_padding() -> None:
    # Stage 1 of ARCH1 has depth 2 ("3313000000"); one more block "13" adds two differences.
    deeper = ARCH1[:1] + "3" + ARCH1[2:10] + "13" + ARCH1[12:]
    assert hamming_distance(ARCH1, deeper) == 2


def test_width_part_starts_after_one_depth_digit_per_stage() -> None:
    two_stages = dataclasses.replace(
        SPACES.get("resnet48_tiny"),
        stage_blocks=(2, 2),
        base_channels=(8, 16),
        stage_strides=(1, 2),
        depth_choices=((1, 2), (1, 2)),
    )
    assert width_part_start(two_stages) == 3
    code = "122" + "1" + "1111" + "1111"
    assert hamming_distance(code, "1" + "11" + "2" + code[4:], two_stages) == 1
    assert hamming_distance(code, "12" + "1" + code[3:], two_stages) == 0


def test_codes_of_different_length_are_rejected() -> None:
    with pytest.raises(ArchCodeError, match="length 51 differs from 52"):
        hamming_distance(ARCH1, ARCH1[:-1])
