"""The shortcut-free feature network ZenScore runs on a ResNet subnet.

As in the 3rd-place CVPR 2022 Track 1 solution (``model_zennas``), the features are those of
the stem followed by every block's ``conv1 -> conv2`` chain, without residual shortcuts and
without the pooling / classifier head (see :mod:`hnas.proxies.zen_score`). Each block's outer
activation (the one after its residual addition) follows its conv2.
"""

from __future__ import annotations

from typing import Iterator

import paddle

from hnas.search_spaces.ops import conv_bn_recording
from hnas.search_spaces.plain import ConvBN
from hnas.search_spaces.resnet.standalone import BasicBlock, StandaloneResNet


def _blocks(net: StandaloneResNet) -> Iterator[BasicBlock]:
    for stage in net.stages:
        yield from stage


def zen_features(net: StandaloneResNet, x: paddle.Tensor, bn_variances: list[float] | None = None) -> paddle.Tensor:
    """Pre-pooling features of ``net`` with every residual shortcut removed.

    Args:
        net: a stand-alone subnet; its own activation and pooling layers are used.
        x: ``[N, C_in, R, R]`` input.
        bn_variances: if given, receives the mean over channels of the batch variance at
            each BN input, in forward order.

    Returns:
        ``[N, C_out, H, W]``: the last block's output before global pooling.
    """
    x = net.stem.act(conv_bn_recording(net.stem.conv.conv, net.stem.conv.bn, x, bn_variances))
    if net.stem.pool is not None:
        x = net.stem.pool(x)
    for block in _blocks(net):
        x = block.act(conv_bn_recording(block.conv1.conv, block.conv1.bn, x, bn_variances))
        x = block.outer_act(conv_bn_recording(block.conv2.conv, block.conv2.bn, x, bn_variances))
    return x


class ZenResNet:
    """:class:`~hnas.search_spaces.base.ZenNetwork` over a stand-alone ResNet (``net``)."""

    def __init__(self, net: StandaloneResNet) -> None:
        self.net = net

    def conv_bns(self) -> list[ConvBN]:
        """The conv+BN pairs :func:`zen_features` runs, in order (projection shortcuts excluded)."""
        layers = [self.net.stem.conv]
        for block in _blocks(self.net):
            layers += [block.conv1, block.conv2]
        return layers

    def features(self, x: paddle.Tensor, bn_variances: list[float] | None = None) -> paddle.Tensor:
        return zen_features(self.net, x, bn_variances)

    def train(self) -> None:
        self.net.train()
