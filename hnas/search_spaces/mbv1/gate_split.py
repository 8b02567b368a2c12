"""A MobileNetV1 network split at a gate point: the part before a block's SE excitation, and the rest.

DS-Net's slimming gate sits in the SE of a block (the first of the tied stages) and reads the
SE's squeezed features; every width level runs the same layers up to there. Both the supernet
and a stand-alone network (an exported level) mix in :class:`GateSplit`, so the dynamic network
runs on either (:mod:`hnas.dynamic.network`).
"""

from __future__ import annotations

from typing import Any

import paddle

from hnas.errors import HnasError


class GateSplit:
    """``forward_to_gate`` / ``forward_from_gate`` over ``stem``, ``stages``, ``pool`` and ``fc``.

    The blocks provide ``to_gate(x) -> (features, reduced)`` and ``from_gate(features, reduced)``.
    """

    space: Any
    stem: Any
    stages: Any
    pool: Any
    fc: Any

    def gate_block(self, point: str) -> tuple[int, int]:
        """``(stage, block)`` indices (0-based) of gate point ``point`` (``s4.b1`` -> ``(3, 0)``)."""
        if point not in self.space.gate_points():
            raise HnasError(f"{point!r} is not a gate point of space {self.space.name!r}: "
                            f"{list(self.space.gate_points())}")
        stage, block = point[1:].split(".b")
        return int(stage) - 1, int(block) - 1

    def gate_channels(self, point: str) -> int:
        stage, block = self.gate_block(point)
        return int(self.stages[stage][block].se.reduce.weight.shape[0])

    def _blocks(self) -> list[tuple[tuple[int, int], Any]]:
        return [((s, i), block) for s, stage in enumerate(self.stages) for i, block in enumerate(stage)]

    def forward_to_gate(self, x: paddle.Tensor, point: str) -> tuple[paddle.Tensor, paddle.Tensor]:
        """The network up to the gate block's SE: (its depthwise output, the SE's squeezed features)."""
        where = self.gate_block(point)
        x = self.stem(x)
        for position, block in self._blocks():
            if position == where:
                return block.to_gate(x)
            x = block(x)
        raise AssertionError("unreachable: the gate block is one of the blocks")

    def forward_from_gate(self, x: paddle.Tensor, reduced: paddle.Tensor, point: str) -> paddle.Tensor:
        """The network from the gate block's SE excitation to the logits."""
        where = self.gate_block(point)
        for position, block in self._blocks():
            if position == where:
                x = block.from_gate(x, reduced)
            elif position > where:
                x = block(x)
        return self.fc(paddle.flatten(self.pool(x), 1))
