"""A tiny slimmable network with a gate point, for testing hnas.dynamic without a real space.

Levels ``r = 0..3``: stem (4 channels) -> conv block (4) with SE -> 1x1 conv to ``WIDTHS[r]`` ->
1x1 conv to ``2 * WIDTHS[r]`` -> pool -> linear to 3 classes. The gate point ``"b1"`` is the SE of
the first block, which every level shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import paddle
import paddle.nn.functional as F
from paddle import nn

from hnas.search_spaces.ops import ElasticBatchNorm2D, ElasticConv2D, ElasticLinear
from hnas.search_spaces.per_width_bn import use_per_width_bn

WIDTHS = (4, 6, 8, 10)
SIZE = 8


@dataclass(frozen=True)
class TinySpec:
    level: int
    resolution: int = SIZE


class TinySpace:
    name = "tiny_slim"
    family = "tiny"

    def __init__(self, bn: str = "shared") -> None:
        self.bn = bn

    def width_levels(self) -> tuple[TinySpec, ...]:
        return tuple(TinySpec(r) for r in range(len(WIDTHS)))

    def gate_points(self) -> tuple[str, ...]:
        return ("b1",)

    def flops(self, spec: TinySpec, resolution: int | None = None, convention: str = "macs") -> int:
        w = WIDTHS[spec.level]
        pixels = SIZE * SIZE
        return pixels * (4 * 9 + 4 * 4 * 9 + 4 * w + w * 2 * w) + 4 * 2 + 2 * 4 + 2 * w * 3

    def build_supernet(self) -> TinySlim:
        net = TinySlim()
        if self.bn == "per_width":
            use_per_width_bn(net, self.width_levels())
        return net


class SE(nn.Layer):
    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2D(channels, reduced, 1)
        self.expand = nn.Conv2D(reduced, channels, 1)

    def squeeze(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.relu(self.reduce(F.adaptive_avg_pool2d(x, 1)))

    def excite(self, x: paddle.Tensor, reduced: paddle.Tensor) -> paddle.Tensor:
        return x * F.sigmoid(self.expand(reduced))


class TinySlim(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        top = max(WIDTHS)
        self.stem = ElasticConv2D(1, 4, 3)
        self.stem_bn = ElasticBatchNorm2D(4)
        self.conv = ElasticConv2D(4, 4, 3)
        self.conv_bn = ElasticBatchNorm2D(4)
        self.se = SE(4, 2)
        self.pw = ElasticConv2D(4, top, 1)
        self.pw_bn = ElasticBatchNorm2D(top)
        self.pw2 = ElasticConv2D(top, 2 * top, 1)
        self.pw2_bn = ElasticBatchNorm2D(2 * top)
        self.fc = ElasticLinear(2 * top, 3)
        self.spec = TinySpec(len(WIDTHS) - 1)

    def apply(self, spec):  # type: ignore[override]
        if not isinstance(spec, TinySpec):
            return super().apply(spec)
        self.spec = spec
        return self

    @property
    def active_spec(self) -> TinySpec:
        return self.spec

    def active_shapes(self, spec: TinySpec | None = None) -> dict[str, tuple[int, ...]]:
        w = WIDTHS[(spec or self.spec).level]
        return {"stem_bn.weight": (4,), "conv_bn.weight": (4,), "pw_bn.weight": (w,), "pw2_bn.weight": (2 * w,)}

    def gate_points(self) -> tuple[str, ...]:
        return ("b1",)

    def gate_channels(self, point: str) -> int:
        return 2

    def forward_to_gate(self, x: paddle.Tensor, point: str) -> tuple[paddle.Tensor, paddle.Tensor]:
        x = F.relu(self.stem_bn(self.stem(x)))
        x = F.relu(self.conv_bn(self.conv(x)))
        return x, self.se.squeeze(x)

    def forward_from_gate(self, x: paddle.Tensor, reduced: paddle.Tensor, point: str) -> paddle.Tensor:
        w = WIDTHS[self.spec.level]
        x = F.relu(self.pw_bn(self.pw(self.se.excite(x, reduced), w)))
        x = F.relu(self.pw2_bn(self.pw2(x, 2 * w)))
        return self.fc(paddle.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        features, reduced = self.forward_to_gate(x, "b1")
        return self.forward_from_gate(features, reduced, "b1")

