"""Hamming distance between arch codes.

For the ResNet family the definition is the 3rd-place solution's ``utils/distance_calc.py``:
the number of positions at which two codes differ, counted from the stem width code to the
end of the code, i.e. over ``code[1 + num_stages:]`` (``code[5:]``, 47 characters, for the
4-stage ResNet48 layout). The image-size digit and the depth digits are excluded, but depth
differences still show up: a block that is active in one code and padded with ``"00"`` in
the other differs in both of its characters. This equals the choice-view distance
(:meth:`~hnas.search_spaces.base.SearchSpace.distance`) over the width slots.

Other families define the distance over their choice view (decoding both codes).
"""

from __future__ import annotations

from typing import Any

from hnas.errors import ArchCodeError
from hnas.search_spaces.base import SearchSpace

#: Stages of the competition layout, used when no space is given.
_DEFAULT_NUM_STAGES = 4


def width_part_start(space: Any = None) -> int:
    """Index of the stem width code of a ResNet code: after the image-size digit and one depth
    digit per stage (``space=None``: the 4-stage competition layout)."""
    num_stages = _DEFAULT_NUM_STAGES if space is None else space.num_stages
    return 1 + num_stages


def char_hamming(code_a: str, code_b: str, start: int) -> int:
    """Differing characters of two equally long codes from index ``start`` on.

    Raises:
        ArchCodeError: the codes differ in length.
    """
    if len(code_a) != len(code_b):
        raise ArchCodeError(code_b, None, f"length {len(code_b)} differs from {len(code_a)} of {code_a!r}")
    return sum(a != b for a, b in zip(code_a[start:], code_b[start:]))


def hamming_distance(code_a: str, code_b: str, space: SearchSpace | None = None) -> int:
    """Distance of two arch codes of ``space`` (``None``: ResNet codes of the 4-stage layout).

    Raises:
        ArchCodeError: the codes differ in length (or, for a choice-view family, do not decode).
    """
    if space is None:
        return char_hamming(code_a, code_b, width_part_start())
    return space.code_distance(code_a, code_b)


def spec_distance(space: SearchSpace, spec_a: Any, spec_b: Any) -> int:
    """:meth:`SearchSpace.distance` of two specs (for ResNet equal to :func:`hamming_distance` of their codes)."""
    return space.distance(spec_a, spec_b)
