"""The shufflenet family's subnet spec and the concrete shape of one choice layer.

Data only: the space (:mod:`hnas.search_spaces.shufflenet.space`) parses codes into a
:class:`ShuffleSpec` and derives the :class:`ChoiceShape` list; the network and cost modules
import this module and never the space's.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Candidate blocks of every choice layer, by index: ShuffleNet units with a 3x3, 5x5 or 7x7
#: depthwise kernel, then the Xception-like unit (three 3x3 depthwise + pointwise pairs).
OPS: tuple[str, ...] = ("shuffle3", "shuffle5", "shuffle7", "xception")

#: Depthwise kernel of each candidate's projection branch (and, for the ShuffleNet units, of its main branch).
OP_KERNELS: tuple[int, ...] = (3, 5, 7, 3)

XCEPTION = 3


@dataclass(frozen=True)
class ShuffleSpec:
    """One subnet of a :class:`~hnas.search_spaces.shufflenet.space.ShuffleNetSpace`.

    Attributes:
        resolution: input size in pixels.
        ops: the candidate index (0-3, :data:`OPS`) of every choice layer, in forward order.
    """

    resolution: int
    ops: tuple[int, ...]


@dataclass(frozen=True)
class ChoiceShape:
    """Shape of one choice layer (the same for its four candidates).

    ``in_channels``/``out_channels`` are the layer's; a stride-1 layer splits its input in two
    halves and runs the candidate on one (``branch_in = out // 2``), a stride-2 layer runs it on
    the whole input next to a projection branch (``branch_in = in_channels``). The candidate's
    main branch maps ``branch_in`` to ``out_channels - branch_in`` through ``mid = out // 2``.
    """

    stage: int
    index: int
    in_channels: int
    out_channels: int
    stride: int

    @property
    def branch_in(self) -> int:
        return self.in_channels if self.stride == 2 else self.out_channels // 2

    @property
    def mid(self) -> int:
        return self.out_channels // 2

    @property
    def branch_out(self) -> int:
        return self.out_channels - self.branch_in
