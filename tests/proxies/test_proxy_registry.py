"""Every registered proxy maps (space, spec) to a float that grows with the subnet."""

from __future__ import annotations

import dataclasses
import math

import pytest

from hnas.errors import HnasError
from hnas.proxies import PROXIES, count_flops
from hnas.search_spaces import SPACES

#: The tiny space shrunk further so the ZenScore prior's default settings run in a blink.
MICRO = dataclasses.replace(SPACES.get("resnet48_tiny"), base_channels=(4, 4, 8, 8), resolutions=(8,))


# The latency prior needs a measured table (tests/proxies/test_latency.py) and is minus the latency.
@pytest.mark.parametrize("name", [name for name in PROXIES.names() if name != "latency"])
def test_prior_is_a_float_ordering_largest_above_smallest(name: str) -> None:
    prior = PROXIES.get(name)
    largest, smallest = prior(MICRO, MICRO.max_spec()), prior(MICRO, MICRO.min_spec())
    assert isinstance(largest, float) and isinstance(smallest, float)
    assert math.isfinite(largest) and math.isfinite(smallest)
    assert largest > smallest


def test_registry_lists_the_documented_priors() -> None:
    assert sorted(PROXIES.names()) == ["depth", "flops", "latency", "params", "width", "zen"]
    assert PROXIES.get("flops")(MICRO, MICRO.max_spec()) == float(count_flops(MICRO, MICRO.max_spec()))
    with pytest.raises(HnasError, match="unknown proxy 'synflow'"):
        PROXIES.get("synflow")


def test_depth_counts_active_blocks_and_width_ignores_depth() -> None:
    space = SPACES.get("resnet48_tiny")
    shallow = space.min_spec()
    last = shallow.out_codes[0]
    deep = dataclasses.replace(shallow, depths=tuple(max(choices) for choices in space.depth_choices),
                               mid_codes=tuple((last,) * max(choices) for choices in space.depth_choices))
    assert PROXIES.get("depth")(space, shallow) == float(sum(shallow.depths))
    assert PROXIES.get("depth")(space, deep) > PROXIES.get("depth")(space, shallow)
    assert PROXIES.get("width")(space, deep) == pytest.approx(PROXIES.get("width")(space, shallow))  # more blocks
    assert PROXIES.get("width")(space, shallow) == pytest.approx(space.width_ratios[last - 1])
    assert PROXIES.get("width")(space, space.max_spec()) == 1.0
