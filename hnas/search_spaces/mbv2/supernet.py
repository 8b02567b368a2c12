"""The weight-sharing MobileNetV2 supernet of an :class:`~hnas.search_spaces.mbv2.space.MBV2Space`.

Stem, first block, head and classifier are fixed; every elastic block stores its largest
middle width and kernel. ``apply(spec)`` gives each active block its expand width and kernel;
``forward`` runs the subnet by slicing leading channels and taking (transformed) kernel
centres. Parameter names equal :class:`~hnas.search_spaces.mbv2.standalone.StandaloneMBV2`'s,
so :meth:`MBV2Supernet.export` copies state by name (the depthwise filters through the kernel
crop). The same optimizer contract as the ResNet supernet holds: unused blocks keep
``grad is None``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import paddle
from paddle import nn

from hnas.errors import HnasError
from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.mbv2.layers import ElasticDepthwiseBN, ElasticPointwiseBN, leading_block
from hnas.search_spaces.mbv2.space import MBBlockShape, MBV2Space, MBV2Spec
from hnas.search_spaces.mbv2.standalone import FirstBlock, Head, StandaloneMBV2, Stem, build_standalone

#: Active shape of each state tensor, keyed by its full state-dict name.
ShapeMap = dict[str, tuple[int, ...]]


class ElasticInvertedResidual(nn.Layer):
    """Inverted-residual block with an elastic middle width (expand ratio) and kernel size."""

    def __init__(self, space: MBV2Space, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        max_mid = space.mid_channels(in_channels, max(space.expand_choices))
        self.expand = ElasticPointwiseBN(in_channels, max_mid)
        self.dw = ElasticDepthwiseBN(max_mid, space.kernel_choices, stride, space.kernel_transform)
        self.project = ElasticPointwiseBN(max_mid, out_channels)
        self.act = make_activation(space.activation)
        self.stride = stride
        self.residual = stride == 1 and in_channels == out_channels
        self.max_mid = max_mid
        self.mid_channels = max_mid
        self.kernel = max(space.kernel_choices)

    def configure(self, shape: MBBlockShape) -> None:
        if shape.stride != self.stride or shape.residual != self.residual or not 0 < shape.mid_channels <= self.max_mid:
            raise ValueError(f"block {shape.stage}.{shape.index}: shape {shape} does not fit the supernet block")
        self.mid_channels = shape.mid_channels
        self.kernel = shape.kernel

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = self.act(self.expand(x, self.mid_channels))
        out = self.act(self.dw(out, self.kernel))
        out = self.project(out)
        return out + x if self.residual else out

    def active_shapes(self, shape: MBBlockShape) -> ShapeMap:
        mid, channel, out = shape.mid_channels, (shape.mid_channels,), (shape.out_channels,)
        shapes: ShapeMap = {"expand.conv.weight": (mid, shape.in_channels, 1, 1),
                            "dw.conv.weight": (mid, 1, shape.kernel, shape.kernel),
                            "project.conv.weight": (shape.out_channels, mid, 1, 1)}
        for part, size in (("expand", channel), ("dw", channel), ("project", out)):
            for name in ("weight", "bias", "_mean", "_variance"):
                shapes[f"{part}.bn.{name}"] = size
        return shapes

    def channel_importance(self) -> np.ndarray:
        """L1 norm of the project conv's weights per middle channel, shape [max_mid]."""
        return np.abs(self.project.conv.weight.numpy()).sum(axis=(0, 2, 3))

    @paddle.no_grad()
    def reorder_by_importance(self) -> np.ndarray:
        """Sort the middle channels, most important first; the full block computes the same function.

        Optimizer state is not touched here (see the ResNet block's method).
        """
        order = np.argsort(-self.channel_importance(), kind="stable")
        index = paddle.to_tensor(order, dtype="int64")
        for tensor, axis in self.permuted_tensors():
            tensor.set_value(paddle.index_select(tensor, index, axis=axis))
        return order

    def permuted_tensors(self) -> list[tuple[paddle.Tensor, int]]:
        """``(tensor, axis)`` of everything :meth:`reorder_by_importance` permutes along the middle channels."""
        tensors = [self.expand.conv.weight, self.dw.conv.weight]
        for bn in (self.expand.bn, self.dw.bn):
            tensors += [bn.weight, bn.bias, bn._mean, bn._variance]
        return [*((tensor, 0) for tensor in tensors), (self.project.conv.weight, 1)]


class MBV2Supernet(nn.Layer):
    """Elastic MobileNetV2 of ``space``; input ``[N, C, H, W]``, output logits ``[N, num_classes]``."""

    def __init__(self, space: MBV2Space) -> None:
        super().__init__()
        self.space = space
        self.stem = Stem(space)
        self.first = FirstBlock(space.stem_channels, space.first_channels, space.activation)
        stages = []
        for stage in range(space.num_stages):
            in_channels = space.stage_in_channels(stage)
            blocks = []
            for block in range(space.stage_blocks[stage]):
                stride = space.stage_strides[stage] if block == 0 else 1
                blocks.append(ElasticInvertedResidual(space, in_channels, space.stage_channels[stage], stride))
                in_channels = space.stage_channels[stage]
            stages.append(nn.LayerList(blocks))
        self.stages = nn.LayerList(stages)
        self.head = Head(space)
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(space.last_channels, space.num_classes)
        self._spec = space.max_spec()
        self.apply(self._spec)

    def apply(self, spec_or_fn: MBV2Spec | Callable[[nn.Layer], Any]) -> MBV2Supernet:  # type: ignore[override]
        """Activate subnet ``spec`` (or, given a callable, behave as ``nn.Layer.apply``)."""
        if not isinstance(spec_or_fn, MBV2Spec):
            return super().apply(spec_or_fn)
        try:
            self.space.validate(spec_or_fn)
        except ValueError as error:
            raise HnasError(f"subnet spec does not belong to space {self.space.name!r}: {error}") from None
        for shape in self.space.block_shapes(spec_or_fn):
            self.stages[shape.stage][shape.index].configure(shape)
        self._spec = spec_or_fn
        return self

    @property
    def active_spec(self) -> MBV2Spec:
        return self._spec

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.forward_suffix(self.forward_prefix(x))

    def forward_prefix(self, x: paddle.Tensor) -> paddle.Tensor:
        """The fixed stem and first block (the part :meth:`MBV2Space.prefix_key` names)."""
        return self.first(self.stem(x))

    def forward_suffix(self, x: paddle.Tensor) -> paddle.Tensor:
        """The elastic stages, head and classifier, from the first block's output."""
        for stage, depth in zip(self.stages, self._spec.depths):
            for index in range(depth):
                x = stage[index](x)
        return self.fc(paddle.flatten(self.pool(self.head(x)), 1))

    def prefix_layers(self) -> list[nn.Layer]:
        return [self.stem, self.first]

    def active_shapes(self, spec: MBV2Spec | None = None) -> ShapeMap:
        """Active leading block of every state tensor ``spec`` uses (equals ``export(spec)``'s shapes)."""
        spec = self._spec if spec is None else spec
        shapes = {name: tuple(tensor.shape) for name, tensor in self.state_dict().items()
                  if not name.startswith("stages.")}
        for shape in self.space.block_shapes(spec):
            block = self.stages[shape.stage][shape.index]
            prefix = f"stages.{shape.stage}.{shape.index}."
            shapes.update({prefix + name: size for name, size in block.active_shapes(shape).items()})
        return shapes

    def used_parameters(self, spec: MBV2Spec | None = None) -> list[paddle.Tensor]:
        """Trainable parameters ``spec`` touches (kernel-transform matrices included)."""
        spec = self._spec if spec is None else spec
        used = self.active_shapes(spec)
        params = [param for name, param in self.named_parameters() if name in used and not param.stop_gradient]
        for shape in self.space.block_shapes(spec):
            params += self.stages[shape.stage][shape.index].dw.conv.transform_parameters(shape.kernel)
        return params

    @paddle.no_grad()
    def export(self, spec: MBV2Spec) -> StandaloneMBV2:
        """A stand-alone network of ``spec`` holding copies of the sliced (and kernel-cropped) weights."""
        net = build_standalone(self.space, spec)
        source = self.state_dict()
        state = {}
        for name, target in net.state_dict().items():
            state[name] = leading_block(source[name], tuple(target.shape)).clone()
        for shape in self.space.block_shapes(spec):
            conv = self.stages[shape.stage][shape.index].dw.conv
            state[f"stages.{shape.stage}.{shape.index}.dw.conv.weight"] = conv.active_weight(
                shape.mid_channels, shape.kernel).clone()
        net.set_state_dict(state)
        if not self.training:
            net.eval()
        return net

    @paddle.no_grad()
    def reorder_channels(self) -> list[tuple[paddle.Tensor, int, np.ndarray]]:
        """Sort every block's middle channels by importance; returns ``(tensor, axis, order)`` of each move."""
        moves = []
        for stage in self.stages:
            for block in stage:
                order = block.reorder_by_importance()
                moves += [(tensor, axis, order) for tensor, axis in block.permuted_tensors()]
        return moves
