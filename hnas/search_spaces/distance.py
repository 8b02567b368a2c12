"""Hamming distance between arch codes over their width part.

Definition (the 3rd-place solution's ``utils/distance_calc.py``): the number of positions at
which two codes differ, counted from the stem width code to the end of the code, i.e. over
``code[1 + num_stages:]`` (``code[5:]``, 47 characters, for the 4-stage ResNet48 layout).
The image-size digit and the depth digits are excluded, but depth differences still show
up: a block that is active in one code and padded with ``"00"`` in the other differs in
both of its characters.
"""

from __future__ import annotations

from hnas.errors import ArchCodeError
from hnas.search_spaces.spec import SpaceDef, SubnetSpec, encode

#: Stages of the competition layout, used when no space is given.
_DEFAULT_NUM_STAGES = 4


def width_part_start(space: SpaceDef | None = None) -> int:
    """Index of the stem width code: after the image-size digit and one depth digit per stage."""
    num_stages = _DEFAULT_NUM_STAGES if space is None else space.num_stages
    return 1 + num_stages


def hamming_distance(code_a: str, code_b: str, space: SpaceDef | None = None) -> int:
    """Differing characters of two equally long arch codes over their width part.

    Args:
        code_a: an arch code.
        code_b: another code of the same space.
        space: the space, to locate the width part; ``None`` means the 4-stage layout.

    Raises:
        ArchCodeError: the codes differ in length.
    """
    if len(code_a) != len(code_b):
        raise ArchCodeError(code_b, None, f"length {len(code_b)} differs from {len(code_a)} of {code_a!r}")
    start = width_part_start(space)
    return sum(a != b for a, b in zip(code_a[start:], code_b[start:]))


def spec_distance(space: SpaceDef, spec_a: SubnetSpec, spec_b: SubnetSpec) -> int:
    """:func:`hamming_distance` of the codes of two specs of ``space``."""
    return hamming_distance(encode(spec_a, space), encode(spec_b, space), space)
