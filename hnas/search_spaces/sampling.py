"""Random subnets of a search space, as specs or as arch codes.

The distributions are the space's (:meth:`~hnas.search_spaces.base.SearchSpace.distribution`;
see :mod:`hnas.search_spaces.distributions`): every space has ``"uniform"`` (each depth and
width, kernel or expand choice uniform), and a family may name more (resnet:
``"competition"``, the distribution of the CVPR 2022 NAS Track 1 ``test.json``).
"""

from __future__ import annotations

import random
from typing import Any

from hnas.errors import HnasError
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.distributions import Distribution


def as_distribution(space: SearchSpace, distribution: str | Distribution) -> Distribution:
    """``distribution`` itself, or the space's distribution of that name."""
    if isinstance(distribution, Distribution):
        if distribution.space != space:
            raise HnasError(f"distribution {distribution.name!r} is over space {distribution.space.name!r}, "
                            f"not {space.name!r}")
        return distribution
    return space.distribution(distribution)


def sample_spec(space: SearchSpace, rng: random.Random, distribution: str | Distribution = "uniform") -> Any:
    """Draw one subnet of ``space`` from ``distribution`` using ``rng``.

    Raises:
        HnasError: a distribution the space does not have.
    """
    return as_distribution(space, distribution).sample(rng)


def smallest_spec(space: SearchSpace, distribution: str | Distribution = "uniform") -> Any:
    """The smallest subnet ``distribution`` can draw (resnet ``"competition"``: minimum depths and the
    widest codes each stage allows, e.g. code 3 in stages 1-2)."""
    return as_distribution(space, distribution).smallest()


def sample_codes(
    space: SearchSpace,
    n: int,
    seed: int,
    distribution: str | Distribution = "uniform",
    unique: bool = True,
) -> list[str]:
    """``n`` arch codes drawn from ``distribution``; the same seed gives the same list.

    Args:
        space: the search space.
        n: number of codes.
        seed: seed of the ``random.Random`` that draws them.
        distribution: a distribution of the space or its name (``"uniform"``, resnet ``"competition"``).
        unique: skip codes already drawn, so the list has ``n`` distinct codes.

    Raises:
        HnasError: ``n`` is negative, the distribution is unknown or, with ``unique``, the
            space ran out of new codes.
    """
    if n < 0:
        raise HnasError(f"number of archs must be >= 0, got {n}")
    dist = as_distribution(space, distribution)
    rng = random.Random(seed)
    codes: list[str] = []
    seen: set[str] = set()
    # Generous: a draw repeats an earlier one only in (almost) exhausted tiny spaces.
    max_draws = 100 * n + 1000
    draws = 0
    while len(codes) < n:
        if draws >= max_draws:
            raise HnasError(
                f"drew {draws} archs from space {space.name!r} ({dist.name}) but found only "
                f"{len(codes)} distinct ones; ask for fewer than {n}"
            )
        draws += 1
        code = space.encode(dist.sample(rng))
        if unique:
            if code in seen:
                continue
            seen.add(code)
        codes.append(code)
    return codes
