"""The feature network ZenScore runs on an mbv1 subnet: stem, then every block's depthwise ->
[SE] -> pointwise chain; no pooling or classifier (see :mod:`hnas.proxies.zen_score`).
MobileNetV1 has no shortcuts, so this is the stand-alone network's own feature path."""

from __future__ import annotations

import paddle

from hnas.search_spaces.mbv1.standalone import StandaloneMBV1
from hnas.search_spaces.ops import conv_bn_recording
from hnas.search_spaces.plain import ConvBN


class ZenMBV1:
    """:class:`~hnas.search_spaces.base.ZenNetwork` over a stand-alone MobileNetV1 (``net``)."""

    def __init__(self, net: StandaloneMBV1) -> None:
        self.net = net

    def conv_bns(self) -> list[ConvBN]:
        layers = [self.net.stem.conv]
        for block in self.net.blocks():
            layers += [block.dw, block.pw]
        return layers

    def features(self, x: paddle.Tensor, bn_variances: list[float] | None = None) -> paddle.Tensor:
        act = self.net.stem.act
        x = act(conv_bn_recording(self.net.stem.conv.conv, self.net.stem.conv.bn, x, bn_variances))
        for block in self.net.blocks():
            x = act(conv_bn_recording(block.dw.conv, block.dw.bn, x, bn_variances))
            if block.se is not None:
                x = block.se(x)
            x = act(conv_bn_recording(block.pw.conv, block.pw.bn, x, bn_variances))
        return x

    def train(self) -> None:
        self.net.train()
