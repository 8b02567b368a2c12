"""Elastic blocks: compositions of elastic ops that own their part of a subnet spec.

Names mirror :mod:`hnas.search_spaces.resnet.standalone` (``conv1.conv``, ``conv1.bn``, ...), so a
block's sliced state loads by name into the stand-alone block of the same shape.
"""

from __future__ import annotations

import numpy as np
import paddle
from paddle import nn

from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.ops import ElasticBatchNorm2D, ElasticConv2D
from hnas.search_spaces.resnet.space import BlockShape

#: Active shape of each state tensor, keyed by its name relative to the layer.
ShapeMap = dict[str, tuple[int, ...]]


class ElasticConvBN(nn.Layer):
    """Elastic conv (no bias) followed by the elastic batch norm of its outputs."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.conv = ElasticConv2D(in_channels, out_channels, kernel_size, stride=stride)
        self.bn = ElasticBatchNorm2D(out_channels)

    @property
    def max_out_channels(self) -> int:
        return self.conv.max_out_channels

    def forward(self, x: paddle.Tensor, out_channels: int) -> paddle.Tensor:
        return self.bn(self.conv(x, out_channels))

    def active_shapes(self, in_channels: int, out_channels: int) -> ShapeMap:
        """Shapes of the weight and BN tensors used at these widths."""
        kernel_size = self.conv.weight.shape[-1]
        channel = (out_channels,)
        return {
            "conv.weight": (out_channels, in_channels, kernel_size, kernel_size),
            "bn.weight": channel,
            "bn.bias": channel,
            "bn._mean": channel,
            "bn._variance": channel,
        }

    @paddle.no_grad()
    def permute_outputs(self, order: paddle.Tensor) -> None:
        """Reorder the output channels (conv filters and BN entries) by index tensor ``order``."""
        for tensor in (self.conv.weight, self.bn.weight, self.bn.bias, self.bn._mean, self.bn._variance):
            tensor.set_value(paddle.index_select(tensor, order, axis=0))


class ElasticBasicBlock(nn.Layer):
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
        """L1 norm of conv2's weights per input channel (= per conv1 filter), shape [mid_max]."""
        return np.abs(self.conv2.conv.weight.numpy()).sum(axis=(0, 2, 3))

    @paddle.no_grad()
    def reorder_by_importance(self) -> np.ndarray:
        """Sort the middle channels by :meth:`channel_importance`, most important first.

        conv1's filters and BN entries and conv2's input channels are permuted together, so
        the full block computes the same function while a narrow slice keeps the channels
        that matter most to conv2 (the "reorder" of the CVPR 2022 Track 1 baseline).
        Parameters are updated in place (same objects); an optimizer's per-parameter state is
        not touched here: :func:`hnas.nn.optim.permute_optimizer_state` applies the same
        permutation to it (:meth:`permuted_tensors` names what moves).

        Returns:
            The permutation applied (new channel i = old channel ``order[i]``).
        """
        order = np.argsort(-self.channel_importance(), kind="stable")
        index = paddle.to_tensor(order, dtype="int64")
        for tensor, axis in self.permuted_tensors():
            tensor.set_value(paddle.index_select(tensor, index, axis=axis))
        return order

    def permuted_tensors(self) -> list[tuple[paddle.Tensor, int]]:
        """``(tensor, axis)`` of everything :meth:`reorder_by_importance` permutes along the middle channels."""
        conv1 = self.conv1
        outputs = (conv1.conv.weight, conv1.bn.weight, conv1.bn.bias, conv1.bn._mean, conv1.bn._variance)
        return [*((tensor, 0) for tensor in outputs), (self.conv2.conv.weight, 1)]
