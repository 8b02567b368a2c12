"""Reading digit-string arch codes: the checks every family's ``decode`` starts with.

A code is a string of decimal digits; every error names the 0-based position and the reason
(:class:`~hnas.errors.ArchCodeError`). Families whose stages have an elastic depth pad the
slots beyond a stage's depth with ``0`` digits (:func:`check_padding`) and name their block
slots ``s{stage}.b{block}.<what>`` (1-based), so :func:`block_slot_active` answers
:meth:`~hnas.search_spaces.base.SearchSpace.is_active` for them.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from hnas.errors import ArchCodeError


def check_digits(code: Any, length: int) -> str:
    """``code`` itself once it is a string of ``length`` decimal digits.

    Raises:
        ArchCodeError: not a string, the wrong length, or the first non-digit's position.
    """
    if not isinstance(code, str):
        raise ArchCodeError(str(code), None, f"expected a string, got {type(code).__name__}")
    if len(code) != length:
        raise ArchCodeError(code, None, f"length {len(code)}, expected {length}")
    for position, char in enumerate(code):
        if char not in "0123456789":
            raise ArchCodeError(code, position, f"{char!r} is not a digit")
    return code


def digit(code: str, position: int, what: str, allowed: Sequence[int]) -> int:
    """The digit at ``position``, checked against ``allowed``.

    Raises:
        ArchCodeError: naming ``what`` the digit encodes and the allowed values.
    """
    value = int(code[position])
    if value not in allowed:
        raise ArchCodeError(code, position, f"{what} is {value}, expected one of {list(allowed)}")
    return value


def check_padding(code: str, position: int, width: int, where: str, depth: int) -> None:
    """Require ``width`` zeros from ``position`` on: the slot ``where`` lies beyond its stage's ``depth``.

    Raises:
        ArchCodeError: at the first non-zero digit.
    """
    for offset in range(width):
        if code[position + offset] != "0":
            raise ArchCodeError(code, position + offset,
                                f"{where} is inactive (depth {depth}) and must be padded with '{'0' * width}'")


def char_hamming(code_a: str, code_b: str, start: int) -> int:
    """Characters that differ between two equally long codes from index ``start`` on.

    Raises:
        ArchCodeError: the codes differ in length.
    """
    if len(code_a) != len(code_b):
        raise ArchCodeError(code_b, None, f"length {len(code_b)} differs from {len(code_a)} of {code_a!r}")
    return sum(a != b for a, b in zip(code_a[start:], code_b[start:]))


def block_slot_active(slot: str, values: Mapping[str, int | None]) -> bool:
    """Whether a ``s{stage}.b{block}.*`` slot is used: its block lies within ``values["depth{stage}"]``.

    Every other slot name (``resolution``, ``depth2``, ``stem``, ...) is always active.
    """
    if not slot.startswith("s") or "." not in slot:
        return True
    stage, block = slot[1:].split(".")[:2]
    depth = values.get(f"depth{stage}")
    return depth is not None and int(block[1:]) <= depth
