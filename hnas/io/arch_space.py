"""Which registered search space the codes of an arch file belong to.

A file does not name its space; its codes do: a registered space *fits* a file when it decodes
every code in it. ``hnas validate`` and ``hnas sample-archs --from`` use the space that fits
when no ``--space`` is given, and name every space that fits when several do (spaces sharing a
code layout, such as ``resnet48`` and ``resnet48_tiny``, read the same codes as the same specs;
the default space is used if it is one of them, else the first by name). When none fits, the file
is read with the space that decodes most of its codes, and every other code is a problem naming its
position and the space.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from hnas.errors import ArchCodeError
from hnas.io.archs import read_json_object
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.spaces import DEFAULT_SPACE, SPACES

#: ``(key, code)`` of every entry whose ``arch`` field is a string, in file order.
KeyedCodes = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class SpaceOfFile:
    """The space to read a file with, and every registered space that fits its codes.

    Attributes:
        space: the space given by name, or else the first registered space that fits.
        fitting: names of the registered spaces that decode every code, in :func:`registered_spaces` order
            (empty when the space was given by name).
    """

    space: SearchSpace
    fitting: tuple[str, ...]

    def note(self) -> str | None:
        """A line naming the other spaces the codes fit, or ``None`` when there are none."""
        others = [name for name in self.fitting if name != self.space.name]
        if not others:
            return None
        return (f"note: the codes also fit space{'s' if len(others) > 1 else ''} {', '.join(others)}; "
                f"read as {self.space.name} (choose with --space)")


def keyed_codes(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """``(key, code)`` of every entry of an arch file whose ``arch`` is a string (other entries are
    left to :func:`hnas.io.archs.check_arch_file` to report).

    Raises:
        HnasError: the file is not a JSON object of entries.
    """
    data = read_json_object(path)
    return [(key, value["arch"]) for key, value in data.items()
            if isinstance(value, dict) and isinstance(value.get("arch"), str)]


def decoded_count(codes: KeyedCodes, space: SearchSpace) -> int:
    """How many of ``codes`` ``space`` decodes (a wrong length is refused without decoding)."""
    count = 0
    for _, code in codes:
        if len(code) == space.code_length:
            try:
                space.decode(code)
            except ArchCodeError:
                continue
            count += 1
    return count


def registered_spaces() -> list[SearchSpace]:
    """Every registered space, the default space first, then by name (the order ties are broken in)."""
    names = sorted(SPACES.names(), key=lambda name: (name != DEFAULT_SPACE, name))
    return [SPACES.get(name) for name in names]


def space_of_file(path: str | os.PathLike[str], name: str | None) -> SpaceOfFile:
    """The space to read ``path`` with: ``name`` if given, else the registered space its codes fit.

    With no ``name``: the first space of :func:`registered_spaces` that decodes every code; if none
    does, the one that decodes the most (its refusals are then the file's problems, each naming
    the position and the space); the default space if no space decodes any code.

    Raises:
        HnasError: unknown ``name``, or a file that is not a JSON object of entries.
    """
    if name is not None:
        return SpaceOfFile(SPACES.get(name), ())
    codes = keyed_codes(path)
    spaces = registered_spaces()
    counts = [decoded_count(codes, space) for space in spaces]
    fitting = tuple(space.name for space, count in zip(spaces, counts) if count == len(codes))
    best = max(range(len(spaces)), key=lambda index: (counts[index], -index))
    return SpaceOfFile(spaces[best], fitting if codes else ())


def misfit_hint(path: str | os.PathLike[str], space: SearchSpace) -> str:
    """For a file with codes ``space`` refuses: which registered spaces take all of them, if any."""
    codes = keyed_codes(path)
    fitting = [other.name for other in registered_spaces() if codes and decoded_count(codes, other) == len(codes)]
    if fitting:
        return f"the codes are not of space {space.name}; they fit {', '.join(fitting)} (choose with --space)"
    return f"no registered space takes all of the codes; space {space.name} reads {space.code_format()}"
