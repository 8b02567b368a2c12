"""Plain (non-elastic) MobileNetV1 for one mbv1 subnet: the network trained stand-alone.

Parameter names mirror :class:`~hnas.search_spaces.mbv1.supernet.MBV1Supernet` (``stem.conv``,
``stages.3.0.dw.bn``, ``stages.3.0.se.reduce``, ``stages.3.0.pw.conv``, ``fc``), so weights sliced
out of the supernet load into it by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import paddle
from paddle import nn

from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.mbv1.gate_split import GateSplit
from hnas.search_spaces.mbv1.layers import SqueezeExcite
from hnas.search_spaces.mbv1.spec import MBV1BlockShape, MBV1Spec
from hnas.search_spaces.plain import ConvBN

if TYPE_CHECKING:
    from hnas.search_spaces.mbv1.space import MBV1Space


class SeparableBlock(nn.Layer):
    """3x3 depthwise -> BN -> act [-> SE] -> 1x1 pointwise -> BN -> act."""

    def __init__(self, shape: MBV1BlockShape, activation: str) -> None:
        super().__init__()
        self.dw = ConvBN(shape.in_channels, shape.in_channels, 3, stride=shape.stride, groups=shape.in_channels)
        self.se = SqueezeExcite(shape.in_channels, shape.se_channels) if shape.se_channels else None
        self.pw = ConvBN(shape.in_channels, shape.out_channels, 1)
        self.act = make_activation(activation)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.act(self.dw(x))
        if self.se is not None:
            x = self.se(x)
        return self.act(self.pw(x))

    def to_gate(self, x: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        """The depthwise output and the SE's squeezed features (a gate point's inputs)."""
        x = self.act(self.dw(x))
        return x, self.se.squeeze(x)

    def from_gate(self, x: paddle.Tensor, reduced: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.pw(self.se.excite(x, reduced)))


class Stem(nn.Layer):
    def __init__(self, space: MBV1Space, channels: int) -> None:
        super().__init__()
        self.conv = ConvBN(space.in_channels, channels, 3, stride=space.stem_stride)
        self.act = make_activation(space.activation)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.conv(x))


class StandaloneMBV1(GateSplit, nn.Layer):
    """The static network of ``spec``: input ``[N, C, R, R]``, output logits ``[N, num_classes]``."""

    def __init__(self, space: MBV1Space, spec: MBV1Spec) -> None:
        super().__init__()
        self.space = space
        self.spec = spec
        self.stem = Stem(space, spec.widths[0])
        shapes = space.block_shapes(spec)
        self.stages = nn.LayerList([
            nn.Sequential(*[SeparableBlock(shape, space.activation) for shape in shapes if shape.stage == stage])
            for stage in range(space.num_stages)
        ])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(spec.widths[-1], space.num_classes)

    def blocks(self) -> list[SeparableBlock]:
        return [block for stage in self.stages for block in stage]

    def features(self, x: paddle.Tensor) -> paddle.Tensor:
        """Pre-pooling features ``[N, widths[-1], H', W']``."""
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return x

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.fc(paddle.flatten(self.pool(self.features(x)), 1))


def build_standalone(space: MBV1Space, spec: MBV1Spec) -> StandaloneMBV1:
    """A freshly initialised stand-alone network of ``spec`` (``ValueError`` for a foreign spec)."""
    space.validate(spec)
    return StandaloneMBV1(space, spec)
