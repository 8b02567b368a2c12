"""The weight-sharing MobileNetV2 supernet of an :class:`~hnas.search_spaces.mbv2.space.MBV2Space`.

Every layer stores its largest widths and kernel. ``apply(spec)`` gives the stem, the first
block and each stage its output width (fixed unless the space has ``width_choices``) and each
active block its expand width and kernel; ``forward`` runs the subnet by slicing leading
channels and taking (transformed) kernel centres. A squeeze-and-excitation gate stores the
largest block's gate and slices both its outer (the block's active middle width) and its inner
channels (the gate width of that middle width), as OFA's ``DynamicSE``. The head conv and classifier keep their
widths (the head's input follows the last stage). Parameter names equal
:class:`~hnas.search_spaces.mbv2.standalone.StandaloneMBV2`'s, so export copies state by name, the
depthwise filters through the kernel crop
(:meth:`MBV2Supernet.exported_tensors`). Everything else a supernet does, and the optimizer
contract, is shared by the families (:class:`~hnas.search_spaces.elastic.ElasticSupernet`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

from hnas.search_spaces.activations import make_activation, make_hsigmoid
from hnas.search_spaces.elastic import ElasticSupernet, ReorderableBlock, prefixed
from hnas.search_spaces.mbv2.spec import MBBlockShape, MBV2Spec
from hnas.search_spaces.mbv2.standalone import FeatureMix, classifier_input
from hnas.search_spaces.ops import ElasticConvBN, ElasticDepthwiseBN, ShapeMap, leading_block

if TYPE_CHECKING:
    from hnas.search_spaces.mbv2.space import MBV2Space


class ElasticSqueezeExcite(nn.Layer, ReorderableBlock):
    """Squeeze-and-excitation gate over an elastic number of channels with an elastic inner width.

    Args:
        channels: largest gated channels (the block's largest middle width).
        mid_channels: largest inner width.

    Names as the stand-alone :class:`~hnas.search_spaces.mbv2.standalone.SqueezeExcite`; its own
    re-ordering sorts the inner channels by the L1 norm of the expand conv's weights (OFA).
    """

    def __init__(self, channels: int, mid_channels: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.reduce = nn.Conv2D(channels, mid_channels, 1)
        self.act = nn.ReLU()
        self.expand = nn.Conv2D(mid_channels, channels, 1)
        self.gate = make_hsigmoid()

    @property
    def max_mid(self) -> int:
        return self.reduce.weight.shape[0]

    def forward(self, x: paddle.Tensor, mid_channels: int) -> paddle.Tensor:
        """Gate ``x`` ([N, C, H, W], C at most the largest) through ``mid_channels`` inner channels."""
        channels = x.shape[1]
        y = F.conv2d(self.pool(x), leading_block(self.reduce.weight, (mid_channels, channels)),
                     leading_block(self.reduce.bias, (mid_channels,)))
        y = F.conv2d(self.act(y), leading_block(self.expand.weight, (channels, mid_channels)),
                     leading_block(self.expand.bias, (channels,)))
        return x * self.gate(y)

    def active_shapes(self, channels: int, mid_channels: int) -> ShapeMap:
        return {"reduce.weight": (mid_channels, channels, 1, 1), "reduce.bias": (mid_channels,),
                "expand.weight": (channels, mid_channels, 1, 1), "expand.bias": (channels,)}

    def outer_tensors(self) -> list[tuple[paddle.Tensor, int]]:
        """``(tensor, axis)`` indexed by the gated (the block's middle) channels."""
        return [(self.reduce.weight, 1), (self.expand.weight, 0), (self.expand.bias, 0)]

    def channel_importance(self) -> np.ndarray:
        """L1 norm of the expand conv's weights per inner channel, shape [max_mid]."""
        return np.abs(self.expand.weight.numpy()).sum(axis=(0, 2, 3))

    def permuted_tensors(self) -> list[tuple[paddle.Tensor, int]]:
        return [(self.reduce.weight, 0), (self.reduce.bias, 0), (self.expand.weight, 1)]


class ElasticInvertedResidual(nn.Layer, ReorderableBlock):
    """Inverted-residual block with an elastic middle width (expand ratio) and kernel size.

    ``stage`` (0-based) gives the block its activation and, if the stage has one, its gate.
    """

    def __init__(self, space: MBV2Space, stage: int, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        max_mid = space.mid_channels(in_channels, max(space.expand_choices))
        self.expand = ElasticConvBN(in_channels, max_mid)
        self.dw = ElasticDepthwiseBN(max_mid, space.kernel_choices, stride, space.kernel_transform)
        self.max_se = space.se_channels(stage, max_mid)
        self.se = ElasticSqueezeExcite(max_mid, self.max_se) if self.max_se else None
        self.project = ElasticConvBN(max_mid, out_channels)
        self.act = make_activation(space.stage_activation(stage))
        self.stride = stride
        self.residual = stride == 1 and in_channels == out_channels
        self.max_mid = max_mid
        self.mid_channels = max_mid
        self.se_channels = self.max_se
        self.out_channels = out_channels
        self.kernel = max(space.kernel_choices)

    def configure(self, shape: MBBlockShape) -> None:
        gate_fits = (shape.se_channels > 0) == (self.max_se > 0) and shape.se_channels <= self.max_se
        if (shape.stride != self.stride or shape.residual != self.residual or not 0 < shape.mid_channels <= self.max_mid
                or not gate_fits):
            raise ValueError(f"block {shape.stage}.{shape.index}: shape {shape} does not fit the supernet block")
        self.mid_channels = shape.mid_channels
        self.se_channels = shape.se_channels
        self.out_channels = shape.out_channels
        self.kernel = shape.kernel

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = self.act(self.expand(x, self.mid_channels))
        out = self.act(self.dw(out, self.kernel))
        if self.se is not None:
            out = self.se(out, self.se_channels)
        out = self.project(out, self.out_channels)
        return out + x if self.residual else out

    def active_shapes(self, shape: MBBlockShape) -> ShapeMap:
        mid = shape.mid_channels
        shapes = {**prefixed("expand.", self.expand.active_shapes(shape.in_channels, mid)),
                  **prefixed("dw.", self.dw.active_shapes(mid, shape.kernel)),
                  **prefixed("project.", self.project.active_shapes(mid, shape.out_channels))}
        if self.se is not None:
            shapes.update(prefixed("se.", self.se.active_shapes(mid, shape.se_channels)))
        return shapes

    def channel_importance(self) -> np.ndarray:
        """L1 norm of the project conv's weights per middle channel, shape [max_mid]."""
        return np.abs(self.project.conv.weight.numpy()).sum(axis=(0, 2, 3))

    def permuted_tensors(self) -> list[tuple[paddle.Tensor, int]]:
        """``(tensor, axis)`` of everything :meth:`reorder_by_importance` permutes along the middle channels."""
        tensors = self.expand.output_tensors() + self.dw.output_tensors()
        gate = self.se.outer_tensors() if self.se is not None else []
        return [*((tensor, 0) for tensor in tensors), *gate, (self.project.conv.weight, 1)]


class ElasticStem(nn.Layer):
    """3x3 stem conv -> BN -> act with an elastic output width (names as the stand-alone ``Stem``)."""

    def __init__(self, space: MBV2Space) -> None:
        super().__init__()
        self.conv = ElasticConvBN(space.in_channels, space.stem_channels, 3, stride=space.stem_stride)
        self.act = make_activation(space.activation)

    def forward(self, x: paddle.Tensor, channels: int) -> paddle.Tensor:
        return self.act(self.conv(x, channels))


class ElasticFirstBlock(nn.Layer):
    """The expand-1 first block (3x3 depthwise, 1x1 project) on an elastic input and output width."""

    def __init__(self, in_channels: int, out_channels: int, activation: str) -> None:
        super().__init__()
        self.dw = ElasticDepthwiseBN(in_channels, (3,), 1)
        self.project = ElasticConvBN(in_channels, out_channels, 1)
        self.act = make_activation(activation)
        self.residual = in_channels == out_channels

    def forward(self, x: paddle.Tensor, channels: int) -> paddle.Tensor:
        out = self.project(self.act(self.dw(x, 3)), channels)
        return out + x if self.residual else out

    def active_shapes(self, in_channels: int, out_channels: int) -> ShapeMap:
        return {**prefixed("dw.", self.dw.active_shapes(in_channels, 3)),
                **prefixed("project.", self.project.active_shapes(in_channels, out_channels))}


class ElasticHead(nn.Layer):
    """1x1 head conv -> BN -> act from the last stage's (elastic) width to ``last_channels``."""

    def __init__(self, space: MBV2Space) -> None:
        super().__init__()
        self.conv = ElasticConvBN(space.stage_channels[-1], space.last_channels, 1)
        self.act = make_activation(space.activation)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.conv(x))


class MBV2Supernet(ElasticSupernet):
    """Elastic MobileNetV2 of ``space``; input ``[N, C, H, W]``, output logits ``[N, num_classes]``."""

    spec_type = MBV2Spec

    def __init__(self, space: MBV2Space) -> None:
        super().__init__(space)
        self.stem = ElasticStem(space)
        self.first = ElasticFirstBlock(space.stem_channels, space.first_channels, space.first_activation)
        stages = []
        for stage in range(space.num_stages):
            in_channels = space.stage_in_channels(stage)
            blocks = []
            for block in range(space.stage_blocks[stage]):
                stride = space.stage_strides[stage] if block == 0 else 1
                blocks.append(ElasticInvertedResidual(space, stage, in_channels, space.stage_channels[stage], stride))
                in_channels = space.stage_channels[stage]
            stages.append(nn.LayerList(blocks))
        self.stages = nn.LayerList(stages)
        self.head = ElasticHead(space)
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.mix = FeatureMix(space.last_channels, space.mix_channels, space.activation) if space.mix_channels else None
        self.dropout = nn.Dropout(space.dropout) if space.dropout else None
        self.fc = nn.Linear(space.feature_channels, space.num_classes)
        self.apply(space.max_spec())

    def configure(self, spec: MBV2Spec) -> None:
        self._widths = self.space.widths(spec)
        for shape in self.space.block_shapes(spec):
            self.stages[shape.stage][shape.index].configure(shape)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.forward_suffix(self.forward_prefix(x))

    def forward_prefix(self, x: paddle.Tensor) -> paddle.Tensor:
        """The stem and first block at the active subnet's widths (the part :meth:`MBV2Space.prefix_key` names)."""
        return self.first(self.stem(x, self._widths[0]), self._widths[1])

    def forward_suffix(self, x: paddle.Tensor) -> paddle.Tensor:
        """The elastic stages, head and classifier, from the first block's output."""
        for stage, depth in zip(self.stages, self._spec.depths):
            for index in range(depth):
                x = stage[index](x)
        return self.fc(classifier_input(self.pool(self.head(x)), self.mix, self.dropout))

    def prefix_layers(self) -> list[nn.Layer]:
        return [self.stem, self.first]

    def active_shapes(self, spec: MBV2Spec | None = None) -> ShapeMap:
        """Active leading block of every state tensor ``spec`` uses (equals ``export(spec)``'s shapes)."""
        spec = self._spec if spec is None else spec
        stem, first, *_, last = self.space.widths(spec)
        shapes = {name: tuple(tensor.shape) for name, tensor in self.state_dict().items()
                  if name.startswith(("fc.", "mix."))}
        shapes.update(prefixed("stem.conv.", self.stem.conv.active_shapes(self.space.in_channels, stem)))
        shapes.update(prefixed("first.", self.first.active_shapes(stem, first)))
        shapes.update(prefixed("head.conv.", self.head.conv.active_shapes(last, self.space.last_channels)))
        for shape in self.space.block_shapes(spec):
            block = self.stages[shape.stage][shape.index]
            shapes.update(prefixed(f"stages.{shape.stage}.{shape.index}.", block.active_shapes(shape)))
        return shapes

    def extra_parameters(self, spec: MBV2Spec) -> list[paddle.Tensor]:
        """The kernel-transform matrices of every active block's kernel."""
        return [param for shape in self.space.block_shapes(spec)
                for param in self.stages[shape.stage][shape.index].dw.conv.transform_parameters(shape.kernel)]

    def exported_tensors(self, spec: MBV2Spec) -> dict[str, paddle.Tensor]:
        """The depthwise filters: leading channels, centre (and transformed) kernels."""
        tensors = {}
        for shape in self.space.block_shapes(spec):
            conv = self.stages[shape.stage][shape.index].dw.conv
            tensors[f"stages.{shape.stage}.{shape.index}.dw.conv.weight"] = conv.active_weight(shape.mid_channels,
                                                                                              shape.kernel)
        return tensors
