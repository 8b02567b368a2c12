"""The weight-sharing MobileNetV1 supernet of an :class:`~hnas.search_spaces.mbv1.space.MBV1Space`.

Every layer stores its largest width; ``apply(spec)`` sets the stem's and each stage's output
width and ``forward`` runs the subnet by slicing leading channels (one shared BN per layer,
statistics sliced to the active width, as in PSS-Net's ``USBatchNorm2d``). Parameter names
equal :class:`~hnas.search_spaces.mbv1.standalone.StandaloneMBV1`'s, and every active tensor
is the leading block of the stored one, so :meth:`MBV1Supernet.export` copies state by name.
Unused parameters keep ``grad is None`` (nothing here is ever skipped except leading slices).
"""

from __future__ import annotations

from typing import Any, Callable

import paddle
from paddle import nn

from hnas.errors import HnasError
from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.mbv1.gate_split import GateSplit
from hnas.search_spaces.mbv1.layers import ElasticSqueezeExcite
from hnas.search_spaces.mbv1.space import MBV1BlockShape, MBV1Space, MBV1Spec
from hnas.search_spaces.mbv1.standalone import StandaloneMBV1, build_standalone
from hnas.search_spaces.mbv2.layers import ElasticDepthwiseBN, ElasticPointwiseBN
from hnas.search_spaces.ops import ElasticBatchNorm2D, ElasticConv2D, ElasticLinear, leading_block
from hnas.search_spaces.per_width_bn import export_width_statistics

#: Active shape of each state tensor, keyed by its full state-dict name.
ShapeMap = dict[str, tuple[int, ...]]

_BN = ("weight", "bias", "_mean", "_variance")


class ElasticSeparableBlock(nn.Layer):
    """Depthwise-separable block whose input and output widths can shrink (see the standalone twin)."""

    def __init__(self, shape: MBV1BlockShape, activation: str) -> None:
        super().__init__()
        self.dw = ElasticDepthwiseBN(shape.in_channels, (3,), shape.stride, False)
        self.se = ElasticSqueezeExcite(shape.in_channels, shape.se_channels) if shape.se_channels else None
        self.pw = ElasticPointwiseBN(shape.in_channels, shape.out_channels)
        self.act = make_activation(activation)
        self.out_channels = shape.out_channels

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.act(self.dw(x, 3))
        if self.se is not None:
            x = self.se(x)
        return self.act(self.pw(x, self.out_channels))

    def to_gate(self, x: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        """The depthwise output and the SE's squeezed features (a gate point's inputs)."""
        x = self.act(self.dw(x, 3))
        return x, self.se.squeeze(x)

    def from_gate(self, x: paddle.Tensor, reduced: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.pw(self.se.excite(x, reduced), self.out_channels))


def block_shapes_map(shape: MBV1BlockShape) -> ShapeMap:
    """Active shape of every state tensor of one block, by name inside the block."""
    c_in, c_out = shape.in_channels, shape.out_channels
    shapes: ShapeMap = {"dw.conv.weight": (c_in, 1, 3, 3), "pw.conv.weight": (c_out, c_in, 1, 1)}
    shapes.update({f"dw.bn.{name}": (c_in,) for name in _BN})
    shapes.update({f"pw.bn.{name}": (c_out,) for name in _BN})
    if shape.se_channels:
        se = shape.se_channels
        shapes.update({"se.reduce.weight": (se, c_in, 1, 1), "se.reduce.bias": (se,),
                       "se.expand.weight": (c_in, se, 1, 1), "se.expand.bias": (c_in,)})
    return shapes


class MBV1Supernet(GateSplit, nn.Layer):
    """Elastic MobileNetV1 of ``space``; input ``[N, C, H, W]``, output logits ``[N, num_classes]``."""

    def __init__(self, space: MBV1Space) -> None:
        super().__init__()
        self.space = space
        self.stem = _ElasticStem(space)
        largest = space.block_shapes()
        self.stages = nn.LayerList([
            nn.LayerList([ElasticSeparableBlock(shape, space.activation) for shape in largest if shape.stage == stage])
            for stage in range(space.num_stages)
        ])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = ElasticLinear(space.max_width(space.num_stages), space.num_classes)
        self._spec = space.max_spec()
        self.apply(self._spec)

    def apply(self, spec_or_fn: MBV1Spec | Callable[[nn.Layer], Any]) -> MBV1Supernet:  # type: ignore[override]
        """Activate subnet ``spec`` (or, given a callable, behave as ``nn.Layer.apply``)."""
        if not isinstance(spec_or_fn, MBV1Spec):
            return super().apply(spec_or_fn)
        try:
            self.space.validate(spec_or_fn)
        except ValueError as error:
            raise HnasError(f"subnet spec does not belong to space {self.space.name!r}: {error}") from None
        self.stem.out_channels = spec_or_fn.widths[0]
        for stage, width in zip(self.stages, spec_or_fn.widths[1:]):
            for block in stage:
                block.out_channels = width
        self._spec = spec_or_fn
        return self

    @property
    def active_spec(self) -> MBV1Spec:
        return self._spec

    def features(self, x: paddle.Tensor) -> paddle.Tensor:
        """Pre-pooling features of the active subnet."""
        x = self.stem(x)
        for stage in self.stages:
            for block in stage:
                x = block(x)
        return x

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.fc(paddle.flatten(self.pool(self.features(x)), 1))

    def active_shapes(self, spec: MBV1Spec | None = None) -> ShapeMap:
        """Active leading block of every state tensor ``spec`` uses (equals ``export(spec)``'s shapes)."""
        spec = self._spec if spec is None else spec
        stem = spec.widths[0]
        shapes: ShapeMap = {"stem.conv.conv.weight": (stem, self.space.in_channels, 3, 3)}
        shapes.update({f"stem.conv.bn.{name}": (stem,) for name in _BN})
        for shape in self.space.block_shapes(spec):
            prefix = f"stages.{shape.stage}.{shape.index}."
            shapes.update({prefix + name: size for name, size in block_shapes_map(shape).items()})
        shapes["fc.weight"] = (spec.widths[-1], self.space.num_classes)
        shapes["fc.bias"] = (self.space.num_classes,)
        return shapes

    def used_parameters(self, spec: MBV1Spec | None = None) -> list[paddle.Tensor]:
        """Trainable parameters ``spec`` touches (every layer: MobileNetV1 has no elastic depth)."""
        used = self.active_shapes(spec)
        return [param for name, param in self.named_parameters() if name in used and not param.stop_gradient]

    @paddle.no_grad()
    def export(self, spec: MBV1Spec) -> StandaloneMBV1:
        """A stand-alone network of ``spec`` holding copies of the sliced weights."""
        net = build_standalone(self.space, spec)
        source = self.state_dict()
        net.set_state_dict({name: leading_block(source[name], tuple(target.shape)).clone()
                            for name, target in net.state_dict().items()})
        export_width_statistics(self, net)
        if not self.training:
            net.eval()
        return net

    def reorder_channels(self) -> list[tuple[paddle.Tensor, int, Any]]:
        raise HnasError(f"space {self.space.name!r}: the mbv1 family does not re-order channels by importance; "
                        "train it without progressive shrinking's re-ordering (sampler ofa_ps with reorder off)")


class _ElasticStem(nn.Layer):
    """3x3 conv + BN + act with an elastic output width (names ``conv.conv``, ``conv.bn`` as the standalone stem)."""

    def __init__(self, space: MBV1Space) -> None:
        super().__init__()
        self.conv = _ConvBN(space.in_channels, space.max_width(0), 3, space.stem_stride)
        self.act = make_activation(space.activation)
        self.out_channels = space.max_width(0)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.conv(x, self.out_channels))


class _ConvBN(nn.Layer):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.conv = ElasticConv2D(in_channels, out_channels, kernel_size, stride=stride)
        self.bn = ElasticBatchNorm2D(out_channels)

    def forward(self, x: paddle.Tensor, out_channels: int) -> paddle.Tensor:
        return self.bn(self.conv(x, out_channels))
