"""The registry's defaults: the space of codes given without one, and the family of records written
before families existed (one function each, :mod:`hnas.search_spaces.spaces`)."""

from __future__ import annotations

import pytest

from hnas.errors import HnasError
from hnas.search_spaces import SPACES
from hnas.search_spaces.spaces import DEFAULT_SPACE, default_space, stored_family, stored_space


def test_records_without_a_family_are_resnet_records() -> None:
    assert stored_family({}) == "resnet"
    assert stored_family({"space_family": "mbv2"}) == "mbv2"
    tiny = SPACES.get("mbv2_tiny")
    record = {"space_family": "mbv2", "space": tiny.fields()}
    assert stored_space(record) == tiny
    old = {"space": SPACES.get("resnet48_tiny").fields()}
    assert stored_space(old) == SPACES.get("resnet48_tiny")
    with pytest.raises(HnasError, match="unknown search-space family 'nope'"):
        stored_space({"space_family": "nope", "space": {}})


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
