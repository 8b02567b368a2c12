"""Analytic FLOPs and parameter counts of a ResNet subnet, from its spec alone (no model is built).

Two conventions:

* ``"paddle"`` reproduces ``paddle.flops(space.build_standalone(spec), [1, C, R, R])``
  exactly (``paddle/hapi/dynamic_flops.py``, Paddle 3.x), per layer:

  - ``Conv2D``: ``out_numel * (in_channels * k * k + has_bias)``; hnas convs have no bias;
  - ``BatchNorm2D`` (counted in eval mode): ``2 * numel``;
  - ``ReLU`` and ``MaxPool2D``: zero;
  - ``AdaptiveAvgPool2D`` to 1x1: ``channels * (H * W + 1)``;
  - ``Linear``: ``in_features * out_features`` (the bias is not counted).

* ``"macs"``: multiply-accumulates of the convs and the classifier only.

Spatial sizes follow ``floor((size + 2 * padding - kernel) / stride) + 1`` with
``padding = kernel // 2`` for convs and ``3x3 / stride 2 / padding 1`` for the stem max-pool.
Per-block costs are memoized: the 45,000 competition archs share few distinct block shapes.
"""

from __future__ import annotations

from functools import lru_cache

from hnas.search_spaces.activations import activation_params
from hnas.search_spaces.base import check_flops_args
from hnas.search_spaces.resnet.space import (
    ResNetSpace,
    ResNetSpec,
    block_shapes,
    final_channels,
    stem_channels,
)

_BLOCK_KERNEL_SIZE = 3
_POOL_KERNEL_SIZE, _POOL_STRIDE, _POOL_PADDING = 3, 2, 1


def _output_size(size: int, kernel_size: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel_size) // stride + 1


def _conv_bn(
    in_channels: int, out_channels: int, kernel_size: int, stride: int, size: int, with_bn: bool
) -> tuple[int, int]:
    """FLOPs and output size of a bias-free conv (and, if ``with_bn``, its BatchNorm)."""
    out_size = _output_size(size, kernel_size, stride, kernel_size // 2)
    out_numel = out_channels * out_size * out_size
    flops = out_numel * in_channels * kernel_size * kernel_size
    if with_bn:
        flops += 2 * out_numel
    return flops, out_size


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
    conv1, mid_size = _conv_bn(in_channels, mid_channels, _BLOCK_KERNEL_SIZE, stride, size, with_bn)
    conv2, out_size = _conv_bn(mid_channels, out_channels, _BLOCK_KERNEL_SIZE, 1, mid_size, with_bn)
    flops = conv1 + conv2
    if downsample:
        flops += _conv_bn(in_channels, out_channels, 1, stride, size, with_bn)[0]
    return flops, out_size


def _conv_bn_params(in_channels: int, out_channels: int, kernel_size: int) -> int:
    # Paddle's BatchNorm holds scale, bias, mean and variance as parameters (the last two
    # with stop_gradient), so ``model.parameters()`` and ``paddle.flops`` count all four.
    return in_channels * out_channels * kernel_size * kernel_size + 4 * out_channels


@lru_cache(maxsize=None)
def _block_params(in_channels: int, mid_channels: int, out_channels: int, downsample: bool) -> int:
    params = _conv_bn_params(in_channels, mid_channels, _BLOCK_KERNEL_SIZE)
    params += _conv_bn_params(mid_channels, out_channels, _BLOCK_KERNEL_SIZE)
    if downsample:
        params += _conv_bn_params(in_channels, out_channels, 1)
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
    total, size = _conv_bn(
        space.in_channels,
        stem_channels(space, spec),
        space.stem_kernel_size,
        space.stem_stride,
        size,
        with_bn,
    )
    if space.stem_max_pool:
        size = _output_size(size, _POOL_KERNEL_SIZE, _POOL_STRIDE, _POOL_PADDING)
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
    if with_bn:
        total += channels * (size * size + 1)
    return total + channels * space.num_classes


def resnet_params(space: ResNetSpace, spec: ResNetSpec) -> int:
    """Parameters of the stand-alone network of ``spec``: ``sum(p.numel() for p in model.parameters())``.

    Convs have no bias; each BatchNorm contributes ``4 * channels`` (scale, bias and the
    running mean and variance, which Paddle stores as non-trainable parameters); each block's
    outer activation its own (one PReLU slope, none otherwise); the classifier contributes
    ``in_features * num_classes + num_classes``.
    """
    total = _conv_bn_params(space.in_channels, stem_channels(space, spec), space.stem_kernel_size)
    outer = activation_params(space.outer_activation)
    for shape in block_shapes(space, spec):
        total += _block_params(shape.in_channels, shape.mid_channels, shape.out_channels, shape.downsample) + outer
    channels = final_channels(space, spec)
    return total + channels * space.num_classes + space.num_classes
