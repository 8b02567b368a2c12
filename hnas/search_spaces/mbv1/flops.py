"""Analytic FLOPs and parameters of an mbv1 subnet.

``"paddle"`` (equal to ``paddle.flops``, ``paddle/hapi/dynamic_flops.py``): a conv counts
``out_numel * (in_channels / groups * k * k + bias)``, BN ``2 * numel``, adaptive average pooling
to 1x1 ``channels * (H * W + 1)`` (the global pool and every SE pool), the classifier
``in * out``; activations, the SE sigmoid and its product count zero. ``"macs"``: the
multiply-accumulates of convs and the classifier. ``"pss"``: PSS-Net's ``calc_subnet_flops``,
``"macs"`` plus ``H * W * C`` for each average pool (BN and activations not counted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hnas.search_spaces.base import check_flops_args
from hnas.search_spaces.counting import conv_output_size, pool_flops
from hnas.search_spaces.mbv1.spec import MBV1Spec

if TYPE_CHECKING:
    from hnas.search_spaces.mbv1.space import MBV1Space



def mbv1_flops(space: MBV1Space, spec: MBV1Spec, resolution: int | None = None, convention: str = "paddle") -> int:
    size = check_flops_args(spec, resolution, convention)
    bn = 2 if convention == "paddle" else 0
    bias = 1 if convention == "paddle" else 0
    size = conv_output_size(size, 3, space.stem_stride)
    stem = spec.widths[0]
    total = stem * size * size * (space.in_channels * 9 + bn)
    for shape in space.block_shapes(spec):
        c_in, c_out = shape.in_channels, shape.out_channels
        size = conv_output_size(size, 3, shape.stride)
        total += c_in * size * size * (9 + bn)
        if shape.se_channels:
            se = shape.se_channels
            total += pool_flops(c_in, size, convention) + se * (c_in + bias) + c_in * (se + bias)
        total += c_out * size * size * (c_in + bn)
    return total + pool_flops(spec.widths[-1], size, convention) + spec.widths[-1] * space.num_classes


def mbv1_params(space: MBV1Space, spec: MBV1Spec) -> int:
    stem = spec.widths[0]
    total = stem * space.in_channels * 9 + 4 * stem
    for shape in space.block_shapes(spec):
        c_in, c_out = shape.in_channels, shape.out_channels
        total += c_in * 9 + 4 * c_in + c_out * c_in + 4 * c_out
        if shape.se_channels:
            total += 2 * shape.se_channels * c_in + shape.se_channels + c_in
    return total + spec.widths[-1] * space.num_classes + space.num_classes
