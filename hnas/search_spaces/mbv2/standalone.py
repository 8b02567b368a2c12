"""Plain (non-elastic) MobileNetV2 for one mbv2 subnet: the network trained stand-alone.

Parameter names mirror :class:`~hnas.search_spaces.mbv2.supernet.MBV2Supernet` (``stem.conv``,
``first.dw``, ``stages.0.1.expand.bn``, ``stages.1.0.se.reduce``, ``head.conv``, ``mix.conv``,
``fc``), so weights sliced out of the supernet load into it by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import paddle
from paddle import nn

from hnas.search_spaces.activations import make_activation, make_hsigmoid
from hnas.search_spaces.mbv2.spec import MBBlockShape, MBV2Spec
from hnas.search_spaces.plain import ConvBN, zero_bn_scale

if TYPE_CHECKING:
    from hnas.search_spaces.mbv2.space import MBV2Space

__all__ = ["ConvBN", "FeatureMix", "FirstBlock", "Head", "InvertedResidual", "SqueezeExcite", "StandaloneMBV2", "Stem",
           "build_standalone"]


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


class SqueezeExcite(nn.Layer):
    """MobileNetV3's gate: ``x * hsigmoid(expand(relu(reduce(avgpool(x)))))``, 1x1 convs with bias."""

    def __init__(self, channels: int, mid_channels: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.reduce = nn.Conv2D(channels, mid_channels, 1)
        self.act = nn.ReLU()
        self.expand = nn.Conv2D(mid_channels, channels, 1)
        self.gate = make_hsigmoid()

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return x * self.gate(self.expand(self.act(self.reduce(self.pool(x)))))


class InvertedResidual(nn.Layer):
    """1x1 expand -> BN -> act -> kxk depthwise -> BN -> act [-> SE] -> 1x1 project -> BN (+ input).

    The activation (ReLU6 in MobileNetV2) and the gate's width come with ``shape``.
    """

    def __init__(self, shape: MBBlockShape) -> None:
        super().__init__()
        mid = shape.mid_channels
        self.expand = ConvBN(shape.in_channels, mid, 1)
        self.dw = ConvBN(mid, mid, shape.kernel, stride=shape.stride, groups=mid)
        self.se = SqueezeExcite(mid, shape.se_channels) if shape.se_channels else None
        self.project = ConvBN(mid, shape.out_channels, 1)
        self.act = make_activation(shape.activation)
        self.residual = shape.residual

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = self.act(self.dw(self.act(self.expand(x))))
        out = self.project(self.se(out) if self.se is not None else out)
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


class FeatureMix(nn.Layer):
    """MobileNetV3's feature-mix layer after the pooling: 1x1 conv without bias or BN, then the activation."""

    def __init__(self, in_channels: int, out_channels: int, activation: str) -> None:
        super().__init__()
        self.conv = nn.Conv2D(in_channels, out_channels, 1, bias_attr=False)
        self.act = make_activation(activation)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.conv(x))


def classifier_input(pooled: paddle.Tensor, mix: FeatureMix | None,
                     dropout: nn.Dropout | None) -> paddle.Tensor:
    """The pooled head features ``[N, C, 1, 1]`` through the feature mix (if any), flattened, dropped out (if any)."""
    features = paddle.flatten(mix(pooled) if mix is not None else pooled, 1)
    return dropout(features) if dropout is not None else features


class StandaloneMBV2(nn.Layer):
    """The static network of ``spec``: input ``[N, C, R, R]``, output logits ``[N, num_classes]``."""

    def __init__(self, space: MBV2Space, spec: MBV2Spec) -> None:
        super().__init__()
        self.space = space
        self.spec = spec
        widths = space.widths(spec)
        self.stem = Stem(space, widths[0])
        self.first = FirstBlock(widths[0], widths[1], space.first_activation)
        shapes = space.block_shapes(spec)
        self.stages = nn.LayerList([
            nn.Sequential(*[InvertedResidual(shape) for shape in shapes if shape.stage == stage])
            for stage in range(space.num_stages)
        ])
        self.head = Head(space, widths[-1])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.mix = FeatureMix(space.last_channels, space.mix_channels, space.activation) if space.mix_channels else None
        self.dropout = nn.Dropout(space.dropout) if space.dropout else None
        self.fc = nn.Linear(space.feature_channels, space.num_classes)

    def blocks(self) -> list[InvertedResidual]:
        return [block for stage in self.stages for block in stage]

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.first(self.stem(x))
        for stage in self.stages:
            x = stage(x)
        return self.fc(classifier_input(self.pool(self.head(x)), self.mix, self.dropout))


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
