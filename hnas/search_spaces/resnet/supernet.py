"""The weight-sharing ResNet supernet of a :class:`~hnas.search_spaces.resnet.space.ResNetSpace`.

One :class:`ResNetSupernet` holds the weights of the space's largest network. ``apply(spec)``
hands every block its own part of the spec (its :class:`BlockShape`); ``forward`` then runs
that subnet by slicing, without rebuilding any layer. Sampling never happens here: a sampler
produces specs and the training step applies them. Export, used parameters, channel
re-ordering and the optimizer contract are those of every family
(:class:`~hnas.search_spaces.elastic.ElasticSupernet`); :meth:`ResNetSupernet.active_shapes`
gives the active leading block of every tensor, should a trainer want to mask the inactive
channels' momentum too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import paddle
from paddle import nn

from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.elastic import ElasticSupernet, prefixed
from hnas.search_spaces.ops import ElasticConvBN, ElasticLinear, ShapeMap
from hnas.search_spaces.resnet.blocks import ElasticBasicBlock
from hnas.search_spaces.resnet.spec import ResNetSpec, block_shapes, final_channels, stem_channels

if TYPE_CHECKING:
    from hnas.search_spaces.resnet.space import ResNetSpace


class ElasticStem(nn.Layer):
    """Stem conv + BN + activation (+ 3x3/2 max-pool) with an elastic output width."""

    def __init__(self, space: ResNetSpace) -> None:
        super().__init__()
        self.conv = ElasticConvBN(space.in_channels, space.stem_base_channels, space.stem_kernel_size,
                                  space.stem_stride)
        self.act = make_activation(space.activation)
        self.pool = nn.MaxPool2D(3, stride=2, padding=1) if space.stem_max_pool else None
        self.out_channels = space.stem_base_channels

    def configure(self, out_channels: int) -> None:
        if not 0 < out_channels <= self.conv.max_out_channels:
            raise ValueError(f"stem width {out_channels} exceeds the supernet's {self.conv.max_out_channels}")
        self.out_channels = out_channels

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.act(self.conv(x, self.out_channels))
        return x if self.pool is None else self.pool(x)


class ResNetSupernet(ElasticSupernet):
    """Elastic ResNet of ``space``: every subnet of the space shares these weights.

    Structure and parameter names equal :class:`StandaloneResNet` of the max spec
    (``stem.conv.conv.weight``, ``stages.{s}.{b}.conv1.bn._mean``, ``fc.weight``, ...), so
    :meth:`export` copies state by name. Input ``[N, space.in_channels, H, W]``, output logits
    ``[N, space.num_classes]``. The input is not resized: feeding ``spec.resolution`` pixels
    is the data pipeline's job.

    Args:
        space: the search space; the supernet is built at its maximum widths and depths.
    """

    spec_type = ResNetSpec

    def __init__(self, space: ResNetSpace) -> None:
        super().__init__(space)
        self.stem = ElasticStem(space)
        self.stages = nn.LayerList([nn.LayerList(self._stage_blocks(stage)) for stage in range(space.num_stages)])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = ElasticLinear(space.base_channels[-1], space.num_classes)
        self.apply(space.max_spec())

    def _stage_blocks(self, stage: int) -> list[ElasticBasicBlock]:
        space = self.space
        base = space.base_channels[stage]
        in_channels = space.stem_base_channels if stage == 0 else space.base_channels[stage - 1]
        blocks = []
        for block in range(space.stage_blocks[stage]):
            blocks.append(
                ElasticBasicBlock(
                    in_channels=in_channels if block == 0 else base,
                    mid_channels=base,
                    out_channels=base,
                    stride=space.stage_strides[stage] if block == 0 else 1,
                    downsample=space.has_downsample(stage, block),
                    activation=space.activation,
                    outer_activation=space.outer_activation,
                )
            )
        return blocks

    def configure(self, spec: ResNetSpec) -> None:
        self.stem.configure(stem_channels(self.space, spec))
        for shape in block_shapes(self.space, spec):
            self.stages[shape.stage][shape.index].configure(shape)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.forward_suffix(self.forward_prefix(x))

    def forward_prefix(self, x: paddle.Tensor) -> paddle.Tensor:
        """Stem and stage 1 of the active subnet (the part :meth:`ResNetSpace.prefix_key` names)."""
        x = self.stem(x)
        for index in range(self._spec.depths[0]):
            x = self.stages[0][index](x)
        return x

    def forward_suffix(self, x: paddle.Tensor) -> paddle.Tensor:
        """Stages 2 on and the classifier, from stage 1's output."""
        for stage, depth in zip(self.stages[1:], self._spec.depths[1:]):
            for index in range(depth):
                x = stage[index](x)
        return self.fc(paddle.flatten(self.pool(x), 1))

    def prefix_layers(self) -> list[nn.Layer]:
        return [self.stem, self.stages[0]]

    def active_shapes(self, spec: ResNetSpec | None = None) -> ShapeMap:
        """Active leading block of every state tensor ``spec`` (default: active) uses.

        Keys are full state-dict names; tensors absent from the map are not used at all.
        The map equals the shapes of ``export(spec).state_dict()``.
        """
        spec = self._spec if spec is None else spec
        shapes = prefixed("stem.conv.", self.stem.conv.active_shapes(self.space.in_channels,
                                                                     stem_channels(self.space, spec)))
        for block_shape in block_shapes(self.space, spec):
            block = self.stages[block_shape.stage][block_shape.index]
            prefix = f"stages.{block_shape.stage}.{block_shape.index}."
            shapes.update(prefixed(prefix, block.active_shapes(block_shape)))
        shapes["fc.weight"] = (final_channels(self.space, spec), self.space.num_classes)
        shapes["fc.bias"] = (self.space.num_classes,)
        return shapes
