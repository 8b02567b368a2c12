"""Plain (non-elastic) MobileNetV2 for one mbv2 subnet: the network trained stand-alone.

Parameter names mirror :class:`~hnas.search_spaces.mbv2.supernet.MBV2Supernet` (``stem.conv``,
``first.dw``, ``stages.0.1.expand.bn``, ``head.conv``, ``fc``), so weights sliced out of the
supernet load into it by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import paddle
from paddle import nn

from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.mbv2.spec import MBBlockShape, MBV2Spec
from hnas.search_spaces.plain import ConvBN, zero_bn_scale

if TYPE_CHECKING:
    from hnas.search_spaces.mbv2.space import MBV2Space

__all__ = ["ConvBN", "FirstBlock", "Head", "InvertedResidual", "StandaloneMBV2", "Stem", "build_standalone"]


class FirstBlock(nn.Layer):
    """The fixed first block: 3x3 depthwise -> BN -> act -> 1x1 project -> BN (expand ratio 1)."""

    def __init__(self, in_channels: int, out_channels: int, activation: str = "relu6") -> None:
        super().__init__()
        self.dw = ConvBN(in_channels, in_channels, 3, groups=in_channels)
        self.project = ConvBN(in_channels, out_channels, 1)
        self.act = make_activation(activation)
        self.residual = in_channels == out_channels

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = self.project(self.act(self.dw(x)))
        return out + x if self.residual else out


class InvertedResidual(nn.Layer):
    """1x1 expand -> BN -> act -> kxk depthwise -> BN -> act -> 1x1 project -> BN (+ input); act: ReLU6 in MBV2."""

    def __init__(self, shape: MBBlockShape, activation: str = "relu6") -> None:
        super().__init__()
        mid = shape.mid_channels
        self.expand = ConvBN(shape.in_channels, mid, 1)
        self.dw = ConvBN(mid, mid, shape.kernel, stride=shape.stride, groups=mid)
        self.project = ConvBN(mid, shape.out_channels, 1)
        self.act = make_activation(activation)
        self.residual = shape.residual

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = self.project(self.act(self.dw(self.act(self.expand(x)))))
        return out + x if self.residual else out


class Stem(nn.Layer):
    def __init__(self, space: MBV2Space, channels: int | None = None) -> None:
        super().__init__()
        channels = space.stem_channels if channels is None else channels
        self.conv = ConvBN(space.in_channels, channels, 3, stride=space.stem_stride)
        self.act = make_activation(space.activation)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.conv(x))


class Head(nn.Layer):
    def __init__(self, space: MBV2Space, in_channels: int | None = None) -> None:
        super().__init__()
        in_channels = space.stage_channels[-1] if in_channels is None else in_channels
        self.conv = ConvBN(in_channels, space.last_channels, 1)
        self.act = make_activation(space.activation)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.conv(x))


class StandaloneMBV2(nn.Layer):
    """The static network of ``spec``: input ``[N, C, R, R]``, output logits ``[N, num_classes]``."""

    def __init__(self, space: MBV2Space, spec: MBV2Spec) -> None:
        super().__init__()
        self.space = space
        self.spec = spec
        widths = space.widths(spec)
        self.stem = Stem(space, widths[0])
        self.first = FirstBlock(widths[0], widths[1], space.activation)
        shapes = space.block_shapes(spec)
        self.stages = nn.LayerList([
            nn.Sequential(*[InvertedResidual(shape, space.activation) for shape in shapes if shape.stage == stage])
            for stage in range(space.num_stages)
        ])
        self.head = Head(space, widths[-1])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(space.last_channels, space.num_classes)

    def blocks(self) -> list[InvertedResidual]:
        return [block for stage in self.stages for block in stage]

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.first(self.stem(x))
        for stage in self.stages:
            x = stage(x)
        return self.fc(paddle.flatten(self.pool(self.head(x)), 1))


def build_standalone(space: MBV2Space, spec: MBV2Spec, zero_init_residual: bool = False) -> StandaloneMBV2:
    """A freshly initialised stand-alone network of ``spec``.

    Args:
        zero_init_residual: start the BN scale after each residual block's project conv at 0, so
            every residual block begins as the identity (Goyal et al., 2017).
    """
    space.validate(spec)
    network = StandaloneMBV2(space, spec)
    if zero_init_residual:
        for block in network.blocks():
            if block.residual:
                zero_bn_scale(block.project)
    return network
