"""PSS-Net's MobileNetV2 width space in the mbv2 family: elastic stage widths, elastic resolution."""

from __future__ import annotations

import contextlib
import io
import random

import numpy as np
import paddle
import pytest

from hnas.errors import ArchCodeError
from hnas.search_spaces import SPACES
from hnas.search_spaces.mbv2.named import multiplier_widths
from hnas.search_spaces.mbv2.space import MBV2Space
from hnas.search_spaces.resolution import resolution_range

PSS = SPACES.get("pss_mbv2")
TINY = SPACES.get("pss_mbv2_tiny")


def _pss_flops(space: MBV2Space, spec) -> float:
    """PSS-Net's convention in M: conv and FC MACs plus the average pool (H^2 * C)."""
    side = spec.resolution // 32
    by_hand = space.flops(spec, convention="macs") + side * side * space.last_channels
    assert space.flops(spec, convention="pss") == by_hand
    return by_hand / 1e6


def test_widths_are_the_distinct_make_divisible_counts_of_pss_multipliers() -> None:
    assert multiplier_widths(64) == (48, 56, 64) and multiplier_widths(16) == (16,) and multiplier_widths(24) == (24,)
    assert PSS.width_choices[-1] == tuple(range(240, 321, 8))
    assert PSS.resolutions == resolution_range(128, 224, 8)
    # spaces.md: the couts at m = 0.75 (the 1280 tail is fixed in hnas, see the docs).
    assert PSS.min_spec().widths == (24, 16, 24, 24, 48, 72, 120, 240)
    assert PSS.max_spec().widths == (32, 16, 24, 32, 64, 96, 160, 320)
    assert [slot.name for slot in PSS.slots() if slot.dimension == "width"] == [
        "width.stem", "width.s2", "width.s3", "width.s4", "width.s5", "width.s6"]


def test_max_and_min_nets_in_pss_nets_convention() -> None:
    assert (PSS.max_spec().resolution, PSS.min_spec().resolution) == (224, 128)
    assert _pss_flops(PSS, PSS.max_spec()) == pytest.approx(300.84, abs=0.005)
    assert _pss_flops(PSS, PSS.min_spec()) == pytest.approx(69.15, abs=0.005)


def test_code_layout_and_blocks_follow_the_actual_widths() -> None:
    code = PSS.encode(PSS.max_spec())
    assert code == "13" + "22346" + "11" + "234331" + "36" * 16 and len(code) == PSS.code_length == 47
    spec = PSS.decode("01" + "11111" + "02" + code[9:])
    assert spec.widths == (24, 16, 24, 24, 48, 72, 120, 248) and spec.resolution == 128
    first, second = PSS.block_shapes(spec)[2:4]  # stage 2 (32 channels at most), here 24 wide
    assert (first.in_channels, first.mid_channels, first.out_channels, first.residual) == (24, 144, 24, False)
    assert (second.in_channels, second.mid_channels, second.residual) == (24, 144, True)


@pytest.mark.parametrize("position, digit, reason", [
    (0, "14", r"position 0: image-size code is 14, expected 1..13 \(space 'pss_mbv2' runs at 128..224 px step 8\)"),
    (4, "4", r"position 4: width index of stage 3 is 4, expected 1..3 \(space 'pss_mbv2': 48, 56, 64 channels\)"),
    (7, "12", r"position 7: width index of stage 6 is 12, expected 1..11"),
])
def test_a_resolution_or_width_outside_the_space_names_position_and_space(position: int, digit: str,
                                                                        reason: str) -> None:
    code = PSS.encode(PSS.max_spec())
    with pytest.raises(ArchCodeError, match=reason):
        PSS.decode(code[:position] + digit + code[position + len(digit):])


def test_bad_width_declarations_are_refused() -> None:
    with pytest.raises(ValueError, match="width_choices needs 8 lists"):
        PSS.replace({"width_choices": PSS.width_choices[:-1]})
    with pytest.raises(ValueError, match="end at its width 320"):
        PSS.replace({"width_choices": (*PSS.width_choices[:-1], (240, 256))})
    with pytest.raises(ValueError, match="shortcut would come and go"):  # stage 4 has stride 1
        PSS.replace({"width_choices": (*PSS.width_choices[:5], (64, 96), *PSS.width_choices[6:])})


def test_sampled_full_subnets_equal_their_export_and_paddle_flops() -> None:
    """The full space at a small input (the counts hold at any size), two sampled subnets."""
    paddle.seed(0)
    supernet = PSS.replace({"num_classes": 10}).build_supernet()
    supernet.eval()
    space = supernet.space
    rng = random.Random(4)
    x = paddle.randn([1, 3, 64, 64])
    for spec in (space.min_spec(), space.distribution().sample(rng)):
        supernet.apply(spec)
        net = supernet.export(spec)
        net.eval()
        np.testing.assert_allclose(supernet(x).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-5)
        with contextlib.redirect_stdout(io.StringIO()):
            expected = paddle.flops(net, [1, 3, 64, 64])
        assert space.flops(spec, resolution=64) == expected
        assert space.params(spec) == sum(int(p.numel()) for p in net.parameters())


def test_the_tiny_twin_has_elastic_widths_and_resolution() -> None:
    assert (TINY.in_channels, TINY.num_classes, TINY.resolutions) == (1, 10, (20, 24, 28))
    widths = {slot.dimension for slot in TINY.slots() if len(slot.domain) > 1}
    assert widths == {"resolution", "width"}
    assert TINY.min_spec().widths == (12, 8, 12, 12, 20, 24) and TINY.max_spec().widths == (16, 8, 12, 16, 24, 32)
