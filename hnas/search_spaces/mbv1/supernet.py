"""The weight-sharing MobileNetV1 supernet of an :class:`~hnas.search_spaces.mbv1.space.MBV1Space`.

Every layer stores its largest width; ``apply(spec)`` sets the stem's and each stage's output
width and ``forward`` runs the subnet by slicing leading channels (one shared BN per layer,
statistics sliced to the active width, as in PSS-Net's ``USBatchNorm2d``). Parameter names
equal :class:`~hnas.search_spaces.mbv1.standalone.StandaloneMBV1`'s, and every active tensor
is the leading block of the stored one, so export copies state by name
(:class:`~hnas.search_spaces.elastic.ElasticSupernet`). Unused parameters keep ``grad is None``
(nothing here is ever skipped except leading slices).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import paddle
from paddle import nn

from hnas.errors import HnasError
from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.elastic import ElasticSupernet, prefixed
from hnas.search_spaces.mbv1.gate_split import GateSplit
from hnas.search_spaces.mbv1.layers import ElasticSqueezeExcite
from hnas.search_spaces.mbv1.spec import MBV1BlockShape, MBV1Spec
from hnas.search_spaces.ops import ElasticConvBN, ElasticDepthwiseBN, ElasticLinear, ShapeMap, bn_shapes
from hnas.search_spaces.per_width_bn import export_width_statistics

if TYPE_CHECKING:
    from hnas.search_spaces.mbv1.space import MBV1Space


class ElasticSeparableBlock(nn.Layer):
    """Depthwise-separable block whose input and output widths can shrink (see the standalone twin)."""

    def __init__(self, shape: MBV1BlockShape, activation: str) -> None:
        super().__init__()
        self.dw = ElasticDepthwiseBN(shape.in_channels, (3,), shape.stride, False)
        self.se = ElasticSqueezeExcite(shape.in_channels, shape.se_channels) if shape.se_channels else None
        self.pw = ElasticConvBN(shape.in_channels, shape.out_channels)
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
    shapes: ShapeMap = {"dw.conv.weight": (c_in, 1, 3, 3), **bn_shapes(c_in, "dw.bn."),
                        "pw.conv.weight": (c_out, c_in, 1, 1), **bn_shapes(c_out, "pw.bn.")}
    if shape.se_channels:
        se = shape.se_channels
        shapes.update({"se.reduce.weight": (se, c_in, 1, 1), "se.reduce.bias": (se,),
                       "se.expand.weight": (c_in, se, 1, 1), "se.expand.bias": (c_in,)})
    return shapes


class MBV1Supernet(GateSplit, ElasticSupernet):
    """Elastic MobileNetV1 of ``space``; input ``[N, C, H, W]``, output logits ``[N, num_classes]``."""

    spec_type = MBV1Spec

    def __init__(self, space: MBV1Space) -> None:
        super().__init__(space)
        self.stem = _ElasticStem(space)
        largest = space.block_shapes()
        self.stages = nn.LayerList([
            nn.LayerList([ElasticSeparableBlock(shape, space.activation) for shape in largest if shape.stage == stage])
            for stage in range(space.num_stages)
        ])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = ElasticLinear(space.max_width(space.num_stages), space.num_classes)
        self.apply(space.max_spec())

    def configure(self, spec: MBV1Spec) -> None:
        self.stem.out_channels = spec.widths[0]
        for stage, width in zip(self.stages, spec.widths[1:]):
            for block in stage:
                block.out_channels = width

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
        shapes = prefixed("stem.conv.", self.stem.conv.active_shapes(self.space.in_channels, spec.widths[0]))
        for shape in self.space.block_shapes(spec):
            shapes.update(prefixed(f"stages.{shape.stage}.{shape.index}.", block_shapes_map(shape)))
        shapes["fc.weight"] = (spec.widths[-1], self.space.num_classes)
        shapes["fc.bias"] = (self.space.num_classes,)
        return shapes

    @paddle.no_grad()
    def export(self, spec: MBV1Spec) -> nn.Layer:
        """A stand-alone network of ``spec`` holding copies of the sliced weights (and, with per-width BN,
        the statistics of its widths)."""
        net = super().export(spec)
        export_width_statistics(self, net)
        return net

    def reorder_channels(self) -> list[tuple[paddle.Tensor, int, Any]]:
        raise HnasError(f"space {self.space.name!r}: the mbv1 family does not re-order channels by importance; "
                        "train it without progressive shrinking's re-ordering (sampler ofa_ps with reorder off)")


class _ElasticStem(nn.Layer):
    """3x3 conv + BN + act with an elastic output width (names ``conv.conv``, ``conv.bn`` as the standalone stem)."""

    def __init__(self, space: MBV1Space) -> None:
        super().__init__()
        self.conv = ElasticConvBN(space.in_channels, space.max_width(0), 3, space.stem_stride)
        self.act = make_activation(space.activation)
        self.out_channels = space.max_width(0)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.conv(x, self.out_channels))
