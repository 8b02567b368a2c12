"""The mbv2 family: OFA / ProxylessNAS-style MobileNetV2 spaces and their arch code.

A network is a 3x3 stem conv (stride ``stem_stride``), a fixed first inverted-residual block
(expand ratio 1, 3x3 depthwise), elastic stages of inverted-residual blocks, a 1x1 head conv,
global average pooling and a linear classifier. Each elastic block is ``1x1 expand -> BN ->
ReLU6 -> kxk depthwise (stride on a stage's first block) -> BN -> ReLU6 -> 1x1 project -> BN``,
with a residual addition when its stride is 1 and its input and output widths match (every
block but a stage's first).

**MobileNetV3 options** (OFA's ``ofa_mbv3``; the defaults leave a MobileNetV2 space as above):
``block_activations`` gives the first block and each stage their own non-linearity (the stem
and head keep ``activation``); ``stage_se`` puts a squeeze-and-excitation gate after the
depthwise conv's BN and activation in every block of the chosen stages: global average pool,
1x1 conv (with bias) to ``make_divisible(mid // se_reduction, channel_divisor)`` channels, ReLU,
1x1 conv (with bias) back to ``mid``, h-sigmoid ``relu6(x + 3) / 6``, times the input, where
``mid`` is the block's *active* middle width (so the gate narrows with the expand ratio, its
leading channels sliced in the supernet); ``mix_channels`` adds MobileNetV3's feature-mix layer
after the pooling: a 1x1 conv (no bias, no BN) to that width and ``activation``; ``dropout`` is
applied before the classifier. Per block the kernel size (``kernel_choices``, the centre of the
largest kernel) and the expand ratio (``expand_choices``: the middle width is
``make_divisible(in_channels * ratio, channel_divisor)``) are elastic, per stage the depth.

**Elastic widths** (``width_choices``, PSS-Net's MobileNetV2): the output width of the stem, of
the first block and of each stage (all blocks of a stage share it) is chosen from an increasing
list whose largest entry is the supernet's width; a block's middle width then follows its
actual input width (``make_divisible(actual_in * ratio, channel_divisor)``). A list of one
width fixes it (no slot, no code digit). The head conv keeps ``last_channels``. A space without
``width_choices`` has the fixed widths above.

Arch code (``R + W + S + 2 * sum(stage_blocks)`` digits; 55 for ``mbv2``, 37 for ``mbv2_tiny``,
47 for ``pss_mbv2``)::

    [0:R]      image-size code (1 -> the first resolution), R digits for the number of
               resolutions (:mod:`hnas.search_spaces.resolution`)
    [R:R+W]    only with elastic widths: the width index (1 = narrowest) of each width with a
               choice (stem, first block, stages in order), zero-padded to the digits of its
               number of choices
    then       depth of each of the S stages
    then       two digits per block slot, stage by stage: kernel size, expand ratio (the values
               themselves, e.g. "76" = 7x7 kernel, expand 6); "00" for slots beyond the depth

``ofa_mbv3`` (OFA's MobileNetV3, ``d234_e346_k357_w1.0``) has 46 digits: the image-size code
(1..4 for 128, 160, 192, 224 px), the depths of its 5 stages (2..4), then kernel and expand
pairs for 4 slots per stage, e.g. the largest subnet at 224 px is ``4`` + ``44444`` +
``76`` * 20 and the smallest at 128 px ``1`` + ``22222`` + ``3333 0000`` per stage.
``ofa_mbv3_tiny`` has the same layout (image-size code 1..4 for 16, 20, 24, 28 px).

Choice view: ``resolution``; with elastic widths ``width.stem``, ``width.first`` and
``width.s{s}`` for the widths with a choice (values: the width index, as in the code, so one
index means "that far up its list" in every slot); per stage ``s`` (1-based) ``depth{s}`` then
``s{s}.b{b}.kernel`` and ``s{s}.b{b}.expand`` for every block slot. Nothing is tied: a stage's
blocks share one width slot, so no residual addition constrains a choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from hnas.errors import ArchCodeError
from hnas.search_spaces.activations import check_activation
from hnas.search_spaces.base import Choices, SearchSpace, Slot
from hnas.search_spaces.channels import make_divisible
from hnas.search_spaces.codes import block_slot_active, check_digits, check_padding, digit
from hnas.search_spaces.mbv2.spec import MBBlockShape, MBV2Spec
from hnas.search_spaces.resolution import (
    check_resolutions,
    decode_resolution,
    encode_resolution,
    resolution_digits,
)

if TYPE_CHECKING:
    from paddle import nn

__all__ = ["MBBlockShape", "MBV2Space", "MBV2Spec"]



@dataclass(frozen=True)
class MBV2Space(SearchSpace):
    """An elastic MobileNetV2 space (see the module docstring).

    Attributes:
        name: registry name.
        stem_channels: output channels of the stem conv.
        first_channels: output channels of the fixed first block.
        stage_channels: output channels of each elastic stage.
        stage_strides: stride of each stage's first block.
        stage_blocks: block slots (maximum depth) per stage.
        depth_choices: allowed depths per stage.
        kernel_choices: allowed depthwise kernel sizes (odd, at most 9; the largest is stored).
        expand_choices: allowed expand ratios (1 to 9).
        width_choices: elastic widths: increasing channel choices of the stem, the first block
            and each stage (``S + 2`` lists, each ending at the fixed width above); empty: fixed.
        last_channels: output channels of the 1x1 head conv.
        stem_stride: stride of the stem conv.
        channel_divisor: middle widths are ``make_divisible(in * ratio, divisor)``.
        kernel_transform: OFA's learned kernel transformation: a smaller kernel is the centre of
            the next larger one times a learned ``k^2 x k^2`` matrix (identity at start), applied
            from the largest kernel down; ``False``: plain centre crop.
        in_channels: image channels.
        num_classes: classifier outputs.
        resolutions: input size of image-size code 1, 2, ...
        activation: the non-linearity of stem, blocks and head (:mod:`hnas.search_spaces.activations`).
        block_activations: MobileNetV3: the non-linearity of the first block and of each stage's
            blocks (``S + 1`` names); empty: ``activation`` everywhere.
        stage_se: MobileNetV3: per stage, whether its blocks have a squeeze-and-excitation gate;
            empty: none has.
        se_reduction: a gate's middle width is ``make_divisible(mid // se_reduction, channel_divisor)``.
        mix_channels: MobileNetV3's feature-mix layer after the pooling (1x1 conv without bias or
            BN, then ``activation``) to this width; 0: none (MobileNetV2's head).
        dropout: dropout rate before the classifier.
    """

    family: ClassVar[str] = "mbv2"

    name: str = "mbv2"
    stem_channels: int = 32
    first_channels: int = 16
    stage_channels: tuple[int, ...] = (24, 32, 64, 96, 160, 320)
    stage_strides: tuple[int, ...] = (2, 2, 2, 1, 2, 1)
    stage_blocks: tuple[int, ...] = (4, 4, 4, 4, 4, 4)
    depth_choices: tuple[tuple[int, ...], ...] = ((2, 3, 4),) * 6
    kernel_choices: tuple[int, ...] = (3, 5, 7)
    expand_choices: tuple[int, ...] = (3, 4, 6)
    width_choices: tuple[tuple[int, ...], ...] = ()
    last_channels: int = 1280
    stem_stride: int = 2
    channel_divisor: int = 8
    kernel_transform: bool = False
    in_channels: int = 3
    num_classes: int = 1000
    resolutions: tuple[int, ...] = (224,)
    activation: str = "relu6"
    block_activations: tuple[str, ...] = ()
    stage_se: tuple[bool, ...] = ()
    se_reduction: int = 4
    mix_channels: int = 0
    dropout: float = 0.0

    def __post_init__(self) -> None:
        check_activation(self.activation, self.name)
        self._check_mobilenetv3_options()
        n = len(self.stage_channels)
        for attr in ("stage_strides", "stage_blocks", "depth_choices"):
            if len(getattr(self, attr)) != n:
                raise ValueError(f"space {self.name!r}: {attr} must have {n} entries (one per stage)")
        for stage, (choices, blocks) in enumerate(zip(self.depth_choices, self.stage_blocks)):
            if not choices or min(choices) < 1 or max(choices) > min(blocks, 9):
                raise ValueError(f"space {self.name!r}: depth choices {choices} of stage {stage + 1} must lie in "
                                 f"1..{min(blocks, 9)}")
        if not self.kernel_choices or any(k % 2 == 0 or not 1 <= k <= 9 for k in self.kernel_choices):
            raise ValueError(f"space {self.name!r}: kernel choices {self.kernel_choices} must be odd digits")
        if not self.expand_choices or any(not 1 <= e <= 9 for e in self.expand_choices):
            raise ValueError(f"space {self.name!r}: expand choices {self.expand_choices} must be digits 1..9")
        check_resolutions(self.resolutions, self.name)
        if self.width_choices:
            self._check_width_choices()

    def _check_mobilenetv3_options(self) -> None:
        stages = len(self.stage_channels)
        if self.block_activations and len(self.block_activations) != stages + 1:
            raise ValueError(f"space {self.name!r}: block_activations needs {stages + 1} names (first block, one per "
                             f"stage), got {len(self.block_activations)}")
        for activation in self.block_activations:
            check_activation(activation, self.name)
        if self.stage_se and (len(self.stage_se) != stages or any(not isinstance(se, bool) for se in self.stage_se)):
            raise ValueError(f"space {self.name!r}: stage_se needs {stages} booleans (one per stage), "
                             f"got {list(self.stage_se)}")
        if self.se_reduction < 1 or self.mix_channels < 0:
            raise ValueError(f"space {self.name!r}: se_reduction must be >= 1 and mix_channels >= 0, got "
                             f"{self.se_reduction} / {self.mix_channels}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"space {self.name!r}: dropout must lie in [0, 1), got {self.dropout}")

    def _check_width_choices(self) -> None:
        fixed = self.fixed_widths
        if len(self.width_choices) != len(fixed):
            raise ValueError(f"space {self.name!r}: width_choices needs {len(fixed)} lists (stem, first block, "
                             f"one per stage), got {len(self.width_choices)}")
        for slot, (choices, widest) in enumerate(zip(self.width_choices, fixed)):
            if not choices or min(choices) < 1 or list(choices) != sorted(set(choices)) or choices[-1] != widest:
                raise ValueError(f"space {self.name!r}: width choices {list(choices)} of {_width_label(slot)} must be "
                                 f"positive, strictly increasing and end at its width {widest}")
        # A residual addition is built where stride 1 meets equal widths; with elastic widths that
        # must hold for every subnet or for none (blocks after a stage's first always have it).
        junctions = [(0, 1, 1)] + [(slot + 1, slot + 2, self.stage_strides[slot]) for slot in range(self.num_stages)]
        for before, after, stride in junctions:
            a, b = self.width_choices[before], self.width_choices[after]
            if stride == 1 and set(a) & set(b) and not (len(a) == len(b) == 1):
                raise ValueError(f"space {self.name!r}: {_width_label(before)} and {_width_label(after)} widths "
                                 f"overlap ({list(a)} / {list(b)}) at a stride-1 block, so its shortcut would come "
                                 "and go with the widths")

    @property
    def num_stages(self) -> int:
        return len(self.stage_channels)

    @property
    def max_kernel(self) -> int:
        return max(self.kernel_choices)

    @property
    def fixed_widths(self) -> tuple[int, ...]:
        """The largest widths: stem, first block, each stage."""
        return (self.stem_channels, self.first_channels, *self.stage_channels)

    @cached_property
    def _elastic_widths(self) -> tuple[tuple[int, str, tuple[int, ...], int], ...]:
        """``(position in the widths, slot name, choices, code digits)`` of every width with a choice."""
        names = ("width.stem", "width.first", *(f"width.s{stage}" for stage in range(1, self.num_stages + 1)))
        return tuple((slot, names[slot], choices, len(str(len(choices))))
                     for slot, choices in enumerate(self.width_choices) if len(choices) > 1)

    @cached_property
    def _width_digits(self) -> tuple[int, ...]:
        return tuple(digits for *_, digits in self._elastic_widths)

    @cached_property
    def code_length(self) -> int:
        return (resolution_digits(self.resolutions) + sum(self._width_digits) + self.num_stages
                + 2 * sum(self.stage_blocks))

    def mid_channels(self, in_channels: int, expand: int) -> int:
        return make_divisible(in_channels * expand, self.channel_divisor)

    @property
    def first_activation(self) -> str:
        """The first block's non-linearity."""
        return self.block_activations[0] if self.block_activations else self.activation

    def stage_activation(self, stage: int) -> str:
        """The non-linearity of the blocks of ``stage`` (0-based)."""
        return self.block_activations[stage + 1] if self.block_activations else self.activation

    def se_channels(self, stage: int, mid_channels: int) -> int:
        """Middle width of the gate of a ``stage`` (0-based) block with ``mid_channels``; 0: no gate."""
        if not (self.stage_se and self.stage_se[stage]):
            return 0
        return make_divisible(mid_channels // self.se_reduction, self.channel_divisor)

    @property
    def feature_channels(self) -> int:
        """Width of the classifier's input: the feature mix's, or the head conv's without one."""
        return self.mix_channels or self.last_channels

    @property
    def stage_specific_blocks(self) -> bool:
        """Whether blocks differ by stage beyond their shapes (activations or gates; latency keys then name them)."""
        return bool(self.block_activations or any(self.stage_se))

    def stage_in_channels(self, stage: int) -> int:
        """Largest input width of ``stage`` (0-based)."""
        return self.first_channels if stage == 0 else self.stage_channels[stage - 1]

    def widths(self, spec: MBV2Spec) -> tuple[int, ...]:
        """Output widths of ``spec``'s stem, first block and stages."""
        return spec.widths if self.width_choices else self.fixed_widths

    # --- code -----------------------------------------------------------------------------

    def code_format(self) -> str:
        widths = (f"the width index (1 = narrowest) of {', '.join(n for _, n, *_ in self._elastic_widths)} "
                  f"({list(self._width_digits)} digits), " if self._elastic_widths else "")
        return (f"{self.code_length} digits: image-size code ({resolution_digits(self.resolutions)} digit(s)), "
                f"{widths}{self.num_stages} stage depths, then kernel size and expand ratio per block slot, '00' for "
                "inactive slots")

    def decode(self, code: str) -> MBV2Spec:
        code = check_digits(code, self.code_length)
        resolution = decode_resolution(code, 0, self.resolutions, self.name)
        position = resolution_digits(self.resolutions)
        widths = [choices[0] for choices in self.width_choices]
        for slot, _, choices, size in self._elastic_widths:
            index = int(code[position:position + size])
            if not 1 <= index <= len(choices):
                raise ArchCodeError(code, position, f"width index of {_width_label(slot)} is "
                                    f"{code[position:position + size]}, expected 1..{len(choices)} (space "
                                    f"{self.name!r}: {', '.join(map(str, choices))} channels)")
            widths[slot] = choices[index - 1]
            position += size
        depths = tuple(digit(code, position + s, f"depth of stage {s + 1}", self.depth_choices[s])
                       for s in range(self.num_stages))
        position += self.num_stages
        kernels: list[tuple[int, ...]] = []
        expands: list[tuple[int, ...]] = []
        for stage, depth in enumerate(depths):
            stage_kernels, stage_expands = [], []
            for block in range(self.stage_blocks[stage]):
                where = f"stage {stage + 1} block {block + 1}"
                if block < depth:
                    stage_kernels.append(digit(code, position, f"kernel size of {where}", self.kernel_choices))
                    stage_expands.append(digit(code, position + 1, f"expand ratio of {where}", self.expand_choices))
                else:
                    check_padding(code, position, 2, where, depth)
                position += 2
            kernels.append(tuple(stage_kernels))
            expands.append(tuple(stage_expands))
        return MBV2Spec(resolution, depths, tuple(kernels), tuple(expands), tuple(widths))

    def encode(self, spec: MBV2Spec) -> str:
        if not isinstance(spec, MBV2Spec):
            raise ValueError(f"not an mbv2 spec: {spec!r}")
        if not len(spec.depths) == len(spec.kernels) == len(spec.expands) == self.num_stages:
            raise ValueError(f"spec must have {self.num_stages} stages: {spec}")
        if len(spec.widths) != len(self.width_choices):
            raise ValueError(f"spec must have {len(self.width_choices)} widths: {spec}")
        parts = [encode_resolution(spec.resolution, self.resolutions)]
        for slot, (width, choices) in enumerate(zip(spec.widths, self.width_choices)):
            if width not in choices:
                raise ValueError(f"{_width_label(slot)} width {width} is not a choice of space {self.name!r}: "
                                 f"{list(choices)}")
        parts += [f"{choices.index(spec.widths[slot]) + 1:0{size}d}" for slot, _, choices, size in self._elastic_widths]
        parts += map(str, spec.depths)
        for stage, depth in enumerate(spec.depths):
            if depth not in self.depth_choices[stage]:
                raise ValueError(f"depth {depth} of stage {stage + 1} not in {self.depth_choices[stage]}")
            kernels, expands = spec.kernels[stage], spec.expands[stage]
            if len(kernels) != depth or len(expands) != depth:
                raise ValueError(f"stage {stage + 1} has depth {depth} but {len(kernels)} kernels / "
                                 f"{len(expands)} expand ratios")
            for kernel, expand in zip(kernels, expands):
                if kernel not in self.kernel_choices or expand not in self.expand_choices:
                    raise ValueError(f"stage {stage + 1}: kernel {kernel} / expand {expand} not in "
                                     f"{self.kernel_choices} / {self.expand_choices}")
                parts.append(f"{kernel}{expand}")
            parts.append("00" * (self.stage_blocks[stage] - depth))
        return "".join(parts)

    # --- choice view ----------------------------------------------------------------------

    @cached_property
    def _slots(self) -> tuple[Slot, ...]:
        slots = [Slot("resolution", self.resolutions, "resolution")]
        slots += [Slot(name, tuple(range(1, len(choices) + 1)), "width")
                  for _, name, choices, _ in self._elastic_widths]
        for stage, blocks in enumerate(self.stage_blocks, start=1):
            slots.append(Slot(f"depth{stage}", self.depth_choices[stage - 1], "depth"))
            for b in range(1, blocks + 1):
                slots.append(Slot(f"s{stage}.b{b}.kernel", self.kernel_choices, "kernel"))
                slots.append(Slot(f"s{stage}.b{b}.expand", self.expand_choices, "expand"))
        return tuple(slots)

    def slots(self) -> tuple[Slot, ...]:
        return self._slots

    def is_active(self, slot: str, values: Mapping[str, int | None]) -> bool:
        return block_slot_active(slot, values)

    def choices(self, spec: MBV2Spec) -> Choices:
        values: Choices = {"resolution": spec.resolution}
        values.update({name: choices.index(spec.widths[slot]) + 1 for slot, name, choices, _ in self._elastic_widths})
        for stage, blocks in enumerate(self.stage_blocks, start=1):
            depth = spec.depths[stage - 1]
            values[f"depth{stage}"] = depth
            for b in range(1, blocks + 1):
                active = b <= depth
                values[f"s{stage}.b{b}.kernel"] = spec.kernels[stage - 1][b - 1] if active else None
                values[f"s{stage}.b{b}.expand"] = spec.expands[stage - 1][b - 1] if active else None
        return values

    def from_choices(self, values: Mapping[str, int | None]) -> MBV2Spec:
        self.check_choices(values)
        depths = tuple(int(values[f"depth{s}"]) for s in range(1, self.num_stages + 1))  # type: ignore[arg-type]
        kernels = tuple(tuple(int(values[f"s{s}.b{b}.kernel"]) for b in range(1, d + 1))  # type: ignore[arg-type]
                        for s, d in enumerate(depths, start=1))
        expands = tuple(tuple(int(values[f"s{s}.b{b}.expand"]) for b in range(1, d + 1))  # type: ignore[arg-type]
                        for s, d in enumerate(depths, start=1))
        widths = [choices[0] for choices in self.width_choices]
        for slot, name, choices, _ in self._elastic_widths:
            widths[slot] = choices[int(values[name]) - 1]  # type: ignore[arg-type]
        return MBV2Spec(int(values["resolution"]), depths, kernels, expands, tuple(widths))  # type: ignore[arg-type]

    # --- shapes, networks and costs ---------------------------------------------------------

    def block_shapes(self, spec: MBV2Spec) -> list[MBBlockShape]:
        """Every active elastic block, in forward order."""
        shapes = []
        widths = self.widths(spec)
        for stage, depth in enumerate(spec.depths):
            in_channels, out_channels = widths[stage + 1], widths[stage + 2]
            for block in range(depth):
                mid_channels = self.mid_channels(in_channels, spec.expands[stage][block])
                shapes.append(MBBlockShape(
                    stage=stage, index=block, in_channels=in_channels, mid_channels=mid_channels,
                    out_channels=out_channels, kernel=spec.kernels[stage][block],
                    stride=self.stage_strides[stage] if block == 0 else 1,
                    activation=self.stage_activation(stage), se_channels=self.se_channels(stage, mid_channels),
                ))
                in_channels = out_channels
        return shapes

    def build_supernet(self) -> Any:
        from hnas.search_spaces.mbv2.supernet import MBV2Supernet

        return MBV2Supernet(self)

    def build_standalone(self, spec: MBV2Spec, zero_init_residual: bool = False) -> nn.Layer:
        from hnas.search_spaces.mbv2.standalone import build_standalone

        return build_standalone(self, spec, zero_init_residual=zero_init_residual)

    def zen_network(self, spec: MBV2Spec) -> Any:
        from hnas.search_spaces.mbv2.zen import ZenMBV2

        return ZenMBV2(self.build_standalone(spec))

    def flops(self, spec: MBV2Spec, resolution: int | None = None, convention: str = "paddle") -> int:
        from hnas.search_spaces.mbv2.flops import mbv2_flops

        return mbv2_flops(self, spec, resolution, convention)

    def params(self, spec: MBV2Spec) -> int:
        from hnas.search_spaces.mbv2.flops import mbv2_params

        return mbv2_params(self, spec)

    def num_blocks(self, spec: MBV2Spec) -> int:
        return sum(spec.depths)

    def latency_keys(self, spec: MBV2Spec) -> list[tuple[str, tuple[Any, ...]]]:
        from hnas.search_spaces.mbv2.latency import subnet_keys

        return subnet_keys(self, spec)

    def all_latency_keys(self) -> list[tuple[str, tuple[Any, ...]]]:
        from hnas.search_spaces.mbv2.latency import all_keys

        return list(all_keys(self))

    def build_latency_key(self, key: tuple[str, tuple[Any, ...]]) -> Any:
        from hnas.search_spaces.mbv2.latency import build_key

        return build_key(self, key)

    def prefix_key(self, spec: MBV2Spec) -> tuple[int, ...]:
        """The stem and the first block, which depend on the resolution and their two widths only.

        The cut is before the first elastic stage: stage 1 alone has thousands of kernel and
        expand combinations, so few archs of a file would share it, while every arch of one
        resolution (and, with elastic widths, stem and first-block width) shares the part before.
        """
        return (spec.resolution, *self.widths(spec)[:2])

    def width_ratio(self, spec: MBV2Spec) -> float:
        """Mean of the active blocks' expand ratios, and of the elastic widths, each as a fraction of its largest."""
        ratios = [e / max(self.expand_choices) for stage in spec.expands for e in stage]
        ratios += [spec.widths[slot] / choices[-1] for slot, _, choices, _ in self._elastic_widths]
        return sum(ratios) / len(ratios)


def _width_label(slot: int) -> str:
    """``"stem"``, ``"first block"``, ``"stage 1"``, ... for width slot ``slot``."""
    return ("stem", "first block")[slot] if slot < 2 else f"stage {slot - 1}"
