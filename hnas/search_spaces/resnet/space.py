"""The ResNet family: space definition and the typed subnet spec behind the 52-character arch code.

The CVPR 2022 NAS Track 1 code (``1558511111...``) is parsed once, here, into a
:class:`ResNetSpec`; the family's networks and costs work on the spec and on the per-block
:class:`BlockShape` list that :func:`block_shapes` derives from it.

Code layout for the ResNet48 space (52 characters)::

    [0]      image-size code (1 -> the first resolution of the space)
    [1:5]    depth of each of the 4 stages
    [5]      stem width code (tied to the stage-1 output width)
    [6:52]   two codes per block slot (conv1, conv2), 2 * max_depth per stage,
             inactive slots padded with "00"

Width codes 1..7 index ``ResNetSpace.width_ratios`` (1.0, 0.95, ..., 0.7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from hnas.errors import ArchCodeError, HnasError
from hnas.search_spaces.activations import check_activation, check_outer_activation
from hnas.search_spaces.base import Choices, SearchSpace, Slot
from hnas.search_spaces.resolution import decode_resolution

if TYPE_CHECKING:
    from hnas.search_spaces.distributions import Distribution
    from hnas.search_spaces.resnet.standalone import StandaloneResNet
    from hnas.search_spaces.resnet.supernet import ResNetSupernet
    from hnas.search_spaces.resnet.zen import ZenResNet

COMPETITION_RATIOS: tuple[float, ...] = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7)


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor`` without dropping below 90 %.

    Same rule as PaddleSlim's OFA layers and the MobileNet reference code.
    """
    min_value = divisor if min_value is None else min_value
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


#: Largest width code per stage (1-based) in the competition's test.json; the stem follows stage 1.
COMPETITION_MAX_WIDTH_CODE: dict[int, int] = {1: 3, 2: 3, 3: 5, 4: 7}


@dataclass(frozen=True)
class ResNetSpace(SearchSpace):
    """A ResNet-style elastic search space: stage layout, choices and stem.

    Choice view (:meth:`slots`, in draw order): ``resolution``; then per stage ``s``
    (1-based): ``depth{s}``, for stage 1 ``stem``, the conv2 width code of every block slot
    ``s{s}.b{b}.conv2`` and the conv1 width code ``s{s}.b{b}.conv1``. A stage's conv2 codes
    (and, in stage 1, the stem) form one tie group: the residual additions tie those widths.
    Block slots beyond the stage's depth are unused (``None``).

    Attributes:
        name: registry name of the space.
        stage_blocks: maximum number of BasicBlocks per stage.
        base_channels: output channels of each stage at ratio 1.0.
        stage_strides: stride of the first block of each stage.
        depth_choices: allowed depths per stage.
        width_ratios: channel ratio of width codes 1, 2, ... (code k -> ratios[k-1]).
        channel_divisor: channels are ``make_divisible(int(base * ratio), divisor)``.
        stem_kernel_size: kernel of the stem conv (7 for ImageNet, 3 for small images).
        stem_stride: stride of the stem conv.
        stem_max_pool: whether a 3x3/2 max-pool follows the stem.
        in_channels: image channels (3 for RGB, 1 for grayscale).
        num_classes: classifier outputs.
        resolutions: input size of image-size code 1, 2, ...
        activation: the non-linearity of the stem and inside each block (after its first conv).
        outer_activation: the non-linearity after each residual addition (``relu``, ``prelu``,
            ``mish``, ``swish``, ...: :data:`~hnas.search_spaces.activations.OUTER_ACTIVATIONS`);
            ``prelu`` is one trained slope per block, shared by every subnet using the block.
    """

    family: ClassVar[str] = "resnet"

    name: str = "resnet48"
    stage_blocks: tuple[int, ...] = (5, 5, 8, 5)
    base_channels: tuple[int, ...] = (64, 128, 256, 512)
    stage_strides: tuple[int, ...] = (1, 2, 2, 2)
    depth_choices: tuple[tuple[int, ...], ...] = (
        (2, 3, 4, 5),
        (2, 3, 4, 5),
        (2, 3, 4, 5, 6, 7, 8),
        (2, 3, 4, 5),
    )
    width_ratios: tuple[float, ...] = COMPETITION_RATIOS
    channel_divisor: int = 8
    stem_kernel_size: int = 7
    stem_stride: int = 2
    stem_max_pool: bool = True
    in_channels: int = 3
    num_classes: int = 1000
    resolutions: tuple[int, ...] = (224,)
    activation: str = "relu"
    outer_activation: str = "relu"

    def __post_init__(self) -> None:
        check_activation(self.activation, self.name)
        check_outer_activation(self.outer_activation, self.name)
        n = len(self.stage_blocks)
        for attr in ("base_channels", "stage_strides", "depth_choices"):
            if len(getattr(self, attr)) != n:
                raise ValueError(f"space {self.name!r}: {attr} must have {n} entries (one per stage)")
        for stage, (choices, blocks) in enumerate(zip(self.depth_choices, self.stage_blocks)):
            if not choices or min(choices) < 1 or max(choices) > blocks:
                raise ValueError(
                    f"space {self.name!r}: depth choices {choices} of stage {stage + 1} "
                    f"must lie in 1..{blocks}"
                )
        if not 1 <= len(self.width_ratios) <= 9:
            raise ValueError(f"space {self.name!r}: 1 to 9 width ratios fit in one code digit")
        if not 1 <= len(self.resolutions) <= 9:
            raise ValueError(f"space {self.name!r}: 1 to 9 resolutions fit in one code digit")

    @property
    def num_stages(self) -> int:
        return len(self.stage_blocks)

    @cached_property
    def width_codes(self) -> range:
        return range(1, len(self.width_ratios) + 1)

    @cached_property
    def code_length(self) -> int:
        return 1 + self.num_stages + 1 + 2 * sum(self.stage_blocks)

    @property
    def stem_base_channels(self) -> int:
        return self.base_channels[0]

    def channels(self, base: int, code: int) -> int:
        """Channels of a conv whose full width is ``base`` at width ``code``."""
        ratio = self.width_ratios[code - 1]
        # The epsilon keeps int() from rounding 17.0 down to 16 when base * ratio is 16.999...
        return make_divisible(int(base * ratio + 1e-9), self.channel_divisor)

    def has_downsample(self, stage: int, block: int) -> bool:
        """Whether block ``block`` of ``stage`` (both 0-based) has a 1x1 projection shortcut."""
        if block > 0:
            return False
        in_base = self.stem_base_channels if stage == 0 else self.base_channels[stage - 1]
        return self.stage_strides[stage] != 1 or in_base != self.base_channels[stage]

    # --- SearchSpace: code --------------------------------------------------------------------

    def decode(self, code: str) -> ResNetSpec:
        return decode(code, self)

    def encode(self, spec: ResNetSpec) -> str:
        return encode(spec, self)

    def code_format(self) -> str:
        return (f"{self.code_length} digits: image-size code, {self.num_stages} stage depths, stem width code, "
                "then two width codes (conv1, conv2) per block slot, '00' for inactive slots")

    def max_spec(self) -> ResNetSpec:
        return max_spec(self)

    def min_spec(self) -> ResNetSpec:
        return min_spec(self)

    # --- SearchSpace: choice view -------------------------------------------------------------

    @cached_property
    def _slots(self) -> tuple[Slot, ...]:
        widths = tuple(self.width_codes)
        slots = [Slot("resolution", self.resolutions, "resolution")]
        for stage, blocks in enumerate(self.stage_blocks, start=1):
            slots.append(Slot(f"depth{stage}", self.depth_choices[stage - 1], "depth"))
            if stage == 1:
                slots.append(Slot("stem", widths, "width", increasing=False))
            slots += [Slot(f"s{stage}.b{b}.conv2", widths, "width", increasing=False) for b in range(1, blocks + 1)]
            slots += [Slot(f"s{stage}.b{b}.conv1", widths, "width", increasing=False) for b in range(1, blocks + 1)]
        return tuple(slots)

    def slots(self) -> tuple[Slot, ...]:
        return self._slots

    @cached_property
    def _tie_groups(self) -> tuple[tuple[str, ...], ...]:
        groups = []
        for stage, blocks in enumerate(self.stage_blocks, start=1):
            conv2 = tuple(f"s{stage}.b{b}.conv2" for b in range(1, blocks + 1))
            groups.append(("stem", *conv2) if stage == 1 else conv2)
        return tuple(groups)

    def tie_groups(self) -> tuple[tuple[str, ...], ...]:
        return self._tie_groups

    def is_active(self, slot: str, values: Mapping[str, int | None]) -> bool:
        if not slot.startswith("s") or slot == "stem":
            return True
        stage, block = slot[1:].split(".")[:2]
        depth = values.get(f"depth{stage}")
        return depth is not None and int(block[1:]) <= depth

    def choices(self, spec: ResNetSpec) -> Choices:
        values: Choices = {"resolution": spec.resolution}
        for stage, blocks in enumerate(self.stage_blocks, start=1):
            depth = spec.depths[stage - 1]
            out = spec.out_codes[stage - 1]
            values[f"depth{stage}"] = depth
            if stage == 1:
                values["stem"] = spec.stem_code
            for b in range(1, blocks + 1):
                values[f"s{stage}.b{b}.conv2"] = out if b <= depth else None
            for b in range(1, blocks + 1):
                values[f"s{stage}.b{b}.conv1"] = spec.mid_codes[stage - 1][b - 1] if b <= depth else None
        return values

    def from_choices(self, values: Mapping[str, int | None]) -> ResNetSpec:
        for slot in self._slots:
            if not self.is_active(slot.name, values):
                continue
            value = values.get(slot.name)
            if value not in slot.domain:
                raise ValueError(f"slot {slot.name} is {value!r}, expected one of {list(slot.domain)}")
        self.check_ties(values)
        depths = tuple(int(values[f"depth{stage}"]) for stage in range(1, self.num_stages + 1))  # type: ignore[arg-type]
        return ResNetSpec(
            resolution=int(values["resolution"]),  # type: ignore[arg-type]
            depths=depths,
            out_codes=tuple(int(values[f"s{stage}.b1.conv2"]) for stage in range(1, self.num_stages + 1)),  # type: ignore
            mid_codes=tuple(
                tuple(int(values[f"s{stage}.b{b}.conv1"]) for b in range(1, depth + 1))  # type: ignore[arg-type]
                for stage, depth in enumerate(depths, start=1)
            ),
        )

    def distance_slots(self) -> tuple[str, ...]:
        """Width slots only: the reference definition counts code characters from the stem width
        on (:mod:`hnas.search_spaces.distance`), which is the same count over the choice view."""
        return tuple(slot.name for slot in self._slots if slot.dimension == "width")

    def code_distance(self, code_a: str, code_b: str) -> int:
        """Characters that differ from the stem width code on (the reference definition; no decoding,
        so codes that break a tie still compare)."""
        from hnas.search_spaces.distance import char_hamming, width_part_start

        return char_hamming(code_a, code_b, width_part_start(self))

    # --- SearchSpace: distributions -----------------------------------------------------------

    def distribution_names(self) -> dict[str, str]:
        return {
            "uniform": "every depth and width code uniform",
            "competition": "like the CVPR 2022 Track 1 test.json: width codes capped per stage",
        }

    def family_distribution(self, name: str) -> Distribution:
        """``"competition"``: depths uniform, width codes uniform over ``1..COMPETITION_MAX_WIDTH_CODE[stage]``
        (stem and stages 1-2 codes 1-3, stage 3 codes 1-5, stage 4 codes 1-7), the first resolution."""
        from hnas.search_spaces.distributions import ChoiceDistribution

        if name != "competition":
            return super().family_distribution(name)
        if self.num_stages != len(COMPETITION_MAX_WIDTH_CODE):
            raise HnasError(
                f"the 'competition' distribution needs a space with {len(COMPETITION_MAX_WIDTH_CODE)} "
                f"stages; space {self.name!r} has {self.num_stages}"
            )
        last = len(self.width_ratios)
        domains: dict[str, Sequence[int]] = {"resolution": (self.resolutions[0],)}
        for slot in self._slots:
            if slot.dimension == "width":
                stage = 1 if slot.name == "stem" else int(slot.name[1:].split(".")[0])
                # A space with fewer width codes than the competition's 7 keeps all of its own.
                domains[slot.name] = tuple(range(1, min(COMPETITION_MAX_WIDTH_CODE[stage], last) + 1))
        return ChoiceDistribution(self, "competition", domains, pinned=("resolution",))

    # --- SearchSpace: networks and costs ------------------------------------------------------

    def build_supernet(self) -> ResNetSupernet:
        from hnas.search_spaces.resnet.supernet import ResNetSupernet

        return ResNetSupernet(self)

    def build_standalone(self, spec: ResNetSpec, zero_init_residual: bool = False) -> StandaloneResNet:
        from hnas.search_spaces.resnet.standalone import build_standalone

        return build_standalone(self, spec, zero_init_residual=zero_init_residual)

    def zen_network(self, spec: ResNetSpec) -> ZenResNet:
        from hnas.search_spaces.resnet.zen import ZenResNet

        return ZenResNet(self.build_standalone(spec))

    def flops(self, spec: ResNetSpec, resolution: int | None = None, convention: str = "paddle") -> int:
        from hnas.search_spaces.resnet.flops import resnet_flops

        return resnet_flops(self, spec, resolution, convention)

    def params(self, spec: ResNetSpec) -> int:
        from hnas.search_spaces.resnet.flops import resnet_params

        return resnet_params(self, spec)

    def num_blocks(self, spec: ResNetSpec) -> int:
        return sum(spec.depths)

    def latency_keys(self, spec: ResNetSpec) -> list[tuple[str, tuple[Any, ...]]]:
        from hnas.search_spaces.resnet.latency import subnet_keys

        return subnet_keys(self, spec)

    def all_latency_keys(self) -> list[tuple[str, tuple[Any, ...]]]:
        from hnas.search_spaces.resnet.latency import all_keys

        return list(all_keys(self))

    def build_latency_key(self, key: tuple[str, tuple[Any, ...]]) -> Any:
        from hnas.search_spaces.resnet.latency import build_key

        return build_key(key, self.activation, self.outer_activation)

    # --- persistence --------------------------------------------------------------------------

    def stored_fields(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """As :meth:`SearchSpace.stored_fields`; a space stored before ``outer_activation`` existed
        applied its ``activation`` after the residual additions too, so that is its outer activation."""
        fields = super().stored_fields(stored)
        if "outer_activation" not in stored:
            fields["outer_activation"] = fields["activation"]
        return fields

    def prefix_key(self, spec: ResNetSpec) -> tuple[Any, ...]:
        """Stem and stage 1: resolution, stage-1 depth, stem / stage-1 output width and conv1 widths.

        The cut is after stage 1: in the competition's test file the 45,000 archs have 1,080
        distinct stem + stage-1 prefixes (28.9 % of an arch's FLOPs on average), while 37,849
        distinct prefixes through stage 2 leave almost nothing to share.
        """
        return (spec.resolution, spec.depths[0], spec.out_codes[0], spec.mid_codes[0])

    def width_ratio(self, spec: ResNetSpec) -> float:
        """Mean width ratio of each stage's output and every active block's first conv."""
        codes = [*spec.out_codes, *(code for stage in spec.mid_codes for code in stage)]
        return sum(self.width_ratios[code - 1] for code in codes) / len(codes)


@dataclass(frozen=True)
class ResNetSpec:
    """One subnet of a :class:`ResNetSpace`, independent of any model instance.

    Attributes:
        resolution: input size in pixels.
        depths: active blocks per stage.
        out_codes: width code of each stage's output (conv2 of every block and the
            projection shortcut; the residual additions tie them). ``out_codes[0]`` is
            also the stem width, since stage 1 adds the stem output without projection.
        mid_codes: width code of conv1 of each active block, per stage.
    """

    resolution: int
    depths: tuple[int, ...]
    out_codes: tuple[int, ...]
    mid_codes: tuple[tuple[int, ...], ...] = field(default=())

    @property
    def stem_code(self) -> int:
        return self.out_codes[0]



@dataclass(frozen=True)
class BlockShape:
    """Concrete channels of one active BasicBlock of a subnet."""

    stage: int
    index: int
    in_channels: int
    mid_channels: int
    out_channels: int
    stride: int
    downsample: bool


def _digit(code: str, position: int, what: str, allowed: Sequence[int]) -> int:
    value = int(code[position])
    if value not in allowed:
        raise ArchCodeError(code, position, f"{what} is {value}, expected one of {list(allowed)}")
    return value


def decode(code: str, space: ResNetSpace) -> ResNetSpec:
    """Parse an arch code into a :class:`ResNetSpec`.

    Raises:
        ArchCodeError: naming the 0-based index of the first bad character and why.
    """
    if not isinstance(code, str):
        raise ArchCodeError(str(code), None, f"expected a string, got {type(code).__name__}")
    if len(code) != space.code_length:
        raise ArchCodeError(code, None, f"length {len(code)}, expected {space.code_length}")
    for position, char in enumerate(code):
        if char not in "0123456789":
            raise ArchCodeError(code, position, f"{char!r} is not a digit")
    resolution = decode_resolution(code, 0, space.resolutions, space.name)
    depths = tuple(
        _digit(code, 1 + stage, f"depth of stage {stage + 1}", space.depth_choices[stage])
        for stage in range(space.num_stages)
    )
    stem_position = 1 + space.num_stages
    stem_code = _digit(code, stem_position, "stem width code", space.width_codes)
    out_codes: list[int] = []
    mid_codes: list[tuple[int, ...]] = []
    position = stem_position + 1
    for stage, depth in enumerate(depths):
        stage_mid: list[int] = []
        stage_out: int | None = None
        for block in range(space.stage_blocks[stage]):
            where = f"stage {stage + 1} block {block + 1}"
            if block < depth:
                stage_mid.append(_digit(code, position, f"conv1 code of {where}", space.width_codes))
                out = _digit(code, position + 1, f"conv2 code of {where}", space.width_codes)
                if stage_out is None:
                    stage_out = out
                elif out != stage_out:
                    raise ArchCodeError(
                        code,
                        position + 1,
                        f"conv2 code of {where} is {out} but block 1 of the stage has {stage_out}; "
                        "residual additions tie conv2 widths within a stage",
                    )
            else:
                for offset in (0, 1):
                    if code[position + offset] != "0":
                        raise ArchCodeError(
                            code,
                            position + offset,
                            f"{where} is inactive (depth {depth}) and must be padded with '00'",
                        )
            position += 2
        assert stage_out is not None  # depth >= 1 is guaranteed by ResNetSpace
        out_codes.append(stage_out)
        mid_codes.append(tuple(stage_mid))
    if stem_code != out_codes[0]:
        raise ArchCodeError(
            code,
            stem_position,
            f"stem width code {stem_code} differs from the stage-1 conv2 code {out_codes[0]}; "
            "stage 1 adds the stem output without a projection, so they are tied",
        )
    return ResNetSpec(
        resolution=resolution,
        depths=depths,
        out_codes=tuple(out_codes),
        mid_codes=tuple(mid_codes),
    )


def encode(spec: ResNetSpec, space: ResNetSpace) -> str:
    """Inverse of :func:`decode`; raises ``ValueError`` if ``spec`` is not in ``space``."""
    if spec.resolution not in space.resolutions:
        raise ValueError(f"resolution {spec.resolution} not in {space.resolutions}")
    if len(spec.depths) != space.num_stages or len(spec.out_codes) != space.num_stages:
        raise ValueError(f"spec must have {space.num_stages} stages: {spec}")
    if len(spec.mid_codes) != space.num_stages:
        raise ValueError(f"spec must have conv1 codes for {space.num_stages} stages: {spec}")
    parts = [str(space.resolutions.index(spec.resolution) + 1)]
    parts += [str(depth) for depth in spec.depths]
    parts.append(str(spec.stem_code))
    for stage, depth in enumerate(spec.depths):
        if depth not in space.depth_choices[stage]:
            raise ValueError(f"depth {depth} of stage {stage + 1} not in {space.depth_choices[stage]}")
        mids = spec.mid_codes[stage]
        if len(mids) != depth:
            raise ValueError(f"stage {stage + 1} has depth {depth} but {len(mids)} conv1 codes")
        for value in (*mids, spec.out_codes[stage]):
            if value not in space.width_codes:
                raise ValueError(f"width code {value} of stage {stage + 1} not in {list(space.width_codes)}")
        parts += [f"{mid}{spec.out_codes[stage]}" for mid in mids]
        parts.append("00" * (space.stage_blocks[stage] - depth))
    return "".join(parts)


def max_spec(space: ResNetSpace) -> ResNetSpec:
    """The largest subnet: every stage at full depth, every conv at code 1."""
    return ResNetSpec(
        resolution=space.resolutions[0],
        depths=tuple(max(choices) for choices in space.depth_choices),
        out_codes=(1,) * space.num_stages,
        mid_codes=tuple((1,) * max(choices) for choices in space.depth_choices),
    )


def min_spec(space: ResNetSpace) -> ResNetSpec:
    """The smallest subnet: minimum depth, every conv at the last width code."""
    last = len(space.width_ratios)
    return ResNetSpec(
        resolution=space.resolutions[0],
        depths=tuple(min(choices) for choices in space.depth_choices),
        out_codes=(last,) * space.num_stages,
        mid_codes=tuple((last,) * min(choices) for choices in space.depth_choices),
    )


def stem_channels(space: ResNetSpace, spec: ResNetSpec) -> int:
    return space.channels(space.stem_base_channels, spec.stem_code)


def block_shapes(space: ResNetSpace, spec: ResNetSpec) -> list[BlockShape]:
    """Channels, stride and shortcut type of every active block, in forward order."""
    shapes: list[BlockShape] = []
    in_channels = stem_channels(space, spec)
    for stage, depth in enumerate(spec.depths):
        base = space.base_channels[stage]
        out_channels = space.channels(base, spec.out_codes[stage])
        for block in range(depth):
            shapes.append(
                BlockShape(
                    stage=stage,
                    index=block,
                    in_channels=in_channels,
                    mid_channels=space.channels(base, spec.mid_codes[stage][block]),
                    out_channels=out_channels,
                    stride=space.stage_strides[stage] if block == 0 else 1,
                    downsample=space.has_downsample(stage, block),
                )
            )
            in_channels = out_channels
    return shapes


def final_channels(space: ResNetSpace, spec: ResNetSpec) -> int:
    """Channels entering the classifier."""
    return space.channels(space.base_channels[-1], spec.out_codes[-1])


#: The named ResNet spaces. ``resnet48``: the CVPR 2022 NAS Track 1 space, ResNet48 on 224 px
#: ImageNet. ``resnet48_tiny``: the same 52-char codes on a laptop (1-channel 28 px images,
#: 10 classes, narrow stages); base 20/40/80/160 with divisor 1 keeps the 7 width codes
#: distinct (20, 19, ..., 14).
RESNET_SPACES: tuple[ResNetSpace, ...] = (
    ResNetSpace(name="resnet48"),
    ResNetSpace(
        name="resnet48_tiny",
        base_channels=(20, 40, 80, 160),
        channel_divisor=1,
        stem_kernel_size=3,
        stem_stride=2,
        stem_max_pool=False,
        in_channels=1,
        num_classes=10,
        resolutions=(28,),
    ),
)
