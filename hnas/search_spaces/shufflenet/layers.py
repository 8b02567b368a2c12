"""The layers of SPOS's ShuffleNetV2 networks, shared by the supernet and the stand-alone net.

Both networks are the same stack (:func:`add_network_layers`): a 3x3 stem, one
:class:`ChoiceLayer` per searched block, a 1x1 head conv, global pooling, dropout and a bias-free
classifier. The supernet's choice layers hold all four candidates and BNs without scale and
shift (``affine=False``, as SPOS trains its supernet); the stand-alone net's hold the chosen
candidate only, with affine BNs. Parameter names are therefore equal
(``choices.4.candidates.2.dw.conv.weight``) and weights copy by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import paddle
import paddle.nn.functional as F
from paddle import nn

from hnas.search_spaces.plain import ConvBN
from hnas.search_spaces.shufflenet.spec import OP_KERNELS, XCEPTION, ChoiceShape, ShuffleSpec

if TYPE_CHECKING:
    from hnas.search_spaces.shufflenet.space import ShuffleNetSpace


def channel_split(x: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
    """SPOS's shuffle of a stride-1 unit: even channels pass through, odd channels feed the unit."""
    n, c, h, w = x.shape
    pairs = x.reshape([n, c // 2, 2, h, w])
    return pairs[:, :, 0], pairs[:, :, 1]


class Projection(nn.Layer):
    """Side branch of a stride-2 unit: k x k depthwise (stride 2), BN, 1x1 conv, BN, ReLU."""

    def __init__(self, channels: int, kernel: int, affine: bool) -> None:
        super().__init__()
        self.dw = ConvBN(channels, channels, kernel, stride=2, groups=channels, affine=affine)
        self.pw = ConvBN(channels, channels, 1, affine=affine)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.relu(self.pw(self.dw(x)))


class Candidate(nn.Layer):
    """One candidate block: its main branch, and for stride 2 its projection branch.

    Stride 1: ``concat(even channels, main(odd channels))``; stride 2:
    ``concat(projection(x), main(x))``.
    """

    def __init__(self, shape: ChoiceShape, op: int, affine: bool) -> None:
        super().__init__()
        self.stride = shape.stride
        self.proj = Projection(shape.in_channels, OP_KERNELS[op], affine) if shape.stride == 2 else None

    def main(self, x: paddle.Tensor) -> paddle.Tensor:
        raise NotImplementedError

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        if self.proj is None:
            keep, x = channel_split(x)
            return paddle.concat([keep, self.main(x)], axis=1)
        return paddle.concat([self.proj(x), self.main(x)], axis=1)


class ShuffleUnit(Candidate):
    """ShuffleNetV2 unit: 1x1 conv, BN, ReLU, k x k depthwise (the stride), BN, 1x1 conv, BN, ReLU."""

    def __init__(self, shape: ChoiceShape, op: int, affine: bool) -> None:
        super().__init__(shape, op, affine)
        mid, kernel = shape.mid, OP_KERNELS[op]
        self.pw1 = ConvBN(shape.branch_in, mid, 1, affine=affine)
        self.dw = ConvBN(mid, mid, kernel, stride=shape.stride, groups=mid, affine=affine)
        self.pw2 = ConvBN(mid, shape.branch_out, 1, affine=affine)

    def main(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.relu(self.pw2(self.dw(F.relu(self.pw1(x)))))


class XceptionUnit(Candidate):
    """Xception-like unit: three times [3x3 depthwise, BN, 1x1 conv, BN, ReLU]; the first depthwise
    conv carries the stride, the last 1x1 conv gives the branch's output width."""

    def __init__(self, shape: ChoiceShape, op: int, affine: bool) -> None:
        super().__init__(shape, op, affine)
        mid = shape.mid
        widths = ((shape.branch_in, mid, shape.stride), (mid, mid, 1), (mid, shape.branch_out, 1))
        self.dws = nn.LayerList([ConvBN(c, c, 3, stride=s, groups=c, affine=affine) for c, _, s in widths])
        self.pws = nn.LayerList([ConvBN(c, o, 1, affine=affine) for c, o, _ in widths])

    def main(self, x: paddle.Tensor) -> paddle.Tensor:
        for dw, pw in zip(self.dws, self.pws):
            x = F.relu(pw(dw(x)))
        return x


def make_candidate(shape: ChoiceShape, op: int, affine: bool) -> Candidate:
    return XceptionUnit(shape, op, affine) if op == XCEPTION else ShuffleUnit(shape, op, affine)


class ChoiceLayer(nn.Layer):
    """The candidates ``ops`` of one searched block (keys ``"0"`` .. ``"3"``); runs ``self.op``."""

    def __init__(self, shape: ChoiceShape, ops: Sequence[int], affine: bool) -> None:
        super().__init__()
        self.candidates = nn.LayerDict({str(op): make_candidate(shape, op, affine) for op in ops})
        self.op = ops[-1]

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.candidates[str(self.op)](x)


class Stem(nn.Layer):
    def __init__(self, space: ShuffleNetSpace, affine: bool) -> None:
        super().__init__()
        self.conv = ConvBN(space.in_channels, space.stem_channels, 3, stride=space.stem_stride, affine=affine)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.relu(self.conv(x))


def add_network_layers(net: nn.Layer, space: ShuffleNetSpace, ops: Sequence[Sequence[int]], affine: bool) -> None:
    """Give ``net`` the stem, one choice layer per entry of ``ops`` (its candidates), head and classifier."""
    net.stem = Stem(space, affine)
    net.choices = nn.LayerList([ChoiceLayer(shape, layer_ops, affine)
                                for shape, layer_ops in zip(space.choice_shapes(), ops)])
    net.head = _Head(space, affine)
    net.pool = nn.AdaptiveAvgPool2D(1)
    net.dropout = nn.Dropout(space.dropout)
    net.fc = nn.Linear(space.last_channels, space.num_classes, bias_attr=False)


class _Head(nn.Layer):
    """1x1 conv to ``last_channels``, BN, ReLU."""

    def __init__(self, space: ShuffleNetSpace, affine: bool) -> None:
        super().__init__()
        self.conv = ConvBN(space.stage_channels[-1], space.last_channels, 1, affine=affine)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.relu(self.conv(x))


def run_network(net: nn.Layer, x: paddle.Tensor) -> paddle.Tensor:
    """Logits of a network built by :func:`add_network_layers` (its choice layers' ``op`` set)."""
    x = net.stem(x)
    for layer in net.choices:
        x = layer(x)
    x = paddle.flatten(net.pool(net.head(x)), 1)
    return net.fc(net.dropout(x))


def set_ops(net: nn.Layer, spec: ShuffleSpec) -> None:
    for layer, op in zip(net.choices, spec.ops):
        layer.op = op
