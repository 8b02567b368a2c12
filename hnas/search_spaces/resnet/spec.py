"""The ResNet family's subnet spec, the arch code that encodes it and the block shapes it gives.

The CVPR 2022 NAS Track 1 code (``1558511111...``) is parsed once, here, into a
:class:`ResNetSpec`; the family's networks and costs work on the spec and on the per-block
:class:`BlockShape` list that :func:`block_shapes` derives from it. The functions take the
space (:class:`~hnas.search_spaces.resnet.space.ResNetSpace`) as an argument and read only its
fields, so the network modules import this module and never the space's.

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
from typing import TYPE_CHECKING

from hnas.errors import ArchCodeError
from hnas.search_spaces.codes import check_digits, check_padding, digit
from hnas.search_spaces.resolution import decode_resolution

if TYPE_CHECKING:
    from hnas.search_spaces.resnet.space import ResNetSpace


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


def decode(code: str, space: ResNetSpace) -> ResNetSpec:
    """Parse an arch code into a :class:`ResNetSpec`.

    Raises:
        ArchCodeError: naming the 0-based index of the first bad character and why.
    """
    code = check_digits(code, space.code_length)
    resolution = decode_resolution(code, 0, space.resolutions, space.name)
    depths = tuple(
        digit(code, 1 + stage, f"depth of stage {stage + 1}", space.depth_choices[stage])
        for stage in range(space.num_stages)
    )
    stem_position = 1 + space.num_stages
    stem_code = digit(code, stem_position, "stem width code", space.width_codes)
    out_codes: list[int] = []
    mid_codes: list[tuple[int, ...]] = []
    position = stem_position + 1
    for stage, depth in enumerate(depths):
        stage_mid: list[int] = []
        stage_out: int | None = None
        for block in range(space.stage_blocks[stage]):
            where = f"stage {stage + 1} block {block + 1}"
            if block < depth:
                stage_mid.append(digit(code, position, f"conv1 code of {where}", space.width_codes))
                out = digit(code, position + 1, f"conv2 code of {where}", space.width_codes)
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
                check_padding(code, position, 2, where, depth)
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


def width_part_start(space: ResNetSpace) -> int:
    """Index of the stem width code: after the image-size digit and one depth digit per stage.

    The 3rd-place solution's Hamming distance (``utils/distance_calc.py``) counts the characters
    that differ from here on (``code[5:]``, 47 characters, for ResNet48); a block active in one
    code and padded with ``"00"`` in the other differs in both characters, so depth differences
    still count. This equals the choice-view distance over the width slots.
    """
    return 1 + space.num_stages
