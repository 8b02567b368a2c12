"""Plain ShuffleNetV2 of one spos subnet: the network trained stand-alone.

It is the supernet's stack with the chosen candidate only in each choice layer and affine BNs;
parameter names equal :class:`~hnas.search_spaces.shufflenet.supernet.ShuffleNetSupernet`'s
(``choices.4.candidates.2.pw1.conv.weight``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import paddle
from paddle import nn

from hnas.search_spaces.shufflenet.layers import add_network_layers, run_network, set_ops
from hnas.search_spaces.shufflenet.spec import ShuffleSpec

if TYPE_CHECKING:
    from hnas.search_spaces.shufflenet.space import ShuffleNetSpace


class StandaloneShuffleNet(nn.Layer):
    """The static network of ``spec``: input ``[N, C, R, R]``, output logits ``[N, num_classes]``."""

    def __init__(self, space: ShuffleNetSpace, spec: ShuffleSpec) -> None:
        super().__init__()
        self.space = space
        self.spec = spec
        add_network_layers(self, space, [(op,) for op in spec.ops], affine=True)
        set_ops(self, spec)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return run_network(self, x)


def build_standalone(space: ShuffleNetSpace, spec: ShuffleSpec) -> StandaloneShuffleNet:
    """A freshly initialised stand-alone network of ``spec`` (``ValueError`` for a foreign spec)."""
    space.validate(spec)
    return StandaloneShuffleNet(space, spec)
