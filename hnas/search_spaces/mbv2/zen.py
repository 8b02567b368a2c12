"""The shortcut-free feature network ZenScore runs on an mbv2 subnet: stem, first block and every
block's expand -> depthwise -> project chain, then the head conv; no residual additions, no
pooling or classifier (see :mod:`hnas.proxies.zen_score`)."""

from __future__ import annotations

import paddle

from hnas.search_spaces.mbv2.standalone import StandaloneMBV2
from hnas.search_spaces.ops import conv_bn_recording
from hnas.search_spaces.plain import ConvBN


class ZenMBV2:
    """:class:`~hnas.search_spaces.base.ZenNetwork` over a stand-alone MobileNetV2 (``net``)."""

    def __init__(self, net: StandaloneMBV2) -> None:
        self.net = net

    def _chain(self) -> list[tuple[ConvBN, bool]]:
        """Every conv+BN on the feature path and whether ReLU6 follows it."""
        net = self.net
        chain = [(net.stem.conv, True), (net.first.dw, True), (net.first.project, False)]
        for block in net.blocks():
            chain += [(block.expand, True), (block.dw, True), (block.project, False)]
        return chain + [(net.head.conv, True)]

    def conv_bns(self) -> list[ConvBN]:
        return [layer for layer, _ in self._chain()]

    def features(self, x: paddle.Tensor, bn_variances: list[float] | None = None) -> paddle.Tensor:
        act = self.net.stem.act
        for layer, activated in self._chain():
            x = conv_bn_recording(layer.conv, layer.bn, x, bn_variances)
            if activated:
                x = act(x)
        return x

    def train(self) -> None:
        self.net.train()
