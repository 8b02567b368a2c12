"""Analytic FLOPs and parameters of an mbv2 subnet, equal to ``paddle.flops`` / ``parameters()``.

``"paddle"`` convention (``paddle/hapi/dynamic_flops.py``): a conv counts
``out_numel * (in_channels / groups * k * k)`` (a depthwise conv ``out_numel * k * k``), BN
``2 * numel``, ReLU6 zero, adaptive average pooling to 1x1 ``channels * (H * W + 1)``, the
classifier ``in * out``; residual additions are not layers and count zero. ``"macs"``: convs and
the classifier only.
"""

from __future__ import annotations

from hnas.search_spaces.base import check_flops_args
from hnas.search_spaces.mbv2.space import MBV2Space, MBV2Spec


def _out(size: int, kernel: int, stride: int) -> int:
    return (size + 2 * (kernel // 2) - kernel) // stride + 1


def _conv(in_per_group: int, out_channels: int, kernel: int, stride: int, size: int, bn: bool) -> tuple[int, int]:
    out_size = _out(size, kernel, stride)
    numel = out_channels * out_size * out_size
    return numel * in_per_group * kernel * kernel + (2 * numel if bn else 0), out_size


def mbv2_flops(space: MBV2Space, spec: MBV2Spec, resolution: int | None = None, convention: str = "paddle") -> int:
    size = check_flops_args(spec, resolution, convention)
    bn = convention == "paddle"
    total, size = _conv(space.in_channels, space.stem_channels, 3, space.stem_stride, size, bn)
    flops, size = _conv(1, space.stem_channels, 3, 1, size, bn)
    total += flops + _conv(space.stem_channels, space.first_channels, 1, 1, size, bn)[0]
    for shape in space.block_shapes(spec):
        total += _conv(shape.in_channels, shape.mid_channels, 1, 1, size, bn)[0]
        flops, size = _conv(1, shape.mid_channels, shape.kernel, shape.stride, size, bn)
        total += flops + _conv(shape.mid_channels, shape.out_channels, 1, 1, size, bn)[0]
    total += _conv(space.stage_channels[-1], space.last_channels, 1, 1, size, bn)[0]
    if bn:
        total += space.last_channels * (size * size + 1)
    return total + space.last_channels * space.num_classes


def _conv_bn_params(in_per_group: int, out_channels: int, kernel: int) -> int:
    return in_per_group * out_channels * kernel * kernel + 4 * out_channels


def mbv2_params(space: MBV2Space, spec: MBV2Spec) -> int:
    total = _conv_bn_params(space.in_channels, space.stem_channels, 3)
    total += _conv_bn_params(1, space.stem_channels, 3) + _conv_bn_params(space.stem_channels, space.first_channels, 1)
    for shape in space.block_shapes(spec):
        total += _conv_bn_params(shape.in_channels, shape.mid_channels, 1)
        total += _conv_bn_params(1, shape.mid_channels, shape.kernel)
        total += _conv_bn_params(shape.mid_channels, shape.out_channels, 1)
    total += _conv_bn_params(space.stage_channels[-1], space.last_channels, 1)
    return total + space.last_channels * space.num_classes + space.num_classes
