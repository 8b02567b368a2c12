"""A dynamic slimmable network: a trained supernet, a slimming gate, and routing per image.

The routed widths are the first ``K`` of the space's ordered width levels
(``SearchSpace.width_levels``; DS-Net routes over its 4 narrowest of 14). Every level runs the
same layers up to the gate point (DS-Net: the first block of the 14-way stage, after its
depthwise conv), so the network computes that prefix once per batch, asks the gate for each
image's width and runs the rest of the network at that width.

* :meth:`GatedNetwork.train_forward` (stage II): Gumbel straight-through routing; the suffix
  runs at every routed width without gradients and the output is the one-hot mix of their
  logits, so the only trainable path is the gate's (the supernet is frozen).
* :meth:`GatedNetwork.dynamic_forward` (inference): arg-max routing, the batch grouped by
  routed width, each group run through real narrow convolutions (``supernet.apply(level)``),
  the outputs put back in the batch's order. Cost per image is its own width's, at any batch
  size; DS-Net's released code instead masks full-width convolutions in training and works
  at batch size 1 only in dynamic mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence, runtime_checkable

import paddle
from paddle import nn

from hnas.dynamic.gate import SlimmingHead, hard_route, straight_through_gumbel
from hnas.errors import HnasError


@runtime_checkable
class Gateable(Protocol):
    """What a supernet offers a slimming gate at one of its space's ``gate_points()``."""

    def gate_channels(self, point: str) -> int:
        """Channels of the reduced SE features the gate at ``point`` reads."""

    def forward_to_gate(self, x: paddle.Tensor, point: str) -> tuple[paddle.Tensor, paddle.Tensor]:
        """Run the active subnet up to ``point``: ``(features at the block's SE, reduced SE features
        [N, C, 1, 1])``."""

    def forward_from_gate(self, features: paddle.Tensor, reduced: paddle.Tensor, point: str) -> paddle.Tensor:
        """Run the active subnet from ``point`` (the SE's excitation on) to the logits."""


def check_gate(space: Any, point: str, options: int) -> tuple[Any, ...]:
    """The routed levels of a gate at ``point`` over ``options`` widths of ``space``.

    Raises:
        HnasError: the space has no width levels or gate points, ``point`` is not one of them, or
            ``options`` exceeds the levels.
    """
    levels, points = space.width_levels(), space.gate_points()
    if not levels or not points:
        raise HnasError(f"space {space.name!r} has no ordered width levels and gate points: it cannot hold a "
                        "slimming gate (DS-Net's dsnet_mbv1 spaces can)")
    if point not in points:
        raise HnasError(f"gate.block {point!r} is not a gate point of space {space.name!r}; known: {', '.join(points)}")
    if options > len(levels):
        raise HnasError(f"gate.options {options} exceeds the {len(levels)} width levels of space {space.name!r}")
    return tuple(levels[:options])


@dataclass
class GateOutputs:
    """One stage II forward pass.

    Attributes:
        routed: ``[N, classes]`` the one-hot mix of the levels' logits (each image's routed level).
        gate_logits: ``[N, K]`` the slimming head's logits.
        one_hot: ``[N, K]`` straight-through Gumbel routing.
        levels: ``[N, K, classes]`` every routed level's logits (no gradient; level 0 is the
            smallest, whose answers give the SGS targets).
    """

    routed: paddle.Tensor
    gate_logits: paddle.Tensor
    one_hot: paddle.Tensor
    levels: paddle.Tensor


def _gumbel(like: paddle.Tensor) -> paddle.Tensor:
    uniform = paddle.uniform(like.shape, dtype=like.dtype, min=1e-10, max=1.0)
    return -paddle.log(-paddle.log(uniform))


class RoutedNetwork(nn.Layer):
    """What every dynamic network shares: the gate's routing, the grouped forward, routed MAdds.

    Subclasses provide ``gate`` (a :class:`SlimmingHead`), ``levels``, the ``option_madds``
    buffer and :meth:`prefix` / :meth:`suffix`.
    """

    gate: SlimmingHead
    levels: tuple[Any, ...]
    option_madds: paddle.Tensor

    def prefix(self, images: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        raise NotImplementedError

    def suffix(self, level: int, features: paddle.Tensor, reduced: paddle.Tensor) -> paddle.Tensor:
        raise NotImplementedError

    @paddle.no_grad()
    def dynamic_forward(self, images: paddle.Tensor, noise: bool = False) -> tuple[paddle.Tensor, paddle.Tensor]:
        """Inference: ``(logits [N, classes], route int64 [N])``, each image run at its routed width.

        ``noise=True`` routes by the arg-max of the logits plus Gumbel noise, as DS-Net evaluates
        (random routes, from Paddle's generator); the default is the noise-free arg-max.
        """
        features, reduced = self.prefix(images)
        logits = self.gate(reduced)
        route = hard_route(logits + _gumbel(logits) if noise else logits)
        return self.run_routed(features, reduced, route), route

    @paddle.no_grad()
    def run_routed(self, features: paddle.Tensor, reduced: paddle.Tensor, route: paddle.Tensor) -> paddle.Tensor:
        """Logits of the images at the gate point, each run at level ``route[i]`` (grouped by level)."""
        chosen = route.numpy()
        if (chosen == chosen[0]).all():  # one group: no gather / scatter
            return self.suffix(int(chosen[0]), features, reduced)
        pieces, order = [], []
        for level in sorted(set(chosen.tolist())):
            index = paddle.to_tensor((chosen == level).nonzero()[0], dtype="int64")
            pieces.append(self.suffix(level, paddle.gather(features, index), paddle.gather(reduced, index)))
            order.append(index)
        return paddle.gather(paddle.concat(pieces), paddle.argsort(paddle.concat(order)))

    def routed_madds(self, route: paddle.Tensor) -> float:
        """MAdds of a routed batch: each image's level plus the gate's head."""
        per_level = self.option_madds.numpy()
        return float(per_level[route.numpy()].sum()) + self.gate.madds() * int(route.shape[0])


class GatedNetwork(RoutedNetwork):
    """``supernet`` with a :class:`SlimmingHead` at ``point`` routing over ``levels``.

    Args:
        supernet: a :class:`Gateable` supernet (its weights are frozen here).
        levels: the routed subnets, narrowest first (they must share the layers before ``point``).
        madds: MAdds of one image through each level (``space.flops(level, convention="macs")``).
        point: the gate point.
        tau: Gumbel-softmax temperature in training.
    """

    def __init__(self, supernet: nn.Layer, levels: Sequence[Any], madds: Sequence[float], point: str,
                 tau: float = 1.0) -> None:
        super().__init__()
        if len(levels) != len(madds) or len(levels) < 2:
            raise ValueError(f"a gate needs >= 2 routed levels with their MAdds, got {len(levels)} / {len(madds)}")
        self.supernet = supernet
        self.levels = tuple(levels)
        self.point = point
        self.tau = float(tau)
        self.gate = SlimmingHead(supernet.gate_channels(point), len(self.levels))
        self.register_buffer("option_madds", paddle.to_tensor([float(m) for m in madds], dtype="float32"),
                             persistable=False)
        for param in supernet.parameters():
            param.stop_gradient = True

    def gate_parameters(self) -> list[paddle.Tensor]:
        """What stage II trains: the slimming head's weight and bias."""
        return list(self.gate.parameters())

    def train(self) -> GatedNetwork:  # type: ignore[override]
        """The gate in train mode; the supernet stays in eval mode (stage II freezes its BN)."""
        super().train()
        self.supernet.eval()
        return self

    def prefix(self, images: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        """Features and reduced SE features at the gate point (shared by every level)."""
        self.supernet.apply(self.levels[0])
        return self.supernet.forward_to_gate(images, self.point)

    def suffix(self, level: int, features: paddle.Tensor, reduced: paddle.Tensor) -> paddle.Tensor:
        """Logits of level ``level`` from the gate point."""
        self.supernet.apply(self.levels[level])
        return self.supernet.forward_from_gate(features, reduced, self.point)

    def train_forward(self, images: paddle.Tensor) -> GateOutputs:
        """Stage II forward (see :class:`GateOutputs`)."""
        with paddle.no_grad():
            features, reduced = self.prefix(images)
            levels = paddle.stack([self.suffix(level, features, reduced) for level in range(len(self.levels))],
                                  axis=1)
        gate_logits = self.gate(reduced)
        one_hot = straight_through_gumbel(gate_logits, self.tau)
        return GateOutputs((one_hot.unsqueeze(-1) * levels).sum(axis=1), gate_logits, one_hot, levels)

    def forward(self, images: paddle.Tensor) -> paddle.Tensor:
        """Logits: the straight-through mix in training, the grouped dynamic forward in evaluation."""
        if self.training:
            return self.train_forward(images).routed
        return self.dynamic_forward(images)[0]


class ExportedDynamicNetwork(RoutedNetwork):
    """The deployable form of a :class:`GatedNetwork`: one exported stand-alone network per routed
    level (plain, unsliced convolutions at that level's width) and a copy of the gate.

    The prefix runs on level 0's network (every level shares those layers and their weights), each
    group's suffix on its level's network. Input ``[N, C, R, R]``, output logits (eval only).
    """

    def __init__(self, gated: GatedNetwork) -> None:
        super().__init__()
        supernet = gated.supernet
        previous = supernet.active_spec
        self.nets = nn.LayerList([supernet.export(level) for level in gated.levels])
        supernet.apply(previous)
        self.levels, self.point = gated.levels, gated.point
        self.gate = SlimmingHead(gated.gate.conv.weight.shape[1], len(gated.levels))
        self.gate.set_state_dict(gated.gate.state_dict())
        self.register_buffer("option_madds", gated.option_madds.clone(), persistable=False)
        self.num_classes = int(supernet.space.num_classes)
        self.eval()

    def prefix(self, images: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        return self.nets[0].forward_to_gate(images, self.point)

    def suffix(self, level: int, features: paddle.Tensor, reduced: paddle.Tensor) -> paddle.Tensor:
        return self.nets[level].forward_from_gate(features, reduced, self.point)

    def forward(self, images: paddle.Tensor) -> paddle.Tensor:
        """Arg-max routing written for ``paddle.jit.save`` (no host round trip): every level in turn
        takes the images routed to it, possibly none, and scatters its logits into place."""
        features, reduced = self.prefix(images)
        route = paddle.argmax(self.gate(reduced), axis=-1)
        out = paddle.zeros([images.shape[0], self.num_classes], dtype=features.dtype)
        for level in range(len(self.levels)):
            index = paddle.nonzero(route == level).flatten()
            part = self.suffix(level, paddle.gather(features, index), paddle.gather(reduced, index))
            out = paddle.scatter(out, index, part)
        return out
