"""Random subnets of a search space, as specs or as arch codes.

Two distributions:

* ``"uniform"``: each stage's depth is uniform over its choices, and each conv's width code
  (the stage output code, which also sets the stem, and every active conv1 code) is uniform
  over all width codes of the space. The resolution is uniform over the space's resolutions.
* ``"competition"``: the distribution of the CVPR 2022 NAS Track 1 ``test.json``: depths
  uniform, width codes uniform over ``1..COMPETITION_MAX_WIDTH_CODE[stage]`` (stem and
  stages 1-2 use codes 1-3, stage 3 codes 1-5, stage 4 codes 1-7) and the first resolution.
"""

from __future__ import annotations

import random

from hnas.errors import HnasError
from hnas.search_spaces.spec import SpaceDef, SubnetSpec, encode, min_spec

#: Name -> short description, in the order the CLI lists them.
DISTRIBUTIONS: dict[str, str] = {
    "uniform": "every depth and width code uniform",
    "competition": "like the CVPR 2022 Track 1 test.json: width codes capped per stage",
}

#: Largest width code per stage (1-based) in the competition's test.json; the stem follows stage 1.
COMPETITION_MAX_WIDTH_CODE: dict[int, int] = {1: 3, 2: 3, 3: 5, 4: 7}


def _width_code_limits(space: SpaceDef, distribution: str) -> tuple[int, ...]:
    """Largest width code each stage may draw under ``distribution``."""
    last = len(space.width_ratios)
    if distribution == "uniform":
        return (last,) * space.num_stages
    if distribution == "competition":
        if space.num_stages != len(COMPETITION_MAX_WIDTH_CODE):
            raise HnasError(
                f"the 'competition' distribution needs a space with {len(COMPETITION_MAX_WIDTH_CODE)} "
                f"stages; space {space.name!r} has {space.num_stages}"
            )
        # A space with fewer width codes than the competition's 7 keeps all of its own.
        return tuple(min(COMPETITION_MAX_WIDTH_CODE[stage], last) for stage in range(1, space.num_stages + 1))
    raise HnasError(f"unknown arch distribution {distribution!r}; known: {', '.join(DISTRIBUTIONS)}")


def sample_spec(space: SpaceDef, rng: random.Random, distribution: str = "uniform") -> SubnetSpec:
    """Draw one subnet of ``space`` from ``distribution`` using ``rng``.

    Raises:
        HnasError: unknown distribution, or ``"competition"`` on a space without 4 stages.
    """
    limits = _width_code_limits(space, distribution)
    resolution = rng.choice(space.resolutions) if distribution == "uniform" else space.resolutions[0]
    depths: list[int] = []
    out_codes: list[int] = []
    mid_codes: list[tuple[int, ...]] = []
    for stage, limit in enumerate(limits):
        depth = rng.choice(space.depth_choices[stage])
        depths.append(depth)
        out_codes.append(rng.randint(1, limit))
        mid_codes.append(tuple(rng.randint(1, limit) for _ in range(depth)))
    return SubnetSpec(
        resolution=resolution,
        depths=tuple(depths),
        out_codes=tuple(out_codes),
        mid_codes=tuple(mid_codes),
    )


def smallest_spec(space: SpaceDef, distribution: str = "uniform") -> SubnetSpec:
    """The smallest subnet ``distribution`` can draw: minimum depths, widest allowed codes.

    ``"uniform"`` gives :func:`~hnas.search_spaces.spec.min_spec`; ``"competition"`` caps
    each stage at its largest competition width code (e.g. code 3 in stages 1-2).
    """
    if distribution == "uniform":
        return min_spec(space)
    limits = _width_code_limits(space, distribution)
    depths = tuple(min(choices) for choices in space.depth_choices)
    return SubnetSpec(
        resolution=space.resolutions[0],
        depths=depths,
        out_codes=limits,
        mid_codes=tuple((limit,) * depth for limit, depth in zip(limits, depths)),
    )


def sample_codes(
    space: SpaceDef,
    n: int,
    seed: int,
    distribution: str = "uniform",
    unique: bool = True,
) -> list[str]:
    """``n`` arch codes drawn from ``distribution``; the same seed gives the same list.

    Args:
        space: the search space.
        n: number of codes.
        seed: seed of the ``random.Random`` that draws them.
        distribution: ``"uniform"`` or ``"competition"`` (see the module docstring).
        unique: skip codes already drawn, so the list has ``n`` distinct codes.

    Raises:
        HnasError: ``n`` is negative, the distribution is unknown or, with ``unique``, the
            space ran out of new codes.
    """
    if n < 0:
        raise HnasError(f"number of archs must be >= 0, got {n}")
    rng = random.Random(seed)
    codes: list[str] = []
    seen: set[str] = set()
    # Generous: a draw repeats an earlier one only in (almost) exhausted tiny spaces.
    max_draws = 100 * n + 1000
    draws = 0
    while len(codes) < n:
        if draws >= max_draws:
            raise HnasError(
                f"drew {draws} archs from space {space.name!r} ({distribution}) but found only "
                f"{len(codes)} distinct ones; ask for fewer than {n}"
            )
        draws += 1
        code = encode(sample_spec(space, rng, distribution), space)
        if unique:
            if code in seen:
                continue
            seen.add(code)
        codes.append(code)
    return codes
