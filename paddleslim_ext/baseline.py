"""The official baseline's ResNet under its own layer names, as a plain Paddle network.

PaddleSlim users of CVPR 2022 NAS Track 1 trained supernets of this network: the baseline
(and the 1st- and 3rd-place solutions) built it, converted it with
``Convert(supernet(expand_ratio=[1.0]))`` and wrapped it in OFA. Its layout, from the
competition reference (``shared/reference/competition.md``):

- one flat ``blocks`` list: ``blocks.0`` the stem (``conv``, ``bn``, ReLU, 3x3/2 max-pool),
  ``blocks.1 .. blocks.N`` the BasicBlocks of all stages in order (``conv1``, ``bn1``,
  ``conv2``, ``bn2`` and, where shapes change, ``downsample.0`` conv + ``downsample.1`` BN),
  ``blocks.N+1`` the head (global average pool, ``fc``);
- the 3rd-place solution's ``resnet48_prelu`` / ``resnet48_mish`` differ only in the activation
  after each residual addition, ``relu2`` (``nn.PReLU()``, one slope, or ``nn.Mish()``; the ReLU
  inside the block is ``relu1``): built here from the space's ``outer_activation``;
- ``forward(x, depth=[d1, d2, ...])`` runs the first ``d_s`` blocks of each stage (OFA hands
  the depth list of its config to the model this way).

This module is built from those facts only and does not import PaddleSlim or hnas's supernet,
so it is an independent reference for checking imports and hnas's supernet. It is
parametrised by a :class:`ResNetSpace` so that tests can use small layouts too.
"""

from __future__ import annotations

from typing import Sequence

import paddle
from paddle import nn

from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.resnet import ResNetSpace


class BaselineStem(nn.Layer):
    """``blocks.0``: conv, BN, ReLU and (ImageNet layout) a 3x3/2 max-pool."""

    def __init__(self, space: ResNetSpace) -> None:
        super().__init__()
        kernel = space.stem_kernel_size
        self.conv = nn.Conv2D(space.in_channels, space.stem_base_channels, kernel, stride=space.stem_stride,
                              padding=kernel // 2, bias_attr=False)
        self.bn = nn.BatchNorm2D(space.stem_base_channels)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2D(3, stride=2, padding=1) if space.stem_max_pool else None

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.relu(self.bn(self.conv(x)))
        return x if self.pool is None else self.pool(x)


class BaselineBasicBlock(nn.Layer):
    """``blocks.i``: two 3x3 convs with BN and a residual add (1x1 projection ``downsample``), ReLU
    ``relu1`` inside and ``relu2`` (the space's outer activation) after the add."""

    def __init__(self, in_channels: int, channels: int, stride: int, downsample: bool, outer: str = "relu") -> None:
        super().__init__()
        self.conv1 = nn.Conv2D(in_channels, channels, 3, stride=stride, padding=1, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(channels)
        self.conv2 = nn.Conv2D(channels, channels, 3, padding=1, bias_attr=False)
        self.bn2 = nn.BatchNorm2D(channels)
        self.relu1 = nn.ReLU()
        self.relu2 = make_activation(outer)
        self.downsample = (
            nn.Sequential(nn.Conv2D(in_channels, channels, 1, stride=stride, bias_attr=False),
                          nn.BatchNorm2D(channels))
            if downsample else None
        )

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        return self.relu2(self.bn2(self.conv2(out)) + identity)


class BaselineHead(nn.Layer):
    """``blocks.N+1``: global average pool and the classifier ``fc``."""

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.fc(paddle.flatten(self.pool(x), 1))


class BaselineResNet(nn.Layer):
    """The baseline's ResNet of ``space`` at full width and depth (ResNet48 for ``resnet48``).

    Args:
        space: the layout (stages, base channels, strides, stem, classes).
    """

    def __init__(self, space: ResNetSpace) -> None:
        super().__init__()
        self.stage_blocks = tuple(space.stage_blocks)
        layers: list[nn.Layer] = [BaselineStem(space)]
        in_channels = space.stem_base_channels
        for stage, count in enumerate(space.stage_blocks):
            for block in range(count):
                layers.append(BaselineBasicBlock(
                    in_channels, space.base_channels[stage],
                    stride=space.stage_strides[stage] if block == 0 else 1,
                    downsample=space.has_downsample(stage, block),
                    outer=space.outer_activation,
                ))
                in_channels = space.base_channels[stage]
        layers.append(BaselineHead(in_channels, space.num_classes))
        self.blocks = nn.LayerList(layers)

    def forward(self, x: paddle.Tensor, depth: Sequence[int] | None = None) -> paddle.Tensor:
        depths = self.stage_blocks if depth is None else tuple(depth)
        x = self.blocks[0](x)
        first = 1
        for count, active in zip(self.stage_blocks, depths):
            for index in range(first, first + active):
                x = self.blocks[index](x)
            first += count
        return self.blocks[-1](x)
