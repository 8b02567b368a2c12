"""Elastic blocks: compositions of elastic ops that own their part of a subnet spec.

Names mirror :mod:`hnas.search_spaces.resnet.standalone` (``conv1.conv``, ``conv1.bn``, ...), so a
block's sliced state loads by name into the stand-alone block of the same shape.
"""

from __future__ import annotations

import numpy as np
import paddle
from paddle import nn

from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.elastic import ReorderableBlock
from hnas.search_spaces.ops import ElasticConvBN, ShapeMap
from hnas.search_spaces.resnet.spec import BlockShape

__all__ = ["ElasticBasicBlock", "ElasticConvBN", "ShapeMap"]


class ElasticBasicBlock(nn.Layer, ReorderableBlock):
    """ResNet BasicBlock (He et al., 2016) with elastic middle and output widths.

    ``conv1`` (3x3, stride ``stride``) maps the input to the middle width, ``conv2`` (3x3) to
    the output width; the shortcut is a 1x1 projection ``downsample`` when the block has one,
    else the identity (then input and output widths are tied by the space).

    Args:
        in_channels: maximum input channels.
        mid_channels: maximum conv1 output channels.
        out_channels: maximum block output channels.
        stride: stride of conv1 and of the projection.
        downsample: whether the block has a projection shortcut.
        activation: name of the non-linearity after conv1 (:mod:`hnas.search_spaces.activations`).
        outer_activation: name of the non-linearity after the residual addition (``outer_act``;
            ``prelu`` holds one trained slope, used whole by every subnet, so it is never sliced).

    The active widths are set by :meth:`configure`; until then the block runs at full width.
    """

    def __init__(
        self,
        in_channels: int,
        mid_channels: int,
        out_channels: int,
        stride: int,
        downsample: bool,
        activation: str = "relu",
        outer_activation: str = "relu",
    ) -> None:
        super().__init__()
        self.stride = stride
        self.conv1 = ElasticConvBN(in_channels, mid_channels, 3, stride)
        self.conv2 = ElasticConvBN(mid_channels, out_channels, 3, 1)
        self.downsample = ElasticConvBN(in_channels, out_channels, 1, stride) if downsample else None
        self.act = make_activation(activation)
        self.outer_act = make_activation(outer_activation)
        self.max_shape = (in_channels, mid_channels, out_channels)
        self.mid_channels = mid_channels
        self.out_channels = out_channels

    def configure(self, shape: BlockShape) -> None:
        """Activate the widths of ``shape``; its stride and shortcut must match this block.

        Raises:
            ValueError: if ``shape`` does not fit this block.
        """
        max_in, max_mid, max_out = self.max_shape
        if shape.stride != self.stride or shape.downsample != (self.downsample is not None):
            raise ValueError(
                f"block {shape.stage}.{shape.index}: stride {shape.stride} / downsample {shape.downsample} "
                f"do not match the supernet block (stride {self.stride}, "
                f"downsample {self.downsample is not None})"
            )
        if not (
            0 < shape.in_channels <= max_in and 0 < shape.mid_channels <= max_mid and 0 < shape.out_channels <= max_out
        ):
            raise ValueError(
                f"block {shape.stage}.{shape.index}: channels {shape.in_channels}/{shape.mid_channels}/"
                f"{shape.out_channels} exceed the supernet block's {max_in}/{max_mid}/{max_out}"
            )
        self.mid_channels = shape.mid_channels
        self.out_channels = shape.out_channels

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        """``x``: [N, C_in, H, W] -> [N, out_channels, H / stride, W / stride]."""
        identity = x if self.downsample is None else self.downsample(x, self.out_channels)
        out = self.act(self.conv1(x, self.mid_channels))
        return self.outer_act(self.conv2(out, self.out_channels) + identity)

    def active_shapes(self, shape: BlockShape) -> ShapeMap:
        """Shapes of every state tensor the block uses at ``shape``, named as in the block."""
        parts = {
            "conv1": self.conv1.active_shapes(shape.in_channels, shape.mid_channels),
            "conv2": self.conv2.active_shapes(shape.mid_channels, shape.out_channels),
        }
        if self.downsample is not None:
            parts["downsample"] = self.downsample.active_shapes(shape.in_channels, shape.out_channels)
        parts["outer_act"] = {name: tuple(param.shape) for name, param in self.outer_act.named_parameters()}
        return {f"{prefix}.{name}": value for prefix, part in parts.items() for name, value in part.items()}

    def channel_importance(self) -> np.ndarray:
        """L1 norm of conv2's weights per input channel (= per conv1 filter), shape [mid_max].

        :meth:`reorder_by_importance` (from :class:`~hnas.search_spaces.elastic.ReorderableBlock`)
        permutes conv1's filters and BN entries and conv2's input channels together.
        """
        return np.abs(self.conv2.conv.weight.numpy()).sum(axis=(0, 2, 3))

    def permuted_tensors(self) -> list[tuple[paddle.Tensor, int]]:
        """``(tensor, axis)`` of everything :meth:`reorder_by_importance` permutes along the middle channels."""
        return [*((tensor, 0) for tensor in self.conv1.output_tensors()), (self.conv2.conv.weight, 1)]
