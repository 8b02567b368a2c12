"""Tests of hnas/search_spaces/resolution.py: declaring resolutions and their arch-code digits."""

from __future__ import annotations

import pytest

from hnas.errors import ArchCodeError
from hnas.search_spaces.resolution import (
    check_resolutions,
    decode_resolution,
    describe_resolutions,
    encode_resolution,
    resolution_digits,
    resolution_range,
)

PSS = resolution_range(128, 224, 8)


def test_pss_net_range_has_thirteen_sizes_and_two_code_digits() -> None:
    assert PSS == (128, 136, 144, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224)
    assert resolution_digits(PSS) == 2 and resolution_digits((224,)) == 1 and resolution_digits(range(9)) == 1
    assert describe_resolutions(PSS) == "128..224 px step 8"
    assert describe_resolutions((128, 160, 192, 224)) == "128, 160, 192, 224 px"


@pytest.mark.parametrize("args", [(128, 220, 8), (0, 8, 8), (128, 224, 0), (224, 128, 8)])
def test_bad_ranges_are_refused(args: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError, match="resolution range"):
        resolution_range(*args)


@pytest.mark.parametrize("values, match", [((), "1 to 99"), ((224, 128), "strictly increasing"),
                                           ((0, 8), "positive"), ((8.5,), "positive")])
def test_bad_declarations_name_the_space(values: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=f"space 'demo'.*{match}"):
        check_resolutions(values, "demo")


def test_codes_round_trip_with_a_fixed_width() -> None:
    for resolution in PSS:
        digits = encode_resolution(resolution, PSS)
        assert len(digits) == 2 and decode_resolution("9" + digits + "9", 1, PSS, "pss") == resolution
    assert encode_resolution(136, PSS) == "02" and encode_resolution(224, (224,)) == "1"
    with pytest.raises(ValueError, match="resolution 130 not in 128..224 px step 8"):
        encode_resolution(130, PSS)


@pytest.mark.parametrize("code, position, reason", [
    ("14", 0, r"position 0: image-size code is 14, expected 1..13 \(space 'pss' runs at 128..224 px step 8\)"),
    ("x00", 1, r"position 1: image-size code is 00, expected 1..13"),
    ("1", 0, r"position 0: expected 2 digit\(s\) of image-size code"),
])
def test_a_resolution_outside_the_space_names_position_and_space(code: str, position: int, reason: str) -> None:
    with pytest.raises(ArchCodeError, match=reason) as caught:
        decode_resolution(code, position, PSS, "pss")
    assert caught.value.position == position
