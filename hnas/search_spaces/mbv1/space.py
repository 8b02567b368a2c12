"""The mbv1 family: MobileNetV1 width spaces (PSS-Net's and DS-Net's) and their arch code.

A network is a 3x3 stem conv (stride ``stem_stride``), stages of depthwise-separable blocks
and a classifier on the globally pooled features; no residual additions, no head conv. Each
block is ``3x3 depthwise (stride on a stage's first block) -> BN -> act [-> SE] -> 1x1 pointwise
-> BN -> act``; the depthwise conv keeps its input width, the pointwise conv sets the block's
output width. Every block of a stage has the stage's width.

**Width slots.** The stem and each stage have one width, chosen from an increasing list of
channel counts (``width_choices[0]`` for the stem, ``width_choices[s]`` for stage ``s``). In the
choice view and the arch code a width is its **index** in that list, 1 for the narrowest, so
slots of different stages can share one index (``tied_stages``: DS-Net drives its two
slimmable stages with one index). :meth:`MBV1Space.widths_of` / :meth:`MBV1Space.width_index`
translate between indices and channels.

Arch code (``R + sum(D_i)`` digits, zero-padded numbers)::

    [0:R]      image-size code (1 -> the first resolution), R = digits of len(resolutions)
    then       for the stem and each stage: the width index, D_i = digits of the slot's
               number of choices (pss_mbv1: 1 digit up to 9 choices, 2 digits for the
               17 and 33 choices of its 512- and 1024-channel layers)

``pss_mbv1`` codes have 24 digits (``13`` = 224 px, then ``2`` ``3`` ... ``33`` ``33`` for the
largest net), ``dsnet_mbv1`` codes 9 (``1`` ``2222`` ``14`` ``14``: DS-Net's ``largest`` net).

Choice view: ``resolution``, ``stem.width``, ``s1.width`` ... ``sN.width`` (index values). The
stages of each ``tied_stages`` group form a tie group.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from hnas.errors import ArchCodeError
from hnas.search_spaces.activations import check_activation
from hnas.search_spaces.base import Choices, SearchSpace, Slot
from hnas.search_spaces.bn_option import check_bn_mode
from hnas.search_spaces.channels import make_divisible
from hnas.search_spaces.mbv1.spec import MBV1BlockShape, MBV1Spec
from hnas.search_spaces.resolution import (
    check_resolutions,
    decode_resolution,
    encode_resolution,
    resolution_digits,
    resolution_range,
)

if TYPE_CHECKING:
    from paddle import nn

    from hnas.search_spaces.distributions import Distribution

__all__ = ["DSNET_MBV1_WIDTHS", "MBV1_SPACES", "PSS_MBV1_CHANNELS", "PSS_MBV1_STRIDES", "MBV1BlockShape", "MBV1Space",
           "MBV1Spec", "multiplier_widths"]


def multiplier_widths(channels: int, low: float = 0.75, high: float = 1.0, divisor: int = 8) -> tuple[int, ...]:
    """The distinct channel counts ``make_divisible(channels * m, divisor)`` gives for every
    multiplier ``m`` on PSS-Net's grid (``low`` to ``high`` in steps of 0.001), increasing."""
    steps = round((high - low) * 1000)
    return tuple(sorted({make_divisible(channels * (low + i / 1000), divisor) for i in range(steps + 1)}))


#: PSS-Net's MobileNetV1 (``models/mobilenet_v1.py``): pointwise widths and strides of its 13
#: blocks, one stage each so every block has its own width slot.
PSS_MBV1_CHANNELS: tuple[int, ...] = (64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024)
PSS_MBV1_STRIDES: tuple[int, ...] = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1)


@dataclass(frozen=True)
class MBV1Space(SearchSpace):
    """A MobileNetV1 width space (see the module docstring).

    Attributes:
        name: registry name.
        width_choices: increasing channel choices of the stem, then of each stage.
        stage_blocks: blocks per stage.
        stage_strides: stride of each stage's first block (the others have stride 1).
        stem_stride: stride of the stem conv.
        tied_stages: groups of stages (1-based; 0 is the stem) whose width slots hold one index.
        se_ratio: squeeze-and-excitation in every block, reducing to ``round(max_in * se_ratio)``
            channels (0: no SE).
        in_channels: image channels.
        num_classes: classifier outputs.
        resolutions: input size of image-size code 1, 2, ...
        activation: the non-linearity of stem and blocks (:mod:`hnas.search_spaces.activations`).
        bn: ``shared`` (one set of BN statistics per layer, sliced) or ``per_width`` (private
            statistics per width, DS-Net's; spaces with width levels only,
            :mod:`hnas.search_spaces.per_width_bn`).
    """

    family: ClassVar[str] = "mbv1"

    name: str = "pss_mbv1"
    width_choices: tuple[tuple[int, ...], ...] = tuple(multiplier_widths(c) for c in (32, *PSS_MBV1_CHANNELS))
    stage_blocks: tuple[int, ...] = (1,) * 13
    stage_strides: tuple[int, ...] = PSS_MBV1_STRIDES
    stem_stride: int = 2
    tied_stages: tuple[tuple[int, ...], ...] = ()
    se_ratio: float = 0.0
    in_channels: int = 3
    num_classes: int = 1000
    resolutions: tuple[int, ...] = resolution_range(128, 224, 8)
    activation: str = "relu6"
    bn: str = "shared"

    def __post_init__(self) -> None:
        check_activation(self.activation, self.name)
        stages = len(self.stage_blocks)
        if len(self.width_choices) != stages + 1:
            raise ValueError(f"space {self.name!r}: width_choices needs {stages + 1} lists (stem + one per stage), "
                             f"got {len(self.width_choices)}")
        if len(self.stage_strides) != stages or any(b < 1 for b in self.stage_blocks):
            raise ValueError(f"space {self.name!r}: stage_strides must have {stages} entries and every stage a block")
        for slot, choices in enumerate(self.width_choices):
            if not choices or any(c < 1 for c in choices) or list(choices) != sorted(set(choices)):
                raise ValueError(f"space {self.name!r}: width choices {choices} of {_slot_label(slot)} must be "
                                 "positive and strictly increasing")
        for group in self.tied_stages:
            if len(group) < 2 or any(not 0 <= s <= stages for s in group):
                raise ValueError(f"space {self.name!r}: tied stages {group} must name 2+ stages in 0..{stages}")
            if len({len(self.width_choices[s]) for s in group}) > 1:
                raise ValueError(f"space {self.name!r}: tied stages {group} need the same number of width choices")
        check_resolutions(self.resolutions, self.name)
        if not 0 <= self.se_ratio <= 1:
            raise ValueError(f"space {self.name!r}: se_ratio must lie in [0, 1], got {self.se_ratio}")
        check_bn_mode(self.name, self.bn, self.width_levels())

    @property
    def num_stages(self) -> int:
        return len(self.stage_blocks)

    def max_width(self, slot: int) -> int:
        """Largest channel count of width slot ``slot`` (0 = stem)."""
        return self.width_choices[slot][-1]

    def se_channels(self, max_in_channels: int) -> int:
        """SE reduction width of a block whose widest input has ``max_in_channels`` (0: no SE)."""
        return max(1, round(max_in_channels * self.se_ratio)) if self.se_ratio > 0 else 0

    # --- widths ----------------------------------------------------------------------------

    def widths_of(self, indices: Sequence[int]) -> tuple[int, ...]:
        """Channels of 1-based width indices (stem first)."""
        return tuple(self.width_choices[slot][index - 1] for slot, index in enumerate(indices))

    def width_index(self, slot: int, channels: int) -> int:
        """1-based index of ``channels`` among the choices of width slot ``slot``.

        Raises:
            ValueError: ``channels`` is not one of them (naming the slot and the space).
        """
        choices = self.width_choices[slot]
        if channels not in choices:
            raise ValueError(f"{_slot_label(slot)} width {channels} is not a choice of space {self.name!r}: "
                             f"{_describe(choices)}")
        return choices.index(channels) + 1

    # --- code ------------------------------------------------------------------------------

    @cached_property
    def _field_digits(self) -> tuple[int, ...]:
        """Digits of the image-size code, then of each width slot's index."""
        return (resolution_digits(self.resolutions), *(len(str(len(c))) for c in self.width_choices))

    @cached_property
    def code_length(self) -> int:
        return sum(self._field_digits)

    def code_format(self) -> str:
        return (f"{self.code_length} digits: image-size code ({self._field_digits[0]} digit(s)), then the width index "
                f"(1 = narrowest) of the stem and of each of the {self.num_stages} stages, zero-padded to the digits "
                f"of its number of choices {list(self._field_digits[1:])}")

    def decode(self, code: str) -> MBV1Spec:
        if not isinstance(code, str):
            raise ArchCodeError(str(code), None, f"expected a string, got {type(code).__name__}")
        if len(code) != self.code_length:
            raise ArchCodeError(code, None, f"length {len(code)}, expected {self.code_length} ({self.code_format()})")
        for position, char in enumerate(code):
            if char not in "0123456789":
                raise ArchCodeError(code, position, f"{char!r} is not a digit")
        digits = self._field_digits
        resolution = decode_resolution(code, 0, self.resolutions, self.name)
        position = digits[0]
        indices: list[int] = []
        starts: list[int] = []
        for slot, choices in enumerate(self.width_choices):
            index = int(code[position:position + digits[slot + 1]])
            if not 1 <= index <= len(choices):
                raise ArchCodeError(code, position, f"width index of {_slot_label(slot)} is {index}, space "
                                    f"{self.name!r} takes 1..{len(choices)} ({_describe(choices)} channels)")
            indices.append(index)
            starts.append(position)
            position += digits[slot + 1]
        for group in self.tied_stages:
            first = group[0]
            for slot in group[1:]:
                if indices[slot] != indices[first]:
                    raise ArchCodeError(code, starts[slot], f"{_slot_label(slot)} shares {_slot_label(first)}'s width "
                                        f"index {indices[first]} in space {self.name!r}, got {indices[slot]}")
        return MBV1Spec(resolution, self.widths_of(indices))

    def encode(self, spec: MBV1Spec) -> str:
        indices = self._indices(spec)
        digits = self._field_digits
        parts = [encode_resolution(spec.resolution, self.resolutions)]
        parts += [str(index).zfill(digits[slot + 1]) for slot, index in enumerate(indices)]
        return "".join(parts)

    def _indices(self, spec: MBV1Spec) -> list[int]:
        """Width indices of ``spec`` after checking it belongs to the space (``ValueError`` otherwise)."""
        if not isinstance(spec, MBV1Spec):
            raise ValueError(f"not an mbv1 spec: {spec!r}")
        encode_resolution(spec.resolution, self.resolutions)  # ValueError if not a size of the space
        if len(spec.widths) != len(self.width_choices):
            raise ValueError(f"space {self.name!r} needs {len(self.width_choices)} widths (stem + stages), "
                             f"got {len(spec.widths)}")
        indices = [self.width_index(slot, width) for slot, width in enumerate(spec.widths)]
        for group in self.tied_stages:
            if len({indices[slot] for slot in group}) > 1:
                raise ValueError(f"stages {list(group)} of space {self.name!r} share one width index, got "
                                 f"{[indices[slot] for slot in group]}")
        return indices

    # --- choice view -----------------------------------------------------------------------

    @cached_property
    def _slots(self) -> tuple[Slot, ...]:
        slots = [Slot("resolution", self.resolutions, "resolution")]
        for slot, choices in enumerate(self.width_choices):
            slots.append(Slot(_slot_name(slot), tuple(range(1, len(choices) + 1)), "width"))
        return tuple(slots)

    def slots(self) -> tuple[Slot, ...]:
        return self._slots

    def tie_groups(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(_slot_name(slot) for slot in group) for group in self.tied_stages)

    def is_active(self, slot: str, values: Mapping[str, int | None]) -> bool:
        return True

    def choices(self, spec: MBV1Spec) -> Choices:
        values: Choices = {"resolution": spec.resolution}
        for slot, index in enumerate(self._indices(spec)):
            values[_slot_name(slot)] = index
        return values

    def from_choices(self, values: Mapping[str, int | None]) -> MBV1Spec:
        for slot in self._slots:
            if values.get(slot.name) not in slot.domain:
                raise ValueError(f"slot {slot.name} is {values.get(slot.name)!r}, expected one of {list(slot.domain)}")
        self.check_ties(values)
        indices = [int(values[_slot_name(slot)]) for slot in range(len(self.width_choices))]  # type: ignore[arg-type]
        return MBV1Spec(int(values["resolution"]), self.widths_of(indices))  # type: ignore[arg-type]

    # --- distributions ---------------------------------------------------------------------

    def distribution_names(self) -> dict[str, str]:
        names = {"uniform": "resolution and every width index uniform (tied stages share one index)"}
        if self.tied_stages:
            names["dsnet"] = ("DS-Net's uniform mode: the slots outside the tied stages at their narrowest width and "
                              "the smallest resolution, one width index uniform for the tied stages")
        return names

    def family_distribution(self, name: str) -> Distribution:
        """``"dsnet"``: every untied slot pinned to its narrowest width (and the first resolution), the
        tied stages uniform over their shared index (``dsnet_mbv1``: the 14 subnets DS-Net evaluates)."""
        from hnas.search_spaces.distributions import ChoiceDistribution

        if name != "dsnet" or not self.tied_stages:
            return super().family_distribution(name)
        tied = {_slot_name(slot) for group in self.tied_stages for slot in group}
        domains: dict[str, Sequence[int]] = {"resolution": (self.resolutions[0],)}
        for slot in self._slots[1:]:
            if slot.name not in tied:
                domains[slot.name] = (1,)
        return ChoiceDistribution(self, "dsnet", domains, pinned=tuple(domains))

    # --- dynamic width (DS-Net) -------------------------------------------------------------

    def width_levels(self) -> tuple[MBV1Spec, ...]:
        """With one group of tied stages (DS-Net): the subnets of the ``dsnet`` distribution, narrowest
        first (untied slots at their narrowest width, the tied stages at index 1, 2, ...)."""
        if len(self.tied_stages) != 1:
            return ()
        tied = set(self.tied_stages[0])
        count = len(self.width_choices[self.tied_stages[0][0]])
        return tuple(
            MBV1Spec(self.resolutions[0], tuple(choices[index if slot in tied else 0]
                                                for slot, choices in enumerate(self.width_choices)))
            for index in range(count)
        )

    def gate_points(self) -> tuple[str, ...]:
        """The first block of the first tied stage, whose SE reads the same (untied) input in every
        width level (DS-Net's gate position); none without SE or width levels."""
        if not self.se_ratio or not self.width_levels() or min(self.tied_stages[0]) == 0:
            return ()
        return (f"s{min(self.tied_stages[0])}.b1",)

    # --- shapes, networks and costs --------------------------------------------------------

    def block_shapes(self, spec: MBV1Spec | None = None) -> list[MBV1BlockShape]:
        """Every block in forward order, at the widths of ``spec`` (default: the largest)."""
        widths = spec.widths if spec is not None else tuple(choices[-1] for choices in self.width_choices)
        shapes = []
        in_channels, max_in = widths[0], self.max_width(0)
        for stage, blocks in enumerate(self.stage_blocks):
            for block in range(blocks):
                shapes.append(MBV1BlockShape(
                    stage=stage, index=block, in_channels=in_channels, out_channels=widths[stage + 1],
                    stride=self.stage_strides[stage] if block == 0 else 1, se_channels=self.se_channels(max_in),
                ))
                in_channels, max_in = widths[stage + 1], self.max_width(stage + 1)
        return shapes

    def build_supernet(self) -> Any:
        from hnas.search_spaces.mbv1.supernet import MBV1Supernet

        supernet = MBV1Supernet(self)
        if self.bn == "per_width":
            from hnas.search_spaces.per_width_bn import use_per_width_bn

            use_per_width_bn(supernet, (*self.width_levels(), self.max_spec(), self.min_spec()))
        return supernet

    def build_standalone(self, spec: MBV1Spec, zero_init_residual: bool = False) -> nn.Layer:
        """The plain network of ``spec``; ``zero_init_residual`` changes nothing (MobileNetV1 has no
        residual blocks) and is accepted so ``hnas standalone`` treats every family alike."""
        from hnas.search_spaces.mbv1.standalone import build_standalone

        return build_standalone(self, spec)

    def zen_network(self, spec: MBV1Spec) -> Any:
        from hnas.search_spaces.mbv1.zen import ZenMBV1

        return ZenMBV1(self.build_standalone(spec))

    def flops(self, spec: MBV1Spec, resolution: int | None = None, convention: str = "paddle") -> int:
        from hnas.search_spaces.mbv1.flops import mbv1_flops

        return mbv1_flops(self, spec, resolution, convention)

    def params(self, spec: MBV1Spec) -> int:
        from hnas.search_spaces.mbv1.flops import mbv1_params

        return mbv1_params(self, spec)

    def num_blocks(self, spec: MBV1Spec) -> int:
        return sum(self.stage_blocks)

    def width_ratio(self, spec: MBV1Spec) -> float:
        """Mean of each width slot's channels relative to its largest choice."""
        return sum(w / self.max_width(slot) for slot, w in enumerate(spec.widths)) / len(spec.widths)

    def latency_keys(self, spec: MBV1Spec) -> list[tuple[str, tuple[Any, ...]]]:
        from hnas.search_spaces.mbv1.latency import subnet_keys

        return subnet_keys(self, spec)

    def all_latency_keys(self) -> list[tuple[str, tuple[Any, ...]]]:
        from hnas.search_spaces.mbv1.latency import all_keys

        return list(all_keys(self))

    def build_latency_key(self, key: tuple[str, tuple[Any, ...]]) -> Any:
        from hnas.search_spaces.mbv1.latency import build_key

        return build_key(key, self.activation)


def _slot_name(slot: int) -> str:
    return "stem.width" if slot == 0 else f"s{slot}.width"


def _describe(choices: Sequence[int]) -> str:
    """``"24, 32"`` or, for an even range of more than 4, ``"768..1024 step 8"``."""
    steps = {b - a for a, b in zip(choices, choices[1:])}
    if len(choices) > 4 and len(steps) == 1:
        return f"{choices[0]}..{choices[-1]} step {steps.pop()}"
    return ", ".join(map(str, choices))


def _slot_label(slot: int) -> str:
    return "the stem" if slot == 0 else f"stage {slot}"


#: DS-Net's slimmable MobileNetV1 (``slimmable_mbnet_v1_bn_uniform``): stem, stages 1-3 with two
#: widths each, the 6-block stage 224..640 and the 2-block stage 736..1152 (14 widths, step 32).
DSNET_MBV1_WIDTHS: tuple[tuple[int, ...], ...] = (
    (16, 24), (32, 88), (48, 168), (96, 264), tuple(range(224, 641, 32)), tuple(range(736, 1153, 32)),
)

#: The named mbv1 spaces.
#: ``pss_mbv1``: PSS-Net's MobileNetV1 (14 width slots, 128..224 px in steps of 8; 24-digit codes).
#: ``dsnet_mbv1``: DS-Net's slimmable MobileNetV1 (SE, Swish; stages 4 and 5 share one of 14 width indices).
#: ``*_tiny``: the same layouts scaled for the embedded 28 px grayscale data.
MBV1_SPACES: tuple[MBV1Space, ...] = (
    MBV1Space(),
    MBV1Space(
        name="pss_mbv1_tiny",
        width_choices=tuple(multiplier_widths(c, divisor=4) for c in (16, 16, 32, 32, 48, 48)),
        stage_blocks=(1,) * 5,
        stage_strides=(1, 2, 1, 2, 1),
        in_channels=1,
        num_classes=10,
        resolutions=(20, 24, 28),
    ),
    MBV1Space(
        name="dsnet_mbv1",
        width_choices=DSNET_MBV1_WIDTHS,
        stage_blocks=(1, 2, 2, 6, 2),
        stage_strides=(1, 2, 2, 2, 2),
        tied_stages=((4, 5),),
        se_ratio=0.25,
        resolutions=(224,),
        activation="swish",
    ),
    MBV1Space(
        name="dsnet_mbv1_tiny",
        width_choices=((8, 12), (12, 16), (16, 24), (24, 32), tuple(range(24, 49, 8)), tuple(range(40, 65, 8))),
        stage_blocks=(1, 1, 1, 2, 1),
        stage_strides=(1, 2, 1, 2, 1),
        tied_stages=((4, 5),),
        se_ratio=0.25,
        in_channels=1,
        num_classes=10,
        resolutions=(28,),
        activation="swish",
    ),
)
