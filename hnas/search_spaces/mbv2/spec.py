"""The mbv2 family's subnet spec and the concrete shape of one elastic block.

Data only: the space (:mod:`hnas.search_spaces.mbv2.space`) parses codes into an
:class:`MBV2Spec` and derives the :class:`MBBlockShape` list; the network modules import this
module and never the space's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MBV2Spec:
    """One subnet of an :class:`MBV2Space`.

    Attributes:
        resolution: input size in pixels.
        depths: active blocks per stage.
        kernels: kernel size of every active block, per stage.
        expands: expand ratio of every active block, per stage.
        widths: output channels of the stem, the first block and each stage, for a space with
            elastic widths (``width_choices``); empty for a space whose widths are fixed.
    """

    resolution: int
    depths: tuple[int, ...]
    kernels: tuple[tuple[int, ...], ...]
    expands: tuple[tuple[int, ...], ...]
    widths: tuple[int, ...] = ()


@dataclass(frozen=True)
class MBBlockShape:
    """Concrete shape of one active elastic block.

    ``activation`` is the block's non-linearity (after its expand and depthwise convs);
    ``se_channels`` the middle width of its squeeze-and-excitation gate, 0 without one.
    """

    stage: int
    index: int
    in_channels: int
    mid_channels: int
    out_channels: int
    kernel: int
    stride: int
    activation: str = "relu6"
    se_channels: int = 0

    @property
    def residual(self) -> bool:
        return self.stride == 1 and self.in_channels == self.out_channels
