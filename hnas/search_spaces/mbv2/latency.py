"""Latency-table blocks of the mbv2 family: every stem, first block, inverted residual and head shape.

A key is ``(kind, shape)``, each shape holding the input size ``size`` the part sees:
``("stem", (in, out, stride, size))`` (3x3 conv, BN, ReLU6), ``("first", (in, out, size))`` (the
fixed expand-1 block), ``("block", (in, mid, out, kernel, stride, size))`` (one inverted residual;
the shortcut follows from stride and widths) and ``("head", (in, last, size, classes))`` (1x1 head
conv, global pooling, classifier). A subnet's predicted latency is the sum of its keys' measured
times (:mod:`hnas.proxies.latency`).
"""

from __future__ import annotations

from itertools import product
from typing import TYPE_CHECKING, Any, Iterator

import paddle
from paddle import nn

from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.counting import conv_output_size
from hnas.search_spaces.mbv2.spec import MBBlockShape, MBV2Spec
from hnas.search_spaces.mbv2.standalone import FeatureMix, FirstBlock, InvertedResidual, classifier_input
from hnas.search_spaces.plain import ConvBN

if TYPE_CHECKING:
    from hnas.search_spaces.mbv2.space import MBV2Space

Key = tuple[str, tuple[Any, ...]]



def subnet_keys(space: MBV2Space, spec: MBV2Spec) -> list[Key]:
    """The keys of ``spec`` in forward order."""
    size = spec.resolution
    stem, first, *_, last = space.widths(spec)
    keys: list[Key] = [("stem", (space.in_channels, stem, space.stem_stride, size))]
    size = conv_output_size(size, 3, space.stem_stride)
    keys.append(("first", (stem, first, size)))
    for shape in space.block_shapes(spec):
        keys.append(_block_key(space, shape, size))
        size = conv_output_size(size, 3, shape.stride)
    keys.append(_head_key(space, last, size))
    return keys


def _block_key(space: MBV2Space, shape: MBBlockShape, size: int) -> Key:
    dims = (shape.in_channels, shape.mid_channels, shape.out_channels, shape.kernel, shape.stride, size)
    if space.stage_specific_blocks:
        return "mbv3_block", (*dims, shape.activation, shape.se_channels)
    return "block", dims


def _head_key(space: MBV2Space, last: int, size: int) -> Key:
    if space.mix_channels:
        return "mbv3_head", (last, space.last_channels, space.mix_channels, size, space.num_classes)
    return "head", (last, space.last_channels, size, space.num_classes)


def all_keys(space: MBV2Space) -> Iterator[Key]:
    """Every key some subnet of ``space`` uses (each once)."""
    seen: set[Key] = set()

    def new(key: Key) -> bool:
        if key in seen:
            return False
        seen.add(key)
        return True

    choices = space.width_choices or tuple((width,) for width in space.fixed_widths)
    for resolution in space.resolutions:
        for stem in choices[0]:
            key: Key = ("stem", (space.in_channels, stem, space.stem_stride, resolution))
            if new(key):
                yield key
        size = conv_output_size(resolution, 3, space.stem_stride)
        for stem, first in product(choices[0], choices[1]):
            key = ("first", (stem, first, size))
            if new(key):
                yield key
        for stage in range(space.num_stages):
            for block in range(max(space.depth_choices[stage])):
                outs = choices[stage + 2]
                # A stage's first block meets every width of the stage before; the others their own.
                widths = list(product(choices[stage + 1], outs)) if block == 0 else [(w, w) for w in outs]
                stride = space.stage_strides[stage] if block == 0 else 1
                for (in_channels, out_channels), kernel, expand in product(widths, space.kernel_choices,
                                                                           space.expand_choices):
                    mid = space.mid_channels(in_channels, expand)
                    key = _block_key(space, MBBlockShape(stage, block, in_channels, mid, out_channels, kernel, stride,
                                                         space.stage_activation(stage),
                                                         space.se_channels(stage, mid)), size)
                    if new(key):
                        yield key
                size = conv_output_size(size, 3, stride)
        for last in choices[-1]:
            key = _head_key(space, last, size)
            if new(key):
                yield key


class _Stem(nn.Layer):
    def __init__(self, in_c: int, out_c: int, stride: int, activation: str) -> None:
        super().__init__()
        self.conv = ConvBN(in_c, out_c, 3, stride=stride)
        self.act = make_activation(activation)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.act(self.conv(x))


class _Head(nn.Layer):
    def __init__(self, in_c: int, last: int, classes: int, activation: str, mix: int = 0) -> None:
        super().__init__()
        self.conv = ConvBN(in_c, last, 1)
        self.act = make_activation(activation)
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.mix = FeatureMix(last, mix, activation) if mix else None
        self.fc = nn.Linear(mix or last, classes)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.fc(classifier_input(self.pool(self.act(self.conv(x))), self.mix, None))


def build_key(space: MBV2Space, key: Key) -> tuple[nn.Layer, tuple[int, int, int]]:
    """The layer a key of ``space`` times (with its activations) and its input shape ``(C, H, W)`` (batch excluded)."""
    kind, shape = key
    if kind == "stem":
        in_c, out_c, stride, size = shape
        return _Stem(in_c, out_c, stride, space.activation), (in_c, size, size)
    if kind == "first":
        in_c, out_c, size = shape
        return FirstBlock(in_c, out_c, space.first_activation), (in_c, size, size)
    if kind == "block":
        in_c, mid, out_c, kernel, stride, size = shape
        block = MBBlockShape(0, 0, in_c, mid, out_c, kernel, stride, space.activation)
        return InvertedResidual(block), (in_c, size, size)
    if kind == "mbv3_block":
        in_c, mid, out_c, kernel, stride, size, activation, se_channels = shape
        block = MBBlockShape(0, 0, in_c, mid, out_c, kernel, stride, activation, se_channels)
        return InvertedResidual(block), (in_c, size, size)
    if kind in ("head", "mbv3_head"):
        in_c, last, *mix, size, classes = shape
        return _Head(in_c, last, classes, space.activation, *mix), (in_c, size, size)
    raise ValueError(f"unknown latency key kind {kind!r}")
