"""The ``bn`` space option (``shared`` | ``per_width``), checked without importing Paddle.

``per_width`` (:mod:`hnas.search_spaces.per_width_bn`) applies to spaces with ordered width
levels (``SearchSpace.width_levels``); a family declares the option by having a ``bn`` field.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from hnas.errors import HnasError

#: Values of a space's ``bn`` field.
BN_MODES: tuple[str, ...] = ("shared", "per_width")


def check_bn_mode(space_name: str, mode: str, levels: Sequence[Any] | None) -> None:
    """Raise ``ValueError`` for an unknown ``bn`` mode, or ``per_width`` on a space without width levels."""
    if mode not in BN_MODES:
        raise ValueError(f"space {space_name!r}: bn must be one of {list(BN_MODES)}, got {mode!r}")
    if mode == "per_width" and not levels:
        raise ValueError(f"space {space_name!r} has no ordered width levels, so bn: per_width does not apply")


def refuse_bn_override(space: Any, overrides: Mapping[str, Any], registered: Iterable[Any] = ()) -> None:
    """A clear error for ``bn`` on a space whose family has no such field (no per-width BN there),
    naming the ``registered`` spaces that take it."""
    if "bn" in overrides and not hasattr(space, "bn"):
        takers = sorted(other.name for other in registered if other.width_levels())
        raise HnasError(f"space {space.name!r} ({space.family} family) has no ordered width levels, so it takes no "
                        f"'bn' option (per-width BatchNorm); spaces that do: {', '.join(takers) or 'none'}")
