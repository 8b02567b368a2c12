"""The registered space families and the named spaces shipped with hnas.

``FAMILIES`` maps a family name to its :class:`~hnas.search_spaces.base.SearchSpace` subclass
(checkpoints store it, so a space is rebuilt from its fields); ``SPACES`` maps a space name to
one frozen instance. A family's subpackage defines its named spaces; adding a family is that
subpackage plus one :func:`register_family` line here (README, "Adding a search space").
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from hnas.errors import HnasError
from hnas.registry import Registry
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.bn_option import refuse_bn_override
from hnas.search_spaces.mbv1.space import MBV1_SPACES, MBV1Space
from hnas.search_spaces.mbv2.named import MBV2_SPACES
from hnas.search_spaces.mbv2.space import MBV2Space
from hnas.search_spaces.resnet.space import RESNET_SPACES, ResNetSpace
from hnas.search_spaces.shufflenet.space import SHUFFLENET_SPACES, ShuffleNetSpace

FAMILIES: Registry[type[SearchSpace]] = Registry("search-space family")
SPACES: Registry[SearchSpace] = Registry("search space")


def register_family(family: type[SearchSpace], named_spaces: Iterable[SearchSpace]) -> None:
    """Register a family and its named spaces (each under its ``name``)."""
    FAMILIES.add(family.family, family)
    for space in named_spaces:
        if not isinstance(space, family):
            raise TypeError(f"space {space.name!r} is not a {family.family} space")
        SPACES.add(space.name, space)


# One line per family.
register_family(ResNetSpace, RESNET_SPACES)
register_family(MBV2Space, MBV2_SPACES)
register_family(MBV1Space, MBV1_SPACES)
register_family(ShuffleNetSpace, SHUFFLENET_SPACES)


def resolve_space(name: str, overrides: Mapping[str, Any] | None = None) -> SearchSpace:
    """The registered space ``name`` with some fields replaced (e.g. ``num_classes``).

    Raises:
        HnasError: unknown space, unknown field or invalid value.
    """
    space = SPACES.get(name)
    if not overrides:
        return space
    refuse_bn_override(space, overrides, (SPACES.get(other) for other in SPACES.names()))
    try:
        return space.replace(overrides)
    except ValueError as error:
        if str(error).startswith("unknown search-space field"):
            raise HnasError(str(error)) from None
        raise HnasError(f"bad search-space override for {name!r}: {error}") from None


#: The space of arch codes that come without one (``hnas.search_spaces.distance`` with no space):
#: the CVPR 2022 NAS Track 1 ResNet48, the space hnas began with.
DEFAULT_SPACE = "resnet48"

#: The family of records (checkpoint metadata, latency tables) written before families existed; the one
#: place this default is written (:func:`hnas.checkpoints.space_record.stored_family` reads it).
LEGACY_FAMILY = ResNetSpace.family


def default_space() -> SearchSpace:
    """The registered :data:`DEFAULT_SPACE`."""
    return SPACES.get(DEFAULT_SPACE)


def space_from_fields(fields: Mapping[str, Any], family: str = LEGACY_FAMILY) -> SearchSpace:
    """Rebuild a space of ``family`` from its stored fields (checkpoint metadata).

    Records written before families existed hold ResNet fields and no family name
    (:data:`LEGACY_FAMILY`; :mod:`hnas.checkpoints.space_record` reads records). Fields added to
    a family since read as :meth:`SearchSpace.stored_fields` says (``outer_activation``: the
    stored ``activation``).

    Raises:
        HnasError: unknown family, unknown field or invalid value.
    """
    cls = FAMILIES.get(family)
    try:
        return cls.from_fields(cls().stored_fields(fields))
    except (TypeError, ValueError) as error:
        raise HnasError(f"checkpoint metadata: bad {family} search space ({error})") from None
