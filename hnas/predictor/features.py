"""One-hot features of a subnet's choice view (OFA's accuracy-predictor encoding, for any space).

Each slot of :meth:`SearchSpace.slots` contributes one column per value of its domain; an
active slot sets the column of its value, an unused slot (a block beyond its stage's depth)
leaves all its columns zero. For OFA's MobileNetV3 this is OFA's own layout (kernel and expand
one-hots per block, zero for inactive blocks, a resolution one-hot) plus the depth one-hots,
which the zero blocks already imply. The layout is stored with a predictor so that a predictor
is refused by a space whose slots differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from hnas.search_spaces.base import SearchSpace


@dataclass(frozen=True)
class FeatureLayout:
    """The slots a feature vector encodes, in column order: ``((slot name, domain), ...)``."""

    slots: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def of(cls, space: SearchSpace) -> FeatureLayout:
        return cls(tuple((slot.name, tuple(slot.domain)) for slot in space.slots()))

    @property
    def width(self) -> int:
        """Number of feature columns."""
        return sum(len(domain) for _, domain in self.slots)

    def to_json(self) -> list[list[Any]]:
        return [[name, list(domain)] for name, domain in self.slots]

    @classmethod
    def from_json(cls, data: Sequence[Sequence[Any]]) -> FeatureLayout:
        return cls(tuple((str(name), tuple(int(value) for value in domain)) for name, domain in data))

    def differences(self, other: FeatureLayout, limit: int = 3) -> list[str]:
        """Human-readable differences to ``other`` (empty when equal), at most ``limit``."""
        problems: list[str] = []
        mine, theirs = dict(self.slots), dict(other.slots)
        for name in [name for name, _ in self.slots if name not in theirs]:
            problems.append(f"slot {name!r} missing")
        for name in [name for name, _ in other.slots if name not in mine]:
            problems.append(f"unexpected slot {name!r}")
        for name, domain in self.slots:
            if name in theirs and theirs[name] != domain:
                problems.append(f"slot {name!r} has values {list(theirs[name])}, expected {list(domain)}")
        if not problems and [name for name, _ in self.slots] != [name for name, _ in other.slots]:
            problems.append("same slots in another order")
        return problems[:limit]


def encode(space: SearchSpace, layout: FeatureLayout, specs: Sequence[Any]) -> np.ndarray:
    """The ``(len(specs), layout.width)`` float32 one-hot matrix of ``specs``."""
    offsets: dict[str, tuple[int, dict[int, int]]] = {}
    column = 0
    for name, domain in layout.slots:
        offsets[name] = (column, {value: index for index, value in enumerate(domain)})
        column += len(domain)
    features = np.zeros((len(specs), layout.width), dtype=np.float32)
    for row, spec in enumerate(specs):
        for name, value in space.choices(spec).items():
            if value is None:
                continue
            start, index = offsets[name]
            features[row, start + index[value]] = 1.0
    return features
