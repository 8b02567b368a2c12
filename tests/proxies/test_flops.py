"""Analytic FLOPs and params against facts.md and against paddle.flops on built subnets."""

from __future__ import annotations

import contextlib
import io

import paddle
import pytest
from paddle import nn

from hnas.errors import HnasError
from hnas.proxies import count_flops, count_params
from hnas.search_spaces import SPACES
from hnas.search_spaces.sampling import sample_codes

pytestmark = pytest.mark.filterwarnings("ignore:Conversion of an array with ndim > 0:DeprecationWarning")

# From shared/reference/facts.md: paddle.flops(model, [1, 3, 224, 224]) and parameter sums.
FACTS = [
    ("1558511111111111111111111111111111111111111111111111", 5_292_349_440, 34_067_880),
    ("1222277777000000777700000077770000000000007777000000", 946_450_400, 5_839_800),
    ("1252233313000000223212122253130000000000006515000000", 2_110_725_120, 9_631_120),
    ("1447233323333300331313230025153545153545003252000000", 3_072_817_104, 14_271_472),
    ("1526421212322232112100000014443444143400006666764600", 3_163_867_504, 16_865_608),
]


@pytest.fixture(autouse=True)
def _cpu() -> None:
    paddle.set_device("cpu")


def _paddle_flops(model: nn.Layer, input_size: list[int], custom_ops: dict | None = None) -> int:
    with contextlib.redirect_stdout(io.StringIO()):  # paddle.flops prints a line per layer type
        return paddle.flops(model, input_size, custom_ops=custom_ops)


def _num_parameters(model: nn.Layer) -> int:
    return sum(int(parameter.numel()) for parameter in model.parameters())


@pytest.mark.parametrize(("code", "flops", "params"), FACTS, ids=["largest", "smallest", "arch1", "arch2", "arch3"])
def test_reference_figures_exact(code: str, flops: int, params: int) -> None:
    space = SPACES.get("resnet48")
    spec = space.decode(code)
    assert count_flops(space, spec) == flops
    assert count_flops(space, spec, resolution=224, convention="paddle") == flops
    assert count_params(space, spec) == params


# (space, distribution, number of archs, resolutions). Building a ResNet48 subnet and running
# paddle.flops at 224 px costs ~0.5 s, so 224 px gets two archs and the rest run small inputs;
# odd sizes exercise the floor rounding of strided convs and the stem max-pool.
CASES = [
    ("resnet48", "competition", 2, (224, 37)),
    ("resnet48", "uniform", 3, (64, 17)),
    ("resnet48_tiny", "uniform", 5, (28, 13)),
]


@pytest.mark.parametrize(("space_name", "distribution", "n", "resolutions"), CASES)
def test_equals_paddle_flops_on_sampled_archs(
    space_name: str, distribution: str, n: int, resolutions: tuple[int, ...]
) -> None:
    space = SPACES.get(space_name)
    for code in sample_codes(space, n, seed=11, distribution=distribution):
        spec = space.decode(code)
        model = space.build_standalone(spec)
        assert count_params(space, spec) == _num_parameters(model), code
        for resolution in resolutions:
            expected = _paddle_flops(model, [1, space.in_channels, resolution, resolution])
            assert count_flops(space, spec, resolution) == expected, (code, resolution)


@pytest.mark.parametrize("space_name", ["resnet48", "resnet48_tiny"])
def test_macs_equal_paddle_flops_without_bn_and_pooling(space_name: str) -> None:
    space = SPACES.get(space_name)
    spec = space.decode(sample_codes(space, 1, seed=5)[0])
    model = space.build_standalone(spec)
    zero = {nn.BatchNorm2D: lambda *_: None, nn.AdaptiveAvgPool2D: lambda *_: None}
    resolution = 33
    expected = _paddle_flops(model, [1, space.in_channels, resolution, resolution], custom_ops=zero)
    macs = count_flops(space, spec, resolution, convention="macs")
    assert macs == expected
    assert macs < count_flops(space, spec, resolution)


def test_default_resolution_is_the_spec_resolution() -> None:
    tiny = SPACES.get("resnet48_tiny")
    spec = tiny.decode(FACTS[0][0])
    assert count_flops(tiny, spec) == count_flops(tiny, spec, resolution=28)
    assert count_flops(tiny, spec, resolution=56) > count_flops(tiny, spec)


def test_bad_convention_and_resolution_raise() -> None:
    space = SPACES.get("resnet48")
    spec = space.decode(FACTS[0][0])
    with pytest.raises(HnasError, match="unknown FLOPs convention 'flop'; known: paddle, macs"):
        count_flops(space, spec, convention="flop")
    with pytest.raises(HnasError, match="resolution must be a positive"):
        count_flops(space, spec, resolution=0)
