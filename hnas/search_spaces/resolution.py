"""Input resolution as a choice of a space: how a space declares it and how a code spells it.

A space declares its input sizes in its ``resolutions`` field (a tuple of pixels, strictly
increasing); its choice view has one slot ``resolution`` (dimension ``"resolution"``) over that
tuple, and every spec carries the ``resolution`` it runs at. One value is a fixed input size
(the competition's ResNet48: ``(224,)``); several make the resolution elastic, drawn like any
other slot by the samplers, mutated by the search, and followed by FLOPs, latency and
ZenScore. Training, BN recalibration and evaluation resize each batch to the spec's resolution
(:mod:`hnas.nn.resize`), so the data only has to come at one of the space's sizes (normally
the largest).

The arch code holds the 1-based index of the resolution in ``resolutions`` in
:func:`resolution_digits` digits: one digit for up to 9 sizes (every code written before
elastic resolution is unchanged), two digits (``01`` ... ``13``) for PSS-Net's 128 to 224 px in
steps of 8.
"""

from __future__ import annotations

from typing import Sequence

from hnas.errors import ArchCodeError


def resolution_range(start: int, stop: int, step: int) -> tuple[int, ...]:
    """``start, start + step, ..., stop`` (both ends included): PSS-Net's ``resolution_range(128, 224, 8)``.

    Raises:
        ValueError: a non-positive start or step, or ``stop - start`` not a multiple of ``step``.
    """
    if start < 1 or step < 1 or stop < start or (stop - start) % step:
        raise ValueError(f"resolution range {start}..{stop} step {step}: need 1 <= start <= stop, "
                         "a positive step and stop - start a multiple of it")
    return tuple(range(start, stop + 1, step))


def check_resolutions(resolutions: Sequence[int], space: str) -> None:
    """Raise ``ValueError`` naming ``space`` unless ``resolutions`` are positive, strictly increasing
    integers (at most 99, the most two code digits index)."""
    values = tuple(resolutions)
    if not 1 <= len(values) <= 99:
        raise ValueError(f"space {space!r}: 1 to 99 resolutions, got {len(values)}")
    if any(not isinstance(value, int) or isinstance(value, bool) or value < 1 for value in values):
        raise ValueError(f"space {space!r}: resolutions must be positive pixel counts, got {list(values)}")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"space {space!r}: resolutions must be strictly increasing, got {list(values)}")


def resolution_digits(resolutions: Sequence[int]) -> int:
    """Code digits of the resolution index: 1 for up to 9 resolutions, 2 for up to 99."""
    return len(str(len(resolutions)))


def describe_resolutions(resolutions: Sequence[int]) -> str:
    """``"224 px"``, ``"128, 160, 192, 224 px"`` or, for an even range of more than 4, ``"128..224 px step 8"``."""
    values = tuple(resolutions)
    steps = {b - a for a, b in zip(values, values[1:])}
    if len(values) > 4 and len(steps) == 1:
        return f"{values[0]}..{values[-1]} px step {steps.pop()}"
    return f"{', '.join(map(str, values))} px"


def decode_resolution(code: str, position: int, resolutions: Sequence[int], space: str) -> int:
    """The resolution whose index the code holds at ``position`` (:func:`resolution_digits` digits).

    Raises:
        ArchCodeError: an index outside ``1..len(resolutions)``, naming the position, the space
            and its resolutions.
    """
    width = resolution_digits(resolutions)
    text = code[position:position + width]
    if len(text) != width or not text.isdigit():
        raise ArchCodeError(code, position, f"expected {width} digit(s) of image-size code")
    index = int(text)
    if not 1 <= index <= len(resolutions):
        raise ArchCodeError(
            code, position,
            f"image-size code is {text}, expected 1..{len(resolutions):0{width}d} (space {space!r} runs at "
            f"{describe_resolutions(resolutions)})",
        )
    return resolutions[index - 1]


def encode_resolution(resolution: int, resolutions: Sequence[int]) -> str:
    """The code digits of ``resolution``.

    Raises:
        ValueError: a resolution the space does not have.
    """
    if resolution not in resolutions:
        raise ValueError(f"resolution {resolution} not in {describe_resolutions(resolutions)}")
    return f"{tuple(resolutions).index(resolution) + 1:0{resolution_digits(resolutions)}d}"
