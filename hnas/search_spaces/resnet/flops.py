"""Analytic FLOPs and parameter counts of a ResNet subnet, from its spec alone (no model is built).

``"paddle"`` reproduces ``paddle.flops(space.build_standalone(spec), [1, C, R, R])`` exactly and
``"macs"`` counts the convs and the classifier only (the per-layer rules are in
:mod:`hnas.search_spaces.counting`); the stem max-pool (3x3, stride 2, padding 1) counts zero.
Per-block costs are memoized: the 45,000 competition archs share few distinct block shapes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from hnas.search_spaces.activations import activation_params
from hnas.search_spaces.base import check_flops_args
from hnas.search_spaces.counting import conv_bn_flops, conv_bn_params, conv_output_size, pool_flops
from hnas.search_spaces.resnet.spec import ResNetSpec, block_shapes, final_channels, stem_channels

if TYPE_CHECKING:
    from hnas.search_spaces.resnet.space import ResNetSpace

_BLOCK_KERNEL_SIZE = 3
_POOL_KERNEL_SIZE, _POOL_STRIDE, _POOL_PADDING = 3, 2, 1


@lru_cache(maxsize=None)
def _block_flops(
    in_channels: int,
    mid_channels: int,
    out_channels: int,
    stride: int,
    downsample: bool,
    size: int,
    with_bn: bool,
) -> tuple[int, int]:
    """FLOPs and output size of one BasicBlock (conv1, conv2, optional 1x1 projection)."""
    conv1, mid_size = conv_bn_flops(in_channels, mid_channels, _BLOCK_KERNEL_SIZE, stride, size, with_bn)
    conv2, out_size = conv_bn_flops(mid_channels, out_channels, _BLOCK_KERNEL_SIZE, 1, mid_size, with_bn)
    flops = conv1 + conv2
    if downsample:
        flops += conv_bn_flops(in_channels, out_channels, 1, stride, size, with_bn)[0]
    return flops, out_size


@lru_cache(maxsize=None)
def _block_params(in_channels: int, mid_channels: int, out_channels: int, downsample: bool) -> int:
    params = conv_bn_params(in_channels, mid_channels, _BLOCK_KERNEL_SIZE)
    params += conv_bn_params(mid_channels, out_channels, _BLOCK_KERNEL_SIZE)
    if downsample:
        params += conv_bn_params(in_channels, out_channels, 1)
    return params


def resnet_flops(
    space: ResNetSpace,
    spec: ResNetSpec,
    resolution: int | None = None,
    convention: str = "paddle",
) -> int:
    """FLOPs of the stand-alone network of ``spec`` for one ``[1, C, R, R]`` image.

    Args:
        space: the search space ``spec`` belongs to.
        spec: the subnet.
        resolution: input size ``R`` in pixels; defaults to ``spec.resolution``.
        convention: ``"paddle"`` (equal to ``paddle.flops``) or ``"macs"`` (conv and
            linear multiply-accumulates only); see the module docstring.

    Returns:
        The FLOPs count as an exact integer.

    Raises:
        HnasError: unknown convention or a resolution below 1.
    """
    size = check_flops_args(spec, resolution, convention)
    with_bn = convention == "paddle"
    total, size = conv_bn_flops(
        space.in_channels,
        stem_channels(space, spec),
        space.stem_kernel_size,
        space.stem_stride,
        size,
        with_bn,
    )
    if space.stem_max_pool:
        size = conv_output_size(size, _POOL_KERNEL_SIZE, _POOL_STRIDE, _POOL_PADDING)
    for shape in block_shapes(space, spec):
        flops, size = _block_flops(
            shape.in_channels,
            shape.mid_channels,
            shape.out_channels,
            shape.stride,
            shape.downsample,
            size,
            with_bn,
        )
        total += flops
    channels = final_channels(space, spec)
    total += pool_flops(channels, size, convention)
    return total + channels * space.num_classes


def resnet_params(space: ResNetSpace, spec: ResNetSpec) -> int:
    """Parameters of the stand-alone network of ``spec``: ``sum(p.numel() for p in model.parameters())``.

    Convs have no bias; each BatchNorm contributes ``4 * channels`` (scale, bias and the
    running mean and variance, which Paddle stores as non-trainable parameters); each block's
    outer activation its own (one PReLU slope, none otherwise); the classifier contributes
    ``in_features * num_classes + num_classes``.
    """
    total = conv_bn_params(space.in_channels, stem_channels(space, spec), space.stem_kernel_size)
    outer = activation_params(space.outer_activation)
    for shape in block_shapes(space, spec):
        total += _block_params(shape.in_channels, shape.mid_channels, shape.out_channels, shape.downsample) + outer
    channels = final_channels(space, spec)
    return total + channels * space.num_classes + space.num_classes
