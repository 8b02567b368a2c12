"""Plain (non-elastic) ResNet for one subnet: the network that is trained stand-alone.

Parameter names mirror the elastic supernet (``stem.conv``, ``stages.0.0.conv1``, ...), so
weights sliced out of a supernet load into it by name (see ``Supernet.export``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import paddle
from paddle import nn

from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.plain import ConvBN, zero_bn_scale
from hnas.search_spaces.resnet.spec import BlockShape, ResNetSpec, block_shapes, final_channels, stem_channels

if TYPE_CHECKING:
    from hnas.search_spaces.resnet.space import ResNetSpace

__all__ = ["BasicBlock", "ConvBN", "StandaloneResNet", "Stem", "build_standalone", "zero_residual_scales"]


class BasicBlock(nn.Layer):
    """Two 3x3 convs with a residual connection (projection when shapes change); ``act`` follows
    conv1, ``outer_act`` the residual addition."""

    def __init__(self, shape: BlockShape, activation: str = "relu", outer_activation: str = "relu") -> None:
        super().__init__()
        self.conv1 = ConvBN(shape.in_channels, shape.mid_channels, 3, shape.stride)
        self.conv2 = ConvBN(shape.mid_channels, shape.out_channels, 3, 1)
        self.downsample = (
            ConvBN(shape.in_channels, shape.out_channels, 1, shape.stride) if shape.downsample else None
        )
        self.act = make_activation(activation)
        self.outer_act = make_activation(outer_activation)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.act(self.conv1(x))
        return self.outer_act(self.conv2(out) + identity)


class Stem(nn.Layer):
    def __init__(self, space: ResNetSpace, out_channels: int) -> None:
        super().__init__()
        self.conv = ConvBN(space.in_channels, out_channels, space.stem_kernel_size, space.stem_stride)
        self.act = make_activation(space.activation)
        self.pool = nn.MaxPool2D(3, stride=2, padding=1) if space.stem_max_pool else None

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.act(self.conv(x))
        return x if self.pool is None else self.pool(x)


class StandaloneResNet(nn.Layer):
    """The static network of ``spec`` in ``space``.

    Input: ``[N, space.in_channels, spec.resolution, spec.resolution]``; output: logits
    ``[N, space.num_classes]``.
    """

    def __init__(self, space: ResNetSpace, spec: ResNetSpec) -> None:
        super().__init__()
        self.space = space
        self.spec = spec
        self.stem = Stem(space, stem_channels(space, spec))
        shapes = block_shapes(space, spec)
        acts = (space.activation, space.outer_activation)
        self.stages = nn.LayerList(
            [
                nn.Sequential(*[BasicBlock(shape, *acts) for shape in shapes if shape.stage == stage])
                for stage in range(space.num_stages)
            ]
        )
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(final_channels(space, spec), space.num_classes)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.fc(paddle.flatten(self.pool(x), 1))


def build_standalone(space: ResNetSpace, spec: ResNetSpec, zero_init_residual: bool = False) -> StandaloneResNet:
    """A freshly initialised stand-alone network for ``spec``.

    Args:
        space: the search space.
        spec: the subnet.
        zero_init_residual: start the BN scale after each block's second conv at 0, so that every
            residual block begins as the identity (its shortcut); deep subnets then train as
            steadily as shallow ones in short schedules (Goyal et al., 2017).
    """
    space.validate(spec)
    network = StandaloneResNet(space, spec)
    if zero_init_residual:
        zero_residual_scales(network)
    return network


def zero_residual_scales(network: StandaloneResNet) -> None:
    """Set the BN scale (gamma) closing each residual branch of ``network`` to zero."""
    for layer in network.sublayers():
        if isinstance(layer, BasicBlock):
            zero_bn_scale(layer.conv2)
