"""Analytic FLOPs and parameters of an mbv2 subnet, equal to ``paddle.flops`` / ``parameters()``.

The per-layer rules are in :mod:`hnas.search_spaces.counting` (``"paddle"``: convs, BN, the global
pooling and the classifier; ``"macs"``: convs and the classifier only); ReLU6 and the residual
additions count zero.
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
    total += conv_bn_flops(last, space.last_channels, 1, 1, size, bn)[0]
    total += pool_flops(space.last_channels, size, convention)
    return total + space.last_channels * space.num_classes


def mbv2_params(space: MBV2Space, spec: MBV2Spec) -> int:
    stem, first, *_, last = space.widths(spec)
    total = conv_bn_params(space.in_channels, stem, 3)
    total += conv_bn_params(1, stem, 3) + conv_bn_params(stem, first, 1)
    for shape in space.block_shapes(spec):
        total += conv_bn_params(shape.in_channels, shape.mid_channels, 1)
        total += conv_bn_params(1, shape.mid_channels, shape.kernel)
        total += conv_bn_params(shape.mid_channels, shape.out_channels, 1)
    total += conv_bn_params(last, space.last_channels, 1)
    return total + space.last_channels * space.num_classes + space.num_classes
