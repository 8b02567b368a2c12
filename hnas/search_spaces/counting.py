"""Analytic costs of the layers every family is built from, equal to Paddle's own counts.

``paddle.flops`` (``paddle/hapi/dynamic_flops.py``, Paddle 3.x) counts per layer: a bias-free
``Conv2D`` ``out_numel * (in_channels / groups) * k * k``; ``BatchNorm2D`` ``2 * numel``;
ReLU-type activations and max pooling zero; ``AdaptiveAvgPool2D`` to 1x1
``channels * (H * W + 1)``; ``Linear`` ``in_features * out_features``. Residual additions are
not layers and count zero. The ``"macs"`` convention keeps the conv and classifier terms only;
``"pss"`` (PSS-Net's ``calc_subnet_flops``, the unit of its bucket ranges) adds ``H * W * C`` for
every average pool to them (:func:`pool_flops`).
Parameters are ``sum(p.numel() for p in net.parameters())``: Paddle stores a BatchNorm's running
mean and variance as (non-trainable) parameters, so a BN counts ``4 * channels``.
"""

from __future__ import annotations

#: FLOPs conventions every family implements (see :meth:`~hnas.search_spaces.base.SearchSpace.flops`):
#: ``"paddle"`` equals ``paddle.flops``; ``"macs"`` counts conv and linear multiply-accumulates;
#: ``"pss"`` is PSS-Net's ``calc_subnet_flops``, the MACs plus ``H * W * C`` for every average pool
#: (BN and activations not counted), the unit of its bucket ranges (MobileNetV1 110-570 M).
FLOPS_CONVENTIONS: tuple[str, ...] = ("paddle", "macs", "pss")


def conv_output_size(size: int, kernel_size: int, stride: int, padding: int | None = None) -> int:
    """Output side of a conv or pool over a ``size`` x ``size`` input (default padding ``kernel_size // 2``)."""
    padding = kernel_size // 2 if padding is None else padding
    return (size + 2 * padding - kernel_size) // stride + 1


def conv_bn_flops(in_per_group: int, out_channels: int, kernel_size: int, stride: int, size: int,
                  with_bn: bool) -> tuple[int, int]:
    """FLOPs and output side of a bias-free "same"-padded conv (and, if ``with_bn``, its BatchNorm).

    ``in_per_group`` is ``in_channels / groups`` (1 for a depthwise conv).
    """
    out_size = conv_output_size(size, kernel_size, stride)
    out_numel = out_channels * out_size * out_size
    flops = out_numel * in_per_group * kernel_size * kernel_size
    return flops + (2 * out_numel if with_bn else 0), out_size


def conv_bn_params(in_per_group: int, out_channels: int, kernel_size: int) -> int:
    """Parameters of a bias-free conv and its BatchNorm (scale, shift, running mean and variance)."""
    return in_per_group * out_channels * kernel_size * kernel_size + 4 * out_channels


def global_pool_flops(channels: int, size: int) -> int:
    """``paddle.flops`` of ``AdaptiveAvgPool2D(1)`` over ``channels`` maps of ``size`` x ``size``."""
    return channels * (size * size + 1)


def pool_flops(channels: int, size: int, convention: str) -> int:
    """An average pool to 1x1 over ``channels`` maps of ``size`` x ``size`` in ``convention``:
    :func:`global_pool_flops` for ``"paddle"``, ``C * H * W`` for ``"pss"``, nothing for ``"macs"``."""
    if convention == "paddle":
        return global_pool_flops(channels, size)
    return channels * size * size if convention == "pss" else 0
