"""Elastic layers of the mbv2 family: the depthwise conv with an elastic kernel, and conv + BN pairs.

Kernel elasticity follows once-for-all (Cai et al., ICLR 2020): the layer stores the largest
kernel; a smaller kernel is the centre of the next larger one. With ``transform=True`` each
step down also multiplies the flattened centre by a learned ``k^2 x k^2`` matrix (initialised
to the identity), one matrix per step and layer (``transform_7to5``, ``transform_5to3``), so
the small kernels can differ from a plain crop while sharing the weights. Only leading
channels are ever taken (the expand ratio), as in the other elastic ops.
"""

from __future__ import annotations

from typing import Sequence

import paddle
import paddle.nn.functional as F
from paddle import nn

from hnas.search_spaces.ops import ElasticBatchNorm2D, ElasticConv2D, leading_block


def centre(weight: paddle.Tensor, size: int) -> paddle.Tensor:
    """The central ``size x size`` window of ``weight`` ([C, 1, K, K]), cut with ``paddle.split``."""
    full = weight.shape[-1]
    if size == full:
        return weight
    start = (full - size) // 2
    for axis in (2, 3):
        weight = paddle.split(weight, [start, size, full - start - size], axis=axis)[1]
    return weight


class ElasticDepthwiseConv2D(nn.Conv2D):
    """Depthwise conv whose channels (leading) and kernel size (centre) can shrink.

    Args:
        channels: maximum channels.
        kernel_choices: allowed kernel sizes; the largest is stored.
        stride: convolution stride.
        transform: learn OFA's kernel-transformation matrices.
    """

    def __init__(self, channels: int, kernel_choices: Sequence[int], stride: int, transform: bool = False) -> None:
        kernels = sorted(set(kernel_choices), reverse=True)
        super().__init__(channels, channels, kernels[0], stride=stride, padding=kernels[0] // 2, groups=channels,
                         bias_attr=False)
        self.kernels = kernels
        self.transform = transform
        for larger, smaller in zip(kernels, kernels[1:]):
            if transform:
                matrix = self.create_parameter([smaller * smaller, smaller * smaller],
                                               default_initializer=nn.initializer.Assign(
                                                   paddle.eye(smaller * smaller)))
                setattr(self, f"transform_{larger}to{smaller}", matrix)

    def transform_parameters(self, kernel: int) -> list[paddle.Tensor]:
        """The matrices a ``kernel`` x ``kernel`` forward uses (none without ``transform``)."""
        if not self.transform:
            return []
        steps = [(a, b) for a, b in zip(self.kernels, self.kernels[1:]) if b >= kernel]
        return [getattr(self, f"transform_{a}to{b}") for a, b in steps]

    def active_weight(self, channels: int, kernel: int) -> paddle.Tensor:
        """``[channels, 1, kernel, kernel]`` filters: leading channels, centre (transformed) kernel."""
        if kernel not in self.kernels:
            raise ValueError(f"kernel {kernel} not in {self.kernels}")
        weight = leading_block(self.weight, (channels,))
        for larger, smaller in zip(self.kernels, self.kernels[1:]):
            if smaller < kernel:
                break
            weight = centre(weight, smaller)
            if self.transform:
                matrix = getattr(self, f"transform_{larger}to{smaller}")
                weight = paddle.matmul(weight.reshape([channels, smaller * smaller]), matrix)
                weight = weight.reshape([channels, 1, smaller, smaller])
        return weight

    def forward(self, x: paddle.Tensor, kernel: int | None = None) -> paddle.Tensor:  # type: ignore[override]
        kernel = self.kernels[0] if kernel is None else kernel
        channels = x.shape[1]
        return F.conv2d(x, self.active_weight(channels, kernel), stride=self._stride, padding=kernel // 2,
                        groups=channels)


class ElasticPointwiseBN(nn.Layer):
    """Elastic 1x1 conv (inputs sliced to the input, outputs to ``out_channels``) + elastic BN."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = ElasticConv2D(in_channels, out_channels, 1)
        self.bn = ElasticBatchNorm2D(out_channels)

    def forward(self, x: paddle.Tensor, out_channels: int | None = None) -> paddle.Tensor:
        return self.bn(self.conv(x, out_channels))


class ElasticDepthwiseBN(nn.Layer):
    """:class:`ElasticDepthwiseConv2D` + elastic BN."""

    def __init__(self, channels: int, kernel_choices: Sequence[int], stride: int, transform: bool) -> None:
        super().__init__()
        self.conv = ElasticDepthwiseConv2D(channels, kernel_choices, stride, transform)
        self.bn = ElasticBatchNorm2D(channels)

    def forward(self, x: paddle.Tensor, kernel: int) -> paddle.Tensor:
        return self.bn(self.conv(x, kernel))
