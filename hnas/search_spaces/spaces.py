"""The named search spaces shipped with hnas."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from hnas.errors import HnasError
from hnas.registry import Registry
from hnas.search_spaces.spec import SpaceDef

SPACES: Registry[SpaceDef] = Registry("search space")

#: The CVPR 2022 NAS Track 1 space: ResNet48 on 224 px ImageNet.
SPACES.add("resnet48", SpaceDef(name="resnet48"))

#: The same 52-char codes on a laptop: 1-channel 28 px images, 10 classes, narrow stages.
#: Base 20/40/80/160 with divisor 1 keeps the 7 width codes distinct (20, 19, ..., 14).
SPACES.add(
    "resnet48_tiny",
    SpaceDef(
        name="resnet48_tiny",
        base_channels=(20, 40, 80, 160),
        channel_divisor=1,
        stem_kernel_size=3,
        stem_stride=2,
        stem_max_pool=False,
        in_channels=1,
        num_classes=10,
        resolutions=(28,),
    ),
)


def resolve_space(name: str, overrides: Mapping[str, Any] | None = None) -> SpaceDef:
    """The registered space ``name`` with some fields replaced (e.g. ``num_classes``)."""
    space = SPACES.get(name)
    if not overrides:
        return space
    fields = {f.name for f in dataclasses.fields(SpaceDef)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise HnasError(f"unknown search-space field(s) {unknown}; known: {sorted(fields)}")
    values = {key: tuple(map(tuple, v)) if key == "depth_choices" else
              (tuple(v) if isinstance(v, list) else v) for key, v in overrides.items()}
    try:
        return dataclasses.replace(space, **values)
    except (TypeError, ValueError) as error:
        raise HnasError(f"bad search-space override for {name!r}: {error}") from None
