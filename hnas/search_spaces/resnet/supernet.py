"""The weight-sharing ResNet supernet of a :class:`ResNetSpace`.

One :class:`ResNetSupernet` holds the weights of the space's largest network. ``apply(spec)``
hands every block its own part of the spec (its :class:`BlockShape`); ``forward`` then runs
that subnet by slicing, without rebuilding any layer. Sampling never happens here: a sampler
produces specs and the training step applies them.

Optimizer contract (what Paddle does, checked in ``tests/search_spaces/test_supernet.py``):

- After ``backward`` through a subnet, parameters of blocks beyond the active depth have
  ``grad is None``; sliced parameters get a full-size gradient that is zero outside the
  active leading block.
- Paddle optimizers skip parameters whose ``grad`` is ``None`` in ``step()``. Clearing with
  ``optimizer.clear_grad(set_to_zero=False)`` keeps unused parameters at ``None``, so momentum
  and weight decay do not move them; the default ``clear_grad()`` (``set_to_zero=True``)
  leaves zero tensors and the optimizer *does* update them. Inactive channels of a sliced
  parameter always receive the zero gradient and hence momentum / weight-decay updates, as in
  PaddleSlim's OFA. :meth:`ResNetSupernet.active_shapes` gives the active leading block of
  every tensor, should a trainer want to mask those too.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import paddle
from paddle import nn

from hnas.errors import HnasError
from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.ops import ElasticLinear
from hnas.search_spaces.resnet.blocks import ElasticBasicBlock, ElasticConvBN, ShapeMap
from hnas.search_spaces.resnet.space import (
    ResNetSpace,
    ResNetSpec,
    block_shapes,
    final_channels,
    max_spec,
    min_spec,
    stem_channels,
)
from hnas.search_spaces.resnet.standalone import StandaloneResNet, build_standalone


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


class ResNetSupernet(nn.Layer):
    """Elastic ResNet of ``space``: every subnet of the space shares these weights.

    Structure and parameter names equal :class:`StandaloneResNet` of the max spec
    (``stem.conv.conv.weight``, ``stages.{s}.{b}.conv1.bn._mean``, ``fc.weight``, ...), so
    :meth:`export` copies state by name. Input ``[N, space.in_channels, H, W]``, output logits
    ``[N, space.num_classes]``. The input is not resized: feeding ``spec.resolution`` pixels
    is the data pipeline's job.

    Args:
        space: the search space; the supernet is built at its maximum widths and depths.
    """

    def __init__(self, space: ResNetSpace) -> None:
        super().__init__()
        self.space = space
        self.stem = ElasticStem(space)
        self.stages = nn.LayerList([nn.LayerList(self._stage_blocks(stage)) for stage in range(space.num_stages)])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = ElasticLinear(space.base_channels[-1], space.num_classes)
        self._spec = max_spec(space)
        self._depths = self._spec.depths

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

    # ``nn.Layer.apply(fn)`` (used by Paddle itself, e.g. for dtype casts) must keep working,
    # so a callable goes to the base class and a spec activates a subnet.
    def apply(self, spec_or_fn: ResNetSpec | Callable[[nn.Layer], Any]) -> ResNetSupernet:  # type: ignore[override]
        """Activate subnet ``spec`` (or, given a callable, behave as ``nn.Layer.apply``).

        Raises:
            HnasError: if ``spec`` is not a member of this supernet's space.
        """
        if not isinstance(spec_or_fn, ResNetSpec):
            return super().apply(spec_or_fn)
        spec = spec_or_fn
        try:
            self.space.validate(spec)
        except ValueError as error:
            raise HnasError(f"subnet spec does not belong to space {self.space.name!r}: {error}") from None
        self.stem.configure(stem_channels(self.space, spec))
        for shape in block_shapes(self.space, spec):
            self.stages[shape.stage][shape.index].configure(shape)
        self._spec = spec
        self._depths = spec.depths
        return self

    @property
    def active_spec(self) -> ResNetSpec:
        """The subnet ``forward`` runs (the max spec until :meth:`apply` is called)."""
        return self._spec

    def max_spec(self) -> ResNetSpec:
        return max_spec(self.space)

    def min_spec(self) -> ResNetSpec:
        return min_spec(self.space)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.forward_suffix(self.forward_prefix(x))

    def forward_prefix(self, x: paddle.Tensor) -> paddle.Tensor:
        """Stem and stage 1 of the active subnet (the part :meth:`ResNetSpace.prefix_key` names)."""
        x = self.stem(x)
        for index in range(self._depths[0]):
            x = self.stages[0][index](x)
        return x

    def forward_suffix(self, x: paddle.Tensor) -> paddle.Tensor:
        """Stages 2 on and the classifier, from stage 1's output."""
        for stage, depth in zip(self.stages[1:], self._depths[1:]):
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
        shapes = {f"stem.conv.{name}": shape for name, shape in self.stem.conv.active_shapes(
            self.space.in_channels, stem_channels(self.space, spec)).items()}
        for block_shape in block_shapes(self.space, spec):
            block = self.stages[block_shape.stage][block_shape.index]
            prefix = f"stages.{block_shape.stage}.{block_shape.index}."
            shapes.update({prefix + name: shape for name, shape in block.active_shapes(block_shape).items()})
        shapes["fc.weight"] = (final_channels(self.space, spec), self.space.num_classes)
        shapes["fc.bias"] = (self.space.num_classes,)
        return shapes

    def used_parameters(self, spec: ResNetSpec | None = None) -> list[paddle.Tensor]:
        """Trainable parameters that ``spec`` (default: active) touches, in definition order."""
        used = self.active_shapes(spec)
        return [param for name, param in self.named_parameters() if name in used and not param.stop_gradient]

    @paddle.no_grad()
    def export(self, spec: ResNetSpec) -> StandaloneResNet:
        """A stand-alone network of ``spec`` holding copies of the sliced weights and BN statistics.

        The copy is independent of the supernet and is in the supernet's train/eval mode.
        """
        net = build_standalone(self.space, spec)
        source = self.state_dict()
        state = {}
        for name, target in net.state_dict().items():
            index = tuple(slice(0, size) for size in target.shape)
            state[name] = source[name][index].clone()
        net.set_state_dict(state)
        if not self.training:
            net.eval()
        return net

    @paddle.no_grad()
    def reorder_channels(self) -> list[tuple[paddle.Tensor, int, np.ndarray]]:
        """Sort every block's middle channels by importance (see ``ElasticBasicBlock.reorder_by_importance``).

        Returns:
            ``(tensor, axis, order)`` of every permuted tensor, for
            :func:`hnas.nn.optim.permute_optimizer_state`.
        """
        moves = []
        for stage in self.stages:
            for block in stage:
                order = block.reorder_by_importance()
                moves += [(tensor, axis, order) for tensor, axis in block.permuted_tensors()]
        return moves
