"""Analytic FLOPs and parameters of a spos ShuffleNetV2 subnet.

``"paddle"`` equals ``paddle.flops`` of the stand-alone network (:mod:`hnas.search_spaces.counting`:
convs, BNs at ``2 * numel``, the global pool, the bias-free classifier; ReLU, dropout, the
channel split and concatenations count zero). ``"macs"`` keeps the conv and classifier
multiply-accumulates: SPOS's count (its published arch is 323 M); ``"pss"`` adds the global pool's
``C * H * W`` (PSS-Net's count).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hnas.search_spaces.base import check_flops_args
from hnas.search_spaces.counting import conv_bn_flops, conv_bn_params, pool_flops
from hnas.search_spaces.shufflenet.spec import OP_KERNELS, XCEPTION, ChoiceShape, ShuffleSpec

if TYPE_CHECKING:
    from hnas.search_spaces.shufflenet.space import ShuffleNetSpace

#: ``(in_per_group, out_channels, kernel, stride)`` of one conv.
Conv = tuple[int, int, int, int]


def main_convs(shape: ChoiceShape, op: int) -> list[Conv]:
    """The convs of candidate ``op``'s main branch in layer ``shape``, in forward order."""
    b_in, mid, b_out, stride = shape.branch_in, shape.mid, shape.branch_out, shape.stride
    if op == XCEPTION:
        return [(1, b_in, 3, stride), (b_in, mid, 1, 1), (1, mid, 3, 1), (mid, mid, 1, 1), (1, mid, 3, 1),
                (mid, b_out, 1, 1)]
    return [(b_in, mid, 1, 1), (1, mid, OP_KERNELS[op], stride), (mid, b_out, 1, 1)]


def projection_convs(shape: ChoiceShape, op: int) -> list[Conv]:
    """The convs of its projection branch (stride-2 layers only)."""
    if shape.stride != 2:
        return []
    return [(1, shape.in_channels, OP_KERNELS[op], 2), (shape.in_channels, shape.in_channels, 1, 1)]


def _chain(convs: list[Conv], size: int, with_bn: bool) -> tuple[int, int]:
    """FLOPs of convs applied one after the other from ``size``, and the output side."""
    total = 0
    for in_per_group, out_channels, kernel, stride in convs:
        flops, size = conv_bn_flops(in_per_group, out_channels, kernel, stride, size, with_bn)
        total += flops
    return total, size


def candidate_flops(shape: ChoiceShape, op: int, size: int, convention: str) -> tuple[int, int]:
    """FLOPs of candidate ``op`` of layer ``shape`` on a ``size`` x ``size`` input, and its output side."""
    with_bn = convention == "paddle"
    main, out = _chain(main_convs(shape, op), size, with_bn)
    return main + _chain(projection_convs(shape, op), size, with_bn)[0], out


def candidate_params(shape: ChoiceShape, op: int) -> int:
    return sum(conv_bn_params(in_per_group, out, kernel)
               for in_per_group, out, kernel, _ in main_convs(shape, op) + projection_convs(shape, op))


def shufflenet_flops(space: ShuffleNetSpace, spec: ShuffleSpec, resolution: int | None = None,
                     convention: str = "paddle") -> int:
    size = check_flops_args(spec, resolution, convention)
    with_bn = convention == "paddle"
    total, size = conv_bn_flops(space.in_channels, space.stem_channels, 3, space.stem_stride, size, with_bn)
    for shape, op in zip(space.choice_shapes(), spec.ops):
        flops, size = candidate_flops(shape, op, size, convention)
        total += flops
    flops, size = conv_bn_flops(space.stage_channels[-1], space.last_channels, 1, 1, size, with_bn)
    total += flops
    return total + pool_flops(space.last_channels, size, convention) + space.last_channels * space.num_classes


def shufflenet_params(space: ShuffleNetSpace, spec: ShuffleSpec) -> int:
    total = conv_bn_params(space.in_channels, space.stem_channels, 3)
    total += sum(candidate_params(shape, op) for shape, op in zip(space.choice_shapes(), spec.ops))
    total += conv_bn_params(space.stage_channels[-1], space.last_channels, 1)
    return total + space.last_channels * space.num_classes
