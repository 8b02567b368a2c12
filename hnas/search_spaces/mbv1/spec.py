"""The mbv1 family's subnet spec and the concrete shape of one depthwise-separable block.

Data only: the space (:mod:`hnas.search_spaces.mbv1.space`) parses codes into an
:class:`MBV1Spec` and derives the :class:`MBV1BlockShape` list; the network and cost modules
import this module and never the space's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MBV1Spec:
    """One subnet of an :class:`MBV1Space`.

    Attributes:
        resolution: input size in pixels.
        widths: output channels of the stem, then of each stage (every block of a stage).
    """

    resolution: int
    widths: tuple[int, ...]


@dataclass(frozen=True)
class MBV1BlockShape:
    """Concrete shape of one depthwise-separable block.

    ``se_channels`` is the SE reduction width (0: no SE); it is fixed by the block's largest
    input width, as in DS-Net, so a narrower subnet slices only the SE convs' outer channels.
    """

    stage: int
    index: int
    in_channels: int
    out_channels: int
    stride: int
    se_channels: int = 0
