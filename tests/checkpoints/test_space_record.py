"""The space record: one spelling written everywhere, older spellings read back."""

from __future__ import annotations

import pytest

from hnas.checkpoints.space_record import read_space, space_differences, space_record, stored_family, stored_name
from hnas.errors import HnasError
from hnas.search_spaces.spaces import SPACES


@pytest.mark.parametrize("name", ["resnet48_tiny", "mbv2_tiny"])
def test_a_record_reads_back_as_the_same_space(name: str) -> None:
    space = SPACES.get(name)
    record = space_record(space)
    assert set(record) == {"space_name", "space_family", "space"}
    assert read_space(record, "test") == space and space_differences(record, space, "test") == []


def test_records_written_before_families_hold_resnet_spaces() -> None:
    space = SPACES.get("resnet48_tiny")
    record = {"space_name": space.name, "space": space.fields()}
    assert stored_family(record) == "resnet" and read_space(record, "old meta.json") == space


def test_the_older_latency_table_spelling_is_read() -> None:
    space = SPACES.get("mbv2_tiny")
    record = {"space": space.name, "space_family": "mbv2", "space_fields": space.fields()}
    assert stored_name(record) == space.name and read_space(record, "old table") == space


def test_differences_and_bad_records_are_named() -> None:
    space = SPACES.get("resnet48_tiny")
    record = space_record(space.replace({"activation": "hswish"}))
    assert space_differences(record, space, "x", labels=("checkpoint", "config")) == [
        "activation: checkpoint 'hswish' vs config 'relu'"]
    with pytest.raises(HnasError, match="meta.json: no 'space' entry"):
        read_space({"space_name": "resnet48"}, "meta.json")
    with pytest.raises(HnasError, match="meta.json: .*unknown search-space field"):
        read_space({"space_family": "resnet", "space": {"bogus": 1}}, "meta.json")
