"""Analytic FLOPs and parameters of an mbv2 subnet, equal to ``paddle.flops`` / ``parameters()``.

The per-layer rules are in :mod:`hnas.search_spaces.counting` (``"paddle"``: convs, BN, the global
pooling and the classifier; ``"macs"``: convs and the classifier only); the activations, the
h-sigmoid, the gate's product, dropout and the residual additions count zero. A squeeze-and-excitation
gate counts its global pool (as every average pool in its convention) and its two 1x1 convs on the
pooled map (with their bias additions in ``"paddle"``, which counts a conv's bias as one more
operation per output); the feature-mix conv has no bias.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hnas.search_spaces.base import check_flops_args
from hnas.search_spaces.counting import conv_bn_flops, conv_bn_params, pool_flops
from hnas.search_spaces.mbv2.spec import MBV2Spec

if TYPE_CHECKING:
    from hnas.search_spaces.mbv2.space import MBV2Space


def mbv2_flops(space: MBV2Space, spec: MBV2Spec, resolution: int | None = None, convention: str = "paddle") -> int:
    size = check_flops_args(spec, resolution, convention)
    bn = convention == "paddle"
    stem, first, *_, last = space.widths(spec)
    total, size = conv_bn_flops(space.in_channels, stem, 3, space.stem_stride, size, bn)
    flops, size = conv_bn_flops(1, stem, 3, 1, size, bn)
    total += flops + conv_bn_flops(stem, first, 1, 1, size, bn)[0]
    for shape in space.block_shapes(spec):
        total += conv_bn_flops(shape.in_channels, shape.mid_channels, 1, 1, size, bn)[0]
        flops, size = conv_bn_flops(1, shape.mid_channels, shape.kernel, shape.stride, size, bn)
        total += flops + conv_bn_flops(shape.mid_channels, shape.out_channels, 1, 1, size, bn)[0]
        if shape.se_channels:
            total += _gate_flops(shape.mid_channels, shape.se_channels, size, convention)
    total += conv_bn_flops(last, space.last_channels, 1, 1, size, bn)[0]
    total += pool_flops(space.last_channels, size, convention)
    total += space.last_channels * space.mix_channels
    return total + space.feature_channels * space.num_classes


def _gate_flops(channels: int, mid_channels: int, size: int, convention: str) -> int:
    """A squeeze-and-excitation gate over ``channels`` maps of ``size`` x ``size``."""
    biases = mid_channels + channels if convention == "paddle" else 0
    return pool_flops(channels, size, convention) + 2 * channels * mid_channels + biases


def mbv2_params(space: MBV2Space, spec: MBV2Spec) -> int:
    stem, first, *_, last = space.widths(spec)
    total = conv_bn_params(space.in_channels, stem, 3)
    total += conv_bn_params(1, stem, 3) + conv_bn_params(stem, first, 1)
    for shape in space.block_shapes(spec):
        total += conv_bn_params(shape.in_channels, shape.mid_channels, 1)
        total += conv_bn_params(1, shape.mid_channels, shape.kernel)
        total += conv_bn_params(shape.mid_channels, shape.out_channels, 1)
        if shape.se_channels:  # two 1x1 convs with bias
            total += 2 * shape.mid_channels * shape.se_channels + shape.se_channels + shape.mid_channels
    total += conv_bn_params(last, space.last_channels, 1)
    total += space.last_channels * space.mix_channels
    return total + space.feature_channels * space.num_classes + space.num_classes
