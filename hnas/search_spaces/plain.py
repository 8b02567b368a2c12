"""Plain (non-elastic) layers shared by the families' stand-alone networks."""

from __future__ import annotations

import paddle
from paddle import nn


class ConvBN(nn.Layer):
    """Conv (no bias, "same" padding ``kernel_size // 2``, optional groups) followed by BatchNorm.

    ``affine=False`` leaves out the BN's scale and shift (SPOS's supernet trains its BNs so).
    Its parameter names (``conv.weight``, ``bn.weight``, ``bn._mean``, ...) are those of
    :class:`~hnas.search_spaces.ops.ElasticConvBN`, so sliced supernet weights load by name.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1,
                 affine: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2,
                              groups=groups, bias_attr=False)
        self.bn = nn.BatchNorm2D(out_channels) if affine else nn.BatchNorm2D(out_channels, weight_attr=False,
                                                                                   bias_attr=False)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.bn(self.conv(x))


def zero_bn_scale(layer: ConvBN) -> None:
    """Set the BN scale (gamma) of ``layer`` to zero: a residual branch it closes starts as nothing,
    so its block starts as the shortcut (Goyal et al., 2017, "zero-init residual")."""
    scale = layer.bn.weight
    scale.set_value(paddle.zeros_like(scale))
