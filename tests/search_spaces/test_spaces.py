"""The registry's defaults: the space of codes given without one, and the family of records written
before families existed (one constant each, :mod:`hnas.search_spaces.spaces`)."""

from __future__ import annotations

import pytest

from hnas.checkpoints.space_record import read_space, stored_family
from hnas.errors import HnasError
from hnas.search_spaces import SPACES
from hnas.search_spaces.spaces import DEFAULT_SPACE, LEGACY_FAMILY, default_space, space_from_fields


def test_records_without_a_family_are_resnet_records() -> None:
    assert LEGACY_FAMILY == "resnet"
    assert stored_family({}) == LEGACY_FAMILY
    tiny = SPACES.get("resnet48_tiny")
    assert space_from_fields(tiny.fields()) == tiny
    assert read_space({"space": tiny.fields()}, "old record") == tiny
    with pytest.raises(HnasError, match="unknown search-space family 'nope'"):
        space_from_fields({}, "nope")


def test_the_default_space_is_the_competition_space() -> None:
    assert default_space() is SPACES.get(DEFAULT_SPACE)
    assert default_space().name == "resnet48"


def test_only_the_resnet_family_maps_a_reference_naming() -> None:
    resnet, mbv2 = SPACES.get("resnet48"), SPACES.get("mbv2_tiny")
    assert resnet.reference_naming and mbv2.reference_naming is None
    assert resnet.from_reference_key("blocks.1.conv1.weight") == "stages.0.0.conv1.conv.weight"
    assert resnet.from_reference_key("stages.0.0.conv1.conv.weight") is None
    assert mbv2.from_reference_key("blocks.1.conv1.weight") is None
    with pytest.raises(HnasError, match="names block 99"):
        resnet.from_reference_key("blocks.99.conv1.weight")
