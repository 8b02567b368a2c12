"""The choice view's vocabulary: a :class:`Slot` (one decision of an arch code), its dimensions,
and the ``{slot: value}`` mapping of a subnet.

Below :mod:`hnas.search_spaces.base` and :mod:`hnas.search_spaces.distributions`, which both use
it, so neither has to import the other to name a slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

#: ``{slot name: value}``; ``None`` marks a slot the subnet does not use.
Choices = dict[str, "int | None"]

#: Dimensions a slot can belong to (progressive shrinking restricts them one at a time).
#: ``op`` is the candidate block of a choice layer (SPOS's ShuffleNetV2 space).
DIMENSIONS: tuple[str, ...] = ("resolution", "depth", "width", "kernel", "expand", "op")

#: ``spec -> float`` cost used by constrained distributions (FLOPs, params, latency).
CostFn = Callable[[Any], float]


@dataclass(frozen=True)
class Slot:
    """One decision of an arch code.

    Attributes:
        name: unique within the space, e.g. ``"depth2"`` or ``"s3.b4.conv1"``.
        domain: every value the slot can take, in the code's order.
        dimension: one of :data:`DIMENSIONS`.
        increasing: whether a larger value means a larger network (depth, kernel, expand,
            resolution); ``False`` for ResNet width codes, where code 1 is the widest.
        order: the domain from the smallest network to the largest, when neither the values'
            order nor its reverse is (SPOS's candidate blocks, ranked by FLOPs per layer);
            ``None``: the values' order, as ``increasing`` says.
    """

    name: str
    domain: tuple[int, ...]
    dimension: str
    increasing: bool = True
    order: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not self.domain:
            raise ValueError(f"slot {self.name!r} has an empty domain")
        if self.order is not None and sorted(self.order) != sorted(self.domain):
            raise ValueError(f"slot {self.name!r}: order {self.order} must list the domain {self.domain} once each")
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"slot {self.name!r}: unknown dimension {self.dimension!r}; known: {DIMENSIONS}")

    def largest(self, domain: Sequence[int] | None = None) -> int:
        """The value of ``domain`` (default: the slot's) giving the largest network."""
        values = self.domain if domain is None else domain
        if self.order is not None:
            return max(values, key=self.order.index)
        return max(values) if self.increasing else min(values)

    def smallest(self, domain: Sequence[int] | None = None) -> int:
        values = self.domain if domain is None else domain
        if self.order is not None:
            return min(values, key=self.order.index)
        return min(values) if self.increasing else max(values)
