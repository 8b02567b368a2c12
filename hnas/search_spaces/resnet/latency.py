"""Latency-table blocks of the ResNet family: every stem, residual block and head shape a subnet can use.

A key is ``(kind, shape)``: ``("stem", (in, out, k, stride, size, pool))``,
``("block", (in, mid, out, stride, downsample, size))`` with ``size`` the block's input size, and
``("head", (channels, size, classes))`` (global pooling + classifier). A subnet's predicted
latency is the sum of its keys' measured times (:mod:`hnas.proxies.latency`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import paddle
from paddle import nn

from hnas.search_spaces.activations import make_activation
from hnas.search_spaces.counting import conv_output_size
from hnas.search_spaces.plain import ConvBN
from hnas.search_spaces.resnet.spec import BlockShape, ResNetSpec, block_shapes, stem_channels
from hnas.search_spaces.resnet.standalone import BasicBlock

if TYPE_CHECKING:
    from hnas.search_spaces.resnet.space import ResNetSpace

Key = tuple[str, tuple[Any, ...]]


def _stem_out(space: ResNetSpace, size: int) -> int:
    size = conv_output_size(size, space.stem_kernel_size, space.stem_stride, space.stem_kernel_size // 2)
    return conv_output_size(size, 3, 2, 1) if space.stem_max_pool else size


def subnet_keys(space: ResNetSpace, spec: ResNetSpec) -> list[Key]:
    """The keys of ``spec`` in forward order."""
    size = spec.resolution
    keys: list[Key] = [("stem", (space.in_channels, stem_channels(space, spec), space.stem_kernel_size,
                                 space.stem_stride, size, space.stem_max_pool))]
    size = _stem_out(space, size)
    for shape in block_shapes(space, spec):
        keys.append(("block", (shape.in_channels, shape.mid_channels, shape.out_channels, shape.stride,
                               shape.downsample, size)))
        size = conv_output_size(size, 3, shape.stride, 1)
    keys.append(("head", (space.channels(space.base_channels[-1], spec.out_codes[-1]), size, space.num_classes)))
    return keys


def all_keys(space: ResNetSpace) -> Iterator[Key]:
    """Every key some subnet of ``space`` uses (each once)."""
    codes = list(space.width_codes)
    seen: set[Key] = set()
    for resolution in space.resolutions:
        for code in codes:
            key: Key = ("stem", (space.in_channels, space.channels(space.stem_base_channels, code),
                                 space.stem_kernel_size, space.stem_stride, resolution, space.stem_max_pool))
            if key not in seen:
                seen.add(key)
                yield key
        size = _stem_out(space, resolution)
        for stage, base in enumerate(space.base_channels):
            in_bases = [space.stem_base_channels if stage == 0 else space.base_channels[stage - 1]]
            for block in range(max(space.depth_choices[stage])):
                stride = space.stage_strides[stage] if block == 0 else 1
                in_base = in_bases[0] if block == 0 else base
                for in_code in codes:
                    if block > 0 or stage == 0:
                        out_codes = [in_code]  # identity shortcut (or stem-tied stage 1): widths tied
                    else:
                        out_codes = codes
                    for out_code in out_codes:
                        for mid_code in codes:
                            key = ("block", (space.channels(in_base, in_code), space.channels(base, mid_code),
                                             space.channels(base, out_code), stride,
                                             space.has_downsample(stage, block), size))
                            if key not in seen:
                                seen.add(key)
                                yield key
                size = conv_output_size(size, 3, stride, 1)
            if stage == len(space.base_channels) - 1:
                for code in codes:
                    key = ("head", (space.channels(base, code), size, space.num_classes))
                    if key not in seen:
                        seen.add(key)
                        yield key


class _Stem(nn.Layer):
    def __init__(self, in_c: int, out_c: int, kernel: int, stride: int, pool: bool, activation: str) -> None:
        super().__init__()
        self.conv = ConvBN(in_c, out_c, kernel, stride)
        self.act = make_activation(activation)
        self.pool = nn.MaxPool2D(3, stride=2, padding=1) if pool else None

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.act(self.conv(x))
        return x if self.pool is None else self.pool(x)


class _Head(nn.Layer):
    def __init__(self, channels: int, classes: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.fc(paddle.flatten(self.pool(x), 1))


def build_key(
    key: Key, activation: str = "relu", outer_activation: str = "relu"
) -> tuple[nn.Layer, tuple[int, int, int]]:
    """The layer a key times (with the space's activations) and its input shape ``(C, H, W)`` (batch excluded)."""
    kind, shape = key
    if kind == "stem":
        in_c, out_c, kernel, stride, size, pool = shape
        return _Stem(in_c, out_c, kernel, stride, pool, activation), (in_c, size, size)
    if kind == "block":
        in_c, mid, out_c, stride, downsample, size = shape
        block = BasicBlock(BlockShape(0, 0, in_c, mid, out_c, stride, downsample), activation, outer_activation)
        return block, (in_c, size, size)
    if kind == "head":
        channels, size, classes = shape
        return _Head(channels, classes), (channels, size, size)
    raise ValueError(f"unknown latency key kind {kind!r}")
