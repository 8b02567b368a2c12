"""How a few-shot split partitions a space: one slot, its values in groups.

``depth3`` splits by every value of slot ``depth3`` (one sub-supernet per stage-3 depth);
``depth3=2,3/4/5,6`` groups the values (three sub-supernets). The groups must be disjoint and
cover the slot's domain, so every arch of the space belongs to exactly one part; the slot
must be used by every subnet (a depth, the stem, a first block: not a block a smaller depth
can drop), so that every arch can be routed. A slot tied to others (a residual stage's shared
width) carries them along.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from hnas.errors import HnasError
from hnas.search_spaces.base import SearchSpace


@dataclass(frozen=True)
class Split:
    """A partition of a space by the value of ``slot``.

    Attributes:
        slot: the slot whose value decides the part.
        groups: the values of each part, disjoint, covering the slot's domain.
    """

    slot: str
    groups: tuple[tuple[int, ...], ...]

    @classmethod
    def parse(cls, text: str, space: SearchSpace) -> Split:
        """``SLOT`` (one part per value) or ``SLOT=V,V/V/...`` (parts separated by ``/``), checked.

        Raises:
            HnasError: malformed text, or a split :meth:`check` refuses.
        """
        slot, _, grouping = text.strip().partition("=")
        slot = slot.strip()
        slots = space.slot_map()
        if slot not in slots:
            raise HnasError(f"--split {text!r}: space {space.name!r} has no slot {slot!r}; slots every subnet "
                            f"uses: {', '.join(always_used_slots(space)[:12])}, ...")
        if not grouping:
            split = cls(slot, tuple((value,) for value in slots[slot].domain))
        else:
            try:
                groups = tuple(tuple(int(value) for value in part.split(",") if value.strip())
                               for part in grouping.split("/"))
            except ValueError:
                raise HnasError(f"--split {text!r}: expected SLOT=V,V/V/... with integer values") from None
            split = cls(slot, groups)
        split.check(space)
        return split

    def check(self, space: SearchSpace) -> None:
        """Raise :class:`HnasError` unless the groups partition the slot's domain and every subnet uses the slot."""
        slots = space.slot_map()
        if self.slot not in slots:
            raise HnasError(f"few-shot split: space {space.name!r} has no slot {self.slot!r}")
        if len(slots[self.slot].domain) < 2:
            raise HnasError(f"few-shot split on {self.slot!r}: it takes one value only "
                            f"({list(slots[self.slot].domain)}) in space {space.name!r}")
        if self.slot not in always_used_slots(space):
            raise HnasError(f"few-shot split on {self.slot!r}: some subnets of {space.name!r} do not use that slot, "
                            "so they could not be routed; split on a slot every subnet uses (e.g. a depth)")
        domain = slots[self.slot].domain
        values = [value for group in self.groups for value in group]
        if len(self.groups) < 2 or any(not group for group in self.groups):
            raise HnasError(f"few-shot split on {self.slot!r}: needs at least 2 non-empty groups, got "
                            f"{[list(group) for group in self.groups]}")
        outside = sorted(set(values) - set(domain))
        repeated = sorted({value for value in values if values.count(value) > 1})
        missing = sorted(set(domain) - set(values))
        for problem, found in (("outside its domain", outside), ("in two groups", repeated),
                               ("in no group", missing)):
            if found:
                raise HnasError(f"few-shot split on {self.slot!r} (takes {list(domain)}): value(s) {found} "
                                f"{problem}")

    def part_of(self, space: SearchSpace, spec: Any) -> int:
        """Index of the part ``spec`` belongs to."""
        value = space.choices(spec)[self.slot]
        for index, group in enumerate(self.groups):
            if value in group:
                return index
        raise HnasError(f"subnet with {self.slot}={value} lies in no part of the split {self.describe()}")

    def part_name(self, index: int) -> str:
        """Folder name of part ``index``: ``part0_depth3-2-3``."""
        return f"part{index}_{self.slot}-" + "-".join(str(value) for value in self.groups[index])

    def distribution(self, index: int, base: str | Mapping[str, Any] = "uniform") -> dict[str, Any]:
        """The distribution setting of part ``index``: ``base`` with the slot narrowed to its group."""
        if isinstance(base, Mapping):
            slots = dict(base.get("slots") or {})
            name = base.get("name", "uniform")
        else:
            slots, name = {}, base
        if self.slot in slots:
            raise HnasError(f"the parent's distribution already narrows {self.slot!r}; split on another slot")
        slots[self.slot] = list(self.groups[index])
        return {"name": name, "slots": slots}

    def describe(self) -> str:
        return f"{self.slot}=" + "/".join(",".join(str(value) for value in group) for group in self.groups)

    def to_json(self) -> dict[str, Any]:
        return {"slot": self.slot, "groups": [list(group) for group in self.groups]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Split:
        try:
            return cls(str(data["slot"]), tuple(tuple(int(value) for value in group) for group in data["groups"]))
        except (KeyError, TypeError, ValueError) as error:
            raise HnasError(f"few-shot split {data!r}: expected {{slot, groups}} ({error})") from None


def always_used_slots(space: SearchSpace) -> list[str]:
    """Slots with more than one value that every subnet uses (active in the smallest subnet)."""
    smallest = space.choices(space.min_spec())
    return [slot.name for slot in space.slots() if smallest[slot.name] is not None and len(slot.domain) > 1]
