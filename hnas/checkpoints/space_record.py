"""The search space as every hnas record stores it: one spelling, read back also from older records.

A record is a JSON object holding (among its own entries)::

    "space_name":   "resnet48"
    "space_family": "resnet"
    "space":        {...the space's fields...}

Checkpoint ``meta.json``, export ``subnet.json``, the few-shot manifest and latency tables all
write it with :func:`space_record`. :func:`read_space` also reads the older spellings: no
``space_family`` (written before families existed: a ResNet space) and the latency tables'
``"space": NAME, "space_fields": {...}``.
"""

from __future__ import annotations

from typing import Any, Mapping

from hnas.errors import HnasError
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.spaces import LEGACY_FAMILY, space_from_fields

NAME_KEY = "space_name"
FAMILY_KEY = "space_family"
FIELDS_KEY = "space"
#: The older latency-table spelling of the fields (``"space"`` then held the name).
_OLD_FIELDS_KEY = "space_fields"


def space_record(space: SearchSpace) -> dict[str, Any]:
    """The record entries of ``space`` (merge them into the record's other entries)."""
    return {NAME_KEY: space.name, FAMILY_KEY: space.family, FIELDS_KEY: space.fields()}


def _fields(record: Mapping[str, Any], source: str) -> Mapping[str, Any]:
    fields = record.get(_OLD_FIELDS_KEY) if _OLD_FIELDS_KEY in record else record.get(FIELDS_KEY)
    if not isinstance(fields, Mapping):
        raise HnasError(f"{source}: no {FIELDS_KEY!r} entry (the search space's fields)")
    return fields


def stored_family(record: Mapping[str, Any]) -> str:
    """The family a record names (older records: ResNet)."""
    return str(record.get(FAMILY_KEY, LEGACY_FAMILY))


def stored_name(record: Mapping[str, Any]) -> str | None:
    """The space name a record gives, in either spelling."""
    if _OLD_FIELDS_KEY in record:
        return record.get(FIELDS_KEY)
    return record.get(NAME_KEY)


def read_space(record: Mapping[str, Any], source: str) -> SearchSpace:
    """The search space a record describes.

    Raises:
        HnasError: naming ``source``, for a missing entry, an unknown family or bad fields.
    """
    fields = _fields(record, source)
    try:
        return space_from_fields(fields, stored_family(record))
    except HnasError as error:
        raise HnasError(f"{source}: {error}") from None


def space_differences(record: Mapping[str, Any], space: SearchSpace, source: str,
                      labels: tuple[str, str] | None = None) -> list[str]:
    """``key: <stored> A vs <current> B`` (without ``labels``: ``key A vs B``) for each field where
    the record's space differs from ``space`` of the same family (fields added since the record
    was written count with their defaults). Compare :func:`stored_family` first."""
    stored = space.stored_fields(_fields(record, source))
    if labels is None:
        return [f"{key} {stored.get(key)!r} vs {value!r}"
                for key, value in space.fields().items() if stored.get(key) != value]
    return [f"{key}: {labels[0]} {stored.get(key)!r} vs {labels[1]} {value!r}"
            for key, value in space.fields().items() if stored.get(key) != value]
