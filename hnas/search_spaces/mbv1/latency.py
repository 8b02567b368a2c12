"""Latency-table blocks of the mbv1 family: every stem, depthwise-separable block and head shape.

A key is ``(kind, shape)``, each shape holding the input size ``size`` the part sees:
``("stem", (in, out, stride, size))`` (3x3 conv, BN, act), ``("block", (in, out, stride, se,
size))`` (one depthwise-separable block; ``se`` its SE reduction width, 0 for none) and
``("head", (in, size, classes))`` (global pooling and classifier). A subnet's predicted latency
is the sum of its keys' measured times (:mod:`hnas.proxies.latency`), as PSS-Net's per-block
lookup tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from paddle import nn

from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.counting import conv_output_size
from hnas.search_spaces.mbv1.spec import MBV1BlockShape, MBV1Spec
from hnas.search_spaces.mbv1.standalone import SeparableBlock
from hnas.search_spaces.plain import ConvBN

if TYPE_CHECKING:
    from hnas.search_spaces.mbv1.space import MBV1Space

Key = tuple[str, tuple[Any, ...]]



def subnet_keys(space: MBV1Space, spec: MBV1Spec) -> list[Key]:
    """The keys of ``spec`` in forward order."""
    size = spec.resolution
    keys: list[Key] = [("stem", (space.in_channels, spec.widths[0], space.stem_stride, size))]
    size = conv_output_size(size, 3, space.stem_stride)
    for shape in space.block_shapes(spec):
        keys.append(("block", (shape.in_channels, shape.out_channels, shape.stride, shape.se_channels, size)))
        size = conv_output_size(size, 3, shape.stride)
    keys.append(("head", (spec.widths[-1], size, space.num_classes)))
    return keys


def all_keys(space: MBV1Space) -> Iterator[Key]:
    """Every key some subnet of ``space`` uses, each once (tied stages only at one shared index)."""
    seen: set[Key] = set()

    def new(key: Key) -> bool:
        if key in seen:
            return False
        seen.add(key)
        return True

    for resolution in space.resolutions:
        for width in space.width_choices[0]:
            key: Key = ("stem", (space.in_channels, width, space.stem_stride, resolution))
            if new(key):
                yield key
        size = conv_output_size(resolution, 3, space.stem_stride)
        for shape in space.block_shapes():
            in_slot = shape.stage if shape.index == 0 else shape.stage + 1
            for c_in, c_out in _width_pairs(space, in_slot, shape.stage + 1):
                key = ("block", (c_in, c_out, shape.stride, shape.se_channels, size))
                if new(key):
                    yield key
            size = conv_output_size(size, 3, shape.stride)
        for width in space.width_choices[-1]:
            key = ("head", (width, size, space.num_classes))
            if new(key):
                yield key


def _width_pairs(space: MBV1Space, in_slot: int, out_slot: int) -> list[tuple[int, int]]:
    """The (input, output) widths a block between two width slots can have: every pair, or only
    equal indices when both are one slot or tied."""
    ins, outs = space.width_choices[in_slot], space.width_choices[out_slot]
    coupled = in_slot == out_slot or any(in_slot in group and out_slot in group for group in space.tied_stages)
    if coupled:
        return list(zip(ins, outs))
    return [(c_in, c_out) for c_in in ins for c_out in outs]


class _Stem(nn.Layer):
    """The stem of one width (3x3 conv, BN, act), as :class:`~hnas.search_spaces.mbv1.standalone.Stem` runs it."""

    def __init__(self, in_c: int, out_c: int, stride: int, activation: str) -> None:
        super().__init__()
        self.conv = ConvBN(in_c, out_c, 3, stride=stride)
        self.act = make_activation(activation)

    def forward(self, x: Any) -> Any:
        return self.act(self.conv(x))


class _Head(nn.Layer):
    def __init__(self, in_c: int, classes: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(in_c, classes)

    def forward(self, x: Any) -> Any:
        import paddle

        return self.fc(paddle.flatten(self.pool(x), 1))


def build_key(key: Key, activation: str = "relu6") -> tuple[nn.Layer, tuple[int, int, int]]:
    """The layer a key times (with the space's ``activation``) and its input shape ``(C, H, W)``."""
    kind, shape = key
    if kind == "stem":
        in_c, out_c, stride, size = shape
        return _Stem(in_c, out_c, stride, activation), (in_c, size, size)
    if kind == "block":
        in_c, out_c, stride, se, size = shape
        return SeparableBlock(MBV1BlockShape(0, 0, in_c, out_c, stride, se), activation), (in_c, size, size)
    if kind == "head":
        in_c, size, classes = shape
        return _Head(in_c, classes), (in_c, size, size)
    raise ValueError(f"unknown latency key kind {kind!r}")
