"""Hamming distance between arch codes: each space's own (:meth:`SearchSpace.code_distance`).

A space counts the slots of its choice view that differ (:meth:`SearchSpace.distance`); the
ResNet family counts code characters from the stem width code on, the 3rd-place solution's
definition (:func:`~hnas.search_spaces.resnet.spec.width_part_start`), which is the same count
over its width slots. Codes given without a space are read as the default space's
(:data:`~hnas.search_spaces.spaces.DEFAULT_SPACE`).
"""

from __future__ import annotations

from typing import Any

from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.codes import char_hamming
from hnas.search_spaces.resnet.spec import width_part_start

__all__ = ["char_hamming", "hamming_distance", "spec_distance", "width_part_start"]


def hamming_distance(code_a: str, code_b: str, space: SearchSpace | None = None) -> int:
    """Distance of two arch codes of ``space`` (``None``: the default space).

    Raises:
        ArchCodeError: the codes differ in length (or, for a choice-view family, do not decode).
    """
    if space is None:
        from hnas.search_spaces.spaces import default_space  # the registry imports every family

        space = default_space()
    return space.code_distance(code_a, code_b)


def spec_distance(space: SearchSpace, spec_a: Any, spec_b: Any) -> int:
    """:meth:`SearchSpace.distance` of two specs (for ResNet equal to :func:`hamming_distance` of their codes)."""
    return space.distance(spec_a, spec_b)
