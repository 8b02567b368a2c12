"""The shortcut-free feature network ZenScore runs on an mbv2 subnet: stem, first block and every
block's expand -> depthwise -> project chain, then the head conv; no residual additions, no
squeeze-and-excitation gates (like the shortcuts, they are left out, so the score does not depend
on their random weights), no pooling, feature mix or classifier (see :mod:`hnas.proxies.zen_score`).
Each conv is followed by the activation its layer uses in the network."""

from __future__ import annotations

import paddle
from paddle import nn

from hnas.search_spaces.mbv2.standalone import StandaloneMBV2
from hnas.search_spaces.ops import conv_bn_recording
from hnas.search_spaces.plain import ConvBN


class ZenMBV2:
    """:class:`~hnas.search_spaces.base.ZenNetwork` over a stand-alone MobileNetV2 (``net``)."""

    def __init__(self, net: StandaloneMBV2) -> None:
        self.net = net

    def _chain(self) -> list[tuple[ConvBN, nn.Layer | None]]:
        """Every conv+BN on the feature path and the activation that follows it (None: none)."""
        net = self.net
        chain = [(net.stem.conv, net.stem.act), (net.first.dw, net.first.act), (net.first.project, None)]
        for block in net.blocks():
            chain += [(block.expand, block.act), (block.dw, block.act), (block.project, None)]
        return chain + [(net.head.conv, net.head.act)]

    def conv_bns(self) -> list[ConvBN]:
        return [layer for layer, _ in self._chain()]

    def features(self, x: paddle.Tensor, bn_variances: list[float] | None = None) -> paddle.Tensor:
        for layer, act in self._chain():
            x = conv_bn_recording(layer.conv, layer.bn, x, bn_variances)
            if act is not None:
                x = act(x)
        return x

    def train(self) -> None:
        self.net.train()
