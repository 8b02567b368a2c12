"""Search-space definition and the typed subnet spec behind the 52-character arch code.

The CVPR 2022 NAS Track 1 code (``1558511111...``) is parsed once, here, into a
:class:`SubnetSpec`; everything else in hnas works on the spec and on the per-block
:class:`BlockShape` list that :func:`block_shapes` derives from it.

Code layout for the ResNet48 space (52 characters)::

    [0]      image-size code (1 -> the first resolution of the space)
    [1:5]    depth of each of the 4 stages
    [5]      stem width code (tied to the stage-1 output width)
    [6:52]   two codes per block slot (conv1, conv2), 2 * max_depth per stage,
             inactive slots padded with "00"

Width codes 1..7 index ``SpaceDef.width_ratios`` (1.0, 0.95, ..., 0.7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

from hnas.errors import ArchCodeError

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


@dataclass(frozen=True)
class SpaceDef:
    """A ResNet-style elastic search space: stage layout, choices and stem.

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
    """

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

    def __post_init__(self) -> None:
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


@dataclass(frozen=True)
class SubnetSpec:
    """One subnet of a :class:`SpaceDef`, independent of any model instance.

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

    @classmethod
    def from_code(cls, code: str, space: SpaceDef) -> SubnetSpec:
        return decode(code, space)

    def to_code(self, space: SpaceDef) -> str:
        return encode(self, space)

    def validate(self, space: SpaceDef) -> None:
        """Raise ``ValueError`` if this spec is not a member of ``space``."""
        encode(self, space)


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


def decode(code: str, space: SpaceDef) -> SubnetSpec:
    """Parse an arch code into a :class:`SubnetSpec`.

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
    resolution_code = _digit(code, 0, "image-size code", range(1, len(space.resolutions) + 1))
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
        assert stage_out is not None  # depth >= 1 is guaranteed by SpaceDef
        out_codes.append(stage_out)
        mid_codes.append(tuple(stage_mid))
    if stem_code != out_codes[0]:
        raise ArchCodeError(
            code,
            stem_position,
            f"stem width code {stem_code} differs from the stage-1 conv2 code {out_codes[0]}; "
            "stage 1 adds the stem output without a projection, so they are tied",
        )
    return SubnetSpec(
        resolution=space.resolutions[resolution_code - 1],
        depths=depths,
        out_codes=tuple(out_codes),
        mid_codes=tuple(mid_codes),
    )


def encode(spec: SubnetSpec, space: SpaceDef) -> str:
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


def max_spec(space: SpaceDef) -> SubnetSpec:
    """The largest subnet: every stage at full depth, every conv at code 1."""
    return SubnetSpec(
        resolution=space.resolutions[0],
        depths=tuple(max(choices) for choices in space.depth_choices),
        out_codes=(1,) * space.num_stages,
        mid_codes=tuple((1,) * max(choices) for choices in space.depth_choices),
    )


def min_spec(space: SpaceDef) -> SubnetSpec:
    """The smallest subnet: minimum depth, every conv at the last width code."""
    last = len(space.width_ratios)
    return SubnetSpec(
        resolution=space.resolutions[0],
        depths=tuple(min(choices) for choices in space.depth_choices),
        out_codes=(last,) * space.num_stages,
        mid_codes=tuple((last,) * min(choices) for choices in space.depth_choices),
    )


def stem_channels(space: SpaceDef, spec: SubnetSpec) -> int:
    return space.channels(space.stem_base_channels, spec.stem_code)


def block_shapes(space: SpaceDef, spec: SubnetSpec) -> list[BlockShape]:
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


def final_channels(space: SpaceDef, spec: SubnetSpec) -> int:
    """Channels entering the classifier."""
    return space.channels(space.base_channels[-1], spec.out_codes[-1])
