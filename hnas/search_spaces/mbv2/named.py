"""The named spaces of the mbv2 family (registered in :mod:`hnas.search_spaces.spaces`) and the width
lists and layouts they are built from; the family itself is :class:`~hnas.search_spaces.mbv2.space.MBV2Space`."""

from __future__ import annotations

from hnas.search_spaces.channels import make_divisible
from hnas.search_spaces.mbv2.space import MBV2Space
from hnas.search_spaces.resolution import resolution_range

__all__ = ["MBV2_SPACES", "OFA_MBV3_ACTIVATIONS", "OFA_MBV3_SE", "OFA_MBV3_WIDTHS", "PSS_MBV2_DEPTHS",
           "multiplier_widths"]


def multiplier_widths(channels: int, low: float = 0.75, high: float = 1.0, divisor: int = 8) -> tuple[int, ...]:
    """The distinct ``make_divisible(channels * m, divisor)`` for PSS-Net's multipliers ``m`` from ``low``
    to ``high`` in steps of 0.001 (it rounds its draws to 3 decimals), increasing."""
    steps = round((high - low) * 1000)
    return tuple(sorted({make_divisible(channels * (low + i / 1000), divisor) for i in range(steps + 1)}))


#: PSS-Net's MobileNetV2: blocks per stage after the fixed first block (``[t, c, n, s]`` rows 2-7).
PSS_MBV2_DEPTHS: tuple[int, ...] = (2, 3, 4, 3, 3, 1)

#: OFA's MobileNetV3 (``ofa/imagenet_classification/elastic_nn/networks/ofa_mbv3.py``): stage widths
#: ``make_divisible(c * 1.0, 8)``, the first block's then each stage's activation, SE per stage.
OFA_MBV3_WIDTHS: tuple[int, ...] = (24, 40, 80, 112, 160)
OFA_MBV3_ACTIVATIONS: tuple[str, ...] = ("relu", "relu", "relu", "hswish", "hswish", "hswish")
OFA_MBV3_SE: tuple[bool, ...] = (False, True, False, True, True)

#: The named mbv2 spaces. ``mbv2``: OFA's MobileNetV2 space on 224 px ImageNet (55-digit codes).
#: ``mbv2_multires``: the same with OFA's elastic input resolution, 128, 160, 192 or 224 px (code
#: digit 0 = 1..4; the data comes at 224 px and each subnet's batch is resized, :mod:`hnas.nn.resize`).
#: ``mbv2_tiny``: a narrow 4-stage version for the embedded 28 px grayscale data (37-digit codes).
#: ``pss_mbv2``: PSS-Net's MobileNetV2 width space (``docs/spaces/mobilenetv2.md``): one width per
#: stem, first block and stage, the distinct ``make_divisible(c * m, 8)`` for m in [0.75, 1.0];
#: depth, kernel 3 and expand 6 fixed; 128 to 224 px in steps of 8; the 1280-wide head conv fixed
#: (PSS-Net's 9th multiplier changes nothing in its network, so hnas has no slot for it). 47 digits.
#: ``pss_mbv2_tiny``: its twin for the embedded data (divisor 4, 20/24/28 px, 21 digits).
#: ``ofa_mbv3``: OFA's MobileNetV3 space (``docs/spaces/mobilenetv3.md``): h-swish stem and head,
#: ReLU first block, 5 stages with per-stage activation and SE, the 960-wide final expand and the
#: 1280-wide feature mix, learned kernel transforms, 128 to 224 px (46 digits).
#: ``ofa_mbv3_tiny``: its twin for the embedded data: the same layout and choices, narrow widths,
#: one stride-2 stage fewer (as ``mbv2_tiny``), divisor 4, 16/20/24/28 px (OFA's sizes / 8).
MBV2_SPACES: tuple[MBV2Space, ...] = (
    MBV2Space(name="mbv2"),
    MBV2Space(name="mbv2_multires", resolutions=(128, 160, 192, 224)),
    MBV2Space(
        name="mbv2_tiny",
        stem_channels=8,
        first_channels=8,
        stage_channels=(12, 16, 24, 32),
        stage_strides=(2, 2, 1, 2),
        stage_blocks=(4, 4, 4, 4),
        depth_choices=((2, 3, 4),) * 4,
        last_channels=64,
        channel_divisor=1,
        in_channels=1,
        num_classes=10,
        resolutions=(28,),
    ),
    MBV2Space(
        name="pss_mbv2",
        stage_blocks=PSS_MBV2_DEPTHS,
        depth_choices=tuple((depth,) for depth in PSS_MBV2_DEPTHS),
        kernel_choices=(3,),
        expand_choices=(6,),
        width_choices=tuple(multiplier_widths(channels) for channels in (32, 16, 24, 32, 64, 96, 160, 320)),
        resolutions=resolution_range(128, 224, 8),
    ),
    MBV2Space(
        name="pss_mbv2_tiny",
        stem_channels=16,
        first_channels=8,
        stage_channels=(12, 16, 24, 32),
        stage_strides=(2, 2, 1, 2),
        stage_blocks=(1, 2, 2, 1),
        depth_choices=((1,), (2,), (2,), (1,)),
        kernel_choices=(3,),
        expand_choices=(6,),
        width_choices=tuple(multiplier_widths(channels, divisor=4) for channels in (16, 8, 12, 16, 24, 32)),
        last_channels=64,
        channel_divisor=4,
        in_channels=1,
        num_classes=10,
        resolutions=(20, 24, 28),
    ),
    MBV2Space(
        name="ofa_mbv3",
        stem_channels=16,
        first_channels=16,
        stage_channels=OFA_MBV3_WIDTHS,
        stage_strides=(2, 2, 2, 1, 2),
        stage_blocks=(4, 4, 4, 4, 4),
        depth_choices=((2, 3, 4),) * 5,
        last_channels=960,
        kernel_transform=True,
        resolutions=(128, 160, 192, 224),
        activation="hswish",
        block_activations=OFA_MBV3_ACTIVATIONS,
        stage_se=OFA_MBV3_SE,
        mix_channels=1280,
        dropout=0.1,
    ),
    MBV2Space(
        name="ofa_mbv3_tiny",
        stem_channels=8,
        first_channels=8,
        stage_channels=(12, 16, 24, 32, 40),
        stage_strides=(2, 2, 1, 1, 2),
        stage_blocks=(4, 4, 4, 4, 4),
        depth_choices=((2, 3, 4),) * 5,
        last_channels=96,
        channel_divisor=4,
        kernel_transform=True,
        in_channels=1,
        num_classes=10,
        resolutions=(16, 20, 24, 28),
        activation="hswish",
        block_activations=OFA_MBV3_ACTIVATIONS,
        stage_se=OFA_MBV3_SE,
        mix_channels=128,
        dropout=0.1,
    ),
)
