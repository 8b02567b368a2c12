"""Layers of the mbv1 family: squeeze-and-excitation, plain and elastic.

DS-Net's blocks apply SE between the depthwise and the pointwise conv: global average pooling,
a 1x1 reduce conv (with bias) to a fixed width, ReLU, a 1x1 expand conv (with bias) back to the
block's channels and a sigmoid gate that scales each channel. The reduce width is fixed by the
block's widest input (DS-Net's ``MultiHeadGate``: ``in_chs[-1] * se_ratio``), so a narrower
subnet uses the leading input filters of the reduce conv and the leading outputs of the expand
conv, like every other elastic op (:mod:`hnas.search_spaces.ops`).
"""

from __future__ import annotations

import paddle
import paddle.nn.functional as F
from paddle import nn

from hnas.search_spaces.ops import leading_block


class SqueezeExcite(nn.Layer):
    """``x * sigmoid(expand(relu(reduce(avgpool(x)))))`` on ``[N, C, H, W]`` inputs.

    Args:
        channels: input (and output) channels; for :class:`ElasticSqueezeExcite` the largest.
        reduced: channels between the two 1x1 convs.

    :meth:`squeeze` and :meth:`excite` are the two halves of ``forward``; DS-Net's slimming gate
    reads the squeezed features between them (:mod:`hnas.dynamic`).
    """

    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.reduce = nn.Conv2D(channels, reduced, 1)
        self.act = nn.ReLU()
        self.expand = nn.Conv2D(reduced, channels, 1)
        self.gate = nn.Sigmoid()

    def squeeze(self, x: paddle.Tensor) -> paddle.Tensor:
        """The reduced features ``relu(reduce(avgpool(x)))``, ``[N, reduced, 1, 1]``."""
        return self.act(self.reduce(self.pool(x)))

    def excite(self, x: paddle.Tensor, reduced: paddle.Tensor) -> paddle.Tensor:
        """``x`` scaled by ``sigmoid(expand(reduced))`` per channel."""
        return x * self.gate(self.expand(reduced))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.excite(x, self.squeeze(x))


class ElasticSqueezeExcite(SqueezeExcite):
    """:class:`SqueezeExcite` storing the largest width; an input of ``C`` channels uses the first ``C``
    (at full width the parameters go to the ops unchanged)."""

    def squeeze(self, x: paddle.Tensor) -> paddle.Tensor:
        channels = x.shape[1]
        weight = leading_block(self.reduce.weight, (self.reduce.weight.shape[0], channels))
        return self.act(F.conv2d(self.pool(x), weight, self.reduce.bias))

    def excite(self, x: paddle.Tensor, reduced: paddle.Tensor) -> paddle.Tensor:
        channels = x.shape[1]
        scale = F.conv2d(reduced, leading_block(self.expand.weight, (channels,)),
                         leading_block(self.expand.bias, (channels,)))
        return x * self.gate(scale)

