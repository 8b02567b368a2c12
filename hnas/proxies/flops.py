"""Analytic FLOPs and parameter counts of a subnet, from its spec alone (no model is built).

Each family counts its own networks (:meth:`~hnas.search_spaces.base.SearchSpace.flops`,
:meth:`~hnas.search_spaces.base.SearchSpace.params`; for ResNet see
:mod:`hnas.search_spaces.resnet.flops`). Two conventions:

* ``"paddle"`` reproduces ``paddle.flops(space.build_standalone(spec), [1, C, R, R])`` exactly
  (conv, BN, average pooling and linear layers counted; ReLU and max-pool zero);
* ``"macs"``: multiply-accumulates of the convs and the classifier only;
* ``"pss"``: PSS-Net's ``calc_subnet_flops``, the MACs plus ``H * W * C`` for every average pool.
"""

from __future__ import annotations

from typing import Any

from hnas.search_spaces.base import FLOPS_CONVENTIONS, SearchSpace

#: Names accepted by ``count_flops(..., convention=...)``.
CONVENTIONS: tuple[str, ...] = FLOPS_CONVENTIONS


def count_flops(space: SearchSpace, spec: Any, resolution: int | None = None, convention: str = "paddle") -> int:
    """FLOPs of the stand-alone network of ``spec`` for one ``[1, C, R, R]`` image.

    Args:
        space: the search space ``spec`` belongs to.
        spec: the subnet.
        resolution: input size ``R`` in pixels; defaults to ``spec.resolution``.
        convention: ``"paddle"`` (equal to ``paddle.flops``), ``"macs"`` or ``"pss"``.

    Raises:
        HnasError: unknown convention or a resolution below 1.
    """
    return space.flops(spec, resolution, convention)


def count_params(space: SearchSpace, spec: Any) -> int:
    """Parameters of the stand-alone network of ``spec``: ``sum(p.numel() for p in model.parameters())``
    (BN running mean and variance included, as Paddle stores them as parameters)."""
    return space.params(spec)
