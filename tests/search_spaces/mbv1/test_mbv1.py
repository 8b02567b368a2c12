"""The mbv1 family beyond the shared contract: PSS-Net's and DS-Net's widths, the code layout,
tied stages, DS-Net's uniform mode, SE slicing and the full spaces' FLOPs against paddle.flops."""

from __future__ import annotations

import contextlib
import io
import random

import numpy as np
import paddle
import pytest

from hnas.errors import ArchCodeError, HnasError
from hnas.search_spaces import SPACES
from hnas.search_spaces.mbv1 import MBV1Spec, multiplier_widths

PSS = SPACES.get("pss_mbv1")
PSS_TINY = SPACES.get("pss_mbv1_tiny")
DSNET = SPACES.get("dsnet_mbv1")
DSNET_TINY = SPACES.get("dsnet_mbv1_tiny")

pytestmark = pytest.mark.filterwarnings("ignore:Conversion of an array with ndim > 0:DeprecationWarning")


def _paddle_flops(model: paddle.nn.Layer, size: list[int]) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return paddle.flops(model, size)


def test_pss_widths_are_the_distinct_make_divisible_counts() -> None:
    assert multiplier_widths(64) == (48, 56, 64)
    assert multiplier_widths(32) == (24, 32)
    assert multiplier_widths(1024) == tuple(range(768, 1025, 8))
    assert len(PSS.width_choices) == 14
    assert PSS.min_spec().widths == (24, 48, 96, 96, 192, 192, *[384] * 6, 768, 768)
    assert PSS.max_spec().widths == (32, 64, 128, 128, 256, 256, *[512] * 6, 1024, 1024)
    assert PSS.resolutions == tuple(range(128, 225, 8))
    assert (PSS.min_spec().resolution, PSS.max_spec().resolution) == (128, 224)


def test_pss_code_layout() -> None:
    assert PSS.code_length == 2 + 6 + 6 * 2 + 2 * 2
    assert PSS.encode(PSS.max_spec()) == "13" + "235599" + "17" * 6 + "33" * 2
    spec = PSS.decode("01" + "123456" + "010203040506" + "0133")
    assert spec == MBV1Spec(128, (24, 56, 112, 120, 224, 232, 384, 392, 400, 408, 416, 424, 768, 1024))


def test_dsnet_channel_lists_and_tied_stages() -> None:
    assert DSNET.width_choices[4] == tuple(range(224, 641, 32)) and len(DSNET.width_choices[4]) == 14
    assert DSNET.width_choices[5] == tuple(range(736, 1153, 32))
    assert DSNET.max_spec().widths == (24, 88, 168, 264, 640, 1152)  # DS-Net's "largest"
    assert DSNET.tie_groups() == (("s4.width", "s5.width"),)
    assert DSNET.encode(DSNET.max_spec()) == "1" + "2222" + "14" + "14"
    with pytest.raises(ArchCodeError) as caught:
        DSNET.decode("1" + "2222" + "14" + "13")
    assert caught.value.position == 7 and "shares stage 4's width index 14" in caught.value.reason
    assert "dsnet_mbv1" in caught.value.reason
    with pytest.raises(ValueError, match="share one width index"):
        DSNET.encode(MBV1Spec(224, (24, 88, 168, 264, 640, 1120)))


def test_dsnet_distribution_is_the_14_evaluated_subnets() -> None:
    dist = DSNET.distribution("dsnet")
    rng = random.Random(0)
    seen = {dist.sample(rng) for _ in range(400)}
    assert len(seen) == 14
    for spec in seen:
        r = (spec.widths[4] - 224) // 32
        assert spec.widths == (16, 32, 48, 96, 224 + 32 * r, 736 + 32 * r)
        assert dist.contains(spec)
    assert dist.smallest() == DSNET.min_spec()
    assert dist.largest().widths == (16, 32, 48, 96, 640, 1152)
    assert not dist.contains(DSNET.max_spec())
    assert "dsnet" not in PSS.distribution_names()
    with pytest.raises(HnasError, match="unknown arch distribution 'dsnet'"):
        PSS.distribution("dsnet")


@pytest.mark.parametrize("space", [PSS, PSS_TINY, DSNET])
def test_a_width_outside_a_slot_names_position_and_space(space) -> None:
    code = space.encode(space.max_spec())
    digits = space._field_digits
    position = digits[0] + digits[1]  # stage 1's index
    bad = code[:position] + "9" * digits[2] + code[position + digits[2]:]
    with pytest.raises(ArchCodeError) as caught:
        space.decode(bad)
    assert caught.value.position == position
    assert "width index of stage 1" in caught.value.reason and repr(space.name) in caught.value.reason
    with pytest.raises(ValueError, match=f"stage 1 width 7 is not a choice of space '{space.name}'"):
        space.encode(MBV1Spec(space.resolutions[0], (space.width_choices[0][0], 7, *space.max_spec().widths[2:])))


def test_dsnet_macs_of_the_evaluated_subnets_follow_the_readme() -> None:
    """DS-Net's README: subnet 0 = 133 M MAdds, subnet 13 = 565 M (its own counter; within 1 %)."""
    dist = DSNET.distribution("dsnet")
    low, high = DSNET.flops(dist.smallest(), convention="macs"), DSNET.flops(dist.largest(), convention="macs")
    assert abs(low / 1e6 - 133) / 133 < 0.01
    assert abs(high / 1e6 - 565) / 565 < 0.01


@pytest.mark.parametrize("space", [PSS, DSNET])
def test_full_space_flops_and_params_equal_paddle_on_a_sampled_subnet(space) -> None:
    """One random subnet at its smallest resolution (a 224 px MobileNet takes a few seconds)."""
    spec = space.distribution("uniform").sample(random.Random(5))
    spec = MBV1Spec(space.resolutions[0], spec.widths)
    net = space.build_standalone(spec)
    assert space.flops(spec) == _paddle_flops(net, [1, space.in_channels, spec.resolution, spec.resolution])
    assert space.params(spec) == sum(int(p.numel()) for p in net.parameters())


@pytest.mark.parametrize("space", [PSS_TINY, DSNET_TINY])
def test_supernet_subnet_equals_standalone_at_each_resolution(space) -> None:
    paddle.seed(1)
    supernet = space.build_supernet()
    supernet.eval()
    rng = random.Random(3)
    for resolution in space.resolutions:
        spec = MBV1Spec(resolution, space.distribution("uniform").sample(rng).widths)
        x = paddle.randn([2, space.in_channels, resolution, resolution])
        supernet.apply(spec)
        net = supernet.export(spec)
        net.eval()
        np.testing.assert_allclose(supernet(x).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-5)


def test_used_parameters_get_gradients_and_nothing_else_does() -> None:
    paddle.seed(0)
    supernet = DSNET_TINY.build_supernet()
    spec = DSNET_TINY.min_spec()
    supernet.apply(spec)
    supernet(paddle.randn([2, 1, 28, 28])).sum().backward()
    used = {id(p) for p in supernet.used_parameters(spec)}
    for name, param in supernet.named_parameters():
        assert (param.grad is not None) == (id(param) in used), name
    grad = supernet.stages[3][0].se.reduce.weight.grad.numpy()
    assert np.abs(grad[:, :spec.widths[3]]).sum() > 0 and np.abs(grad[:, spec.widths[3]:]).sum() == 0


def test_se_reduction_width_is_fixed_by_the_widest_input() -> None:
    shapes = DSNET.block_shapes(DSNET.min_spec())
    assert [s.se_channels for s in shapes] == [6, 22, 42, 42, 66, 66] + [160] * 5 + [160, 288]
    assert all(s.se_channels == 0 for s in PSS.block_shapes())


def test_latency_keys_cover_every_subnet() -> None:
    keys = set(DSNET_TINY.all_latency_keys())
    rng = random.Random(0)
    for _ in range(30):
        spec = DSNET_TINY.distribution("uniform").sample(rng)
        assert set(DSNET_TINY.latency_keys(spec)) <= keys
    for key in DSNET_TINY.latency_keys(DSNET_TINY.max_spec()):  # stem, every block, head
        layer, shape = DSNET_TINY.build_latency_key(key)
        layer.eval()
        assert layer(paddle.randn([1, *shape])).shape[0] == 1


def test_zero_init_residual_changes_nothing_without_residuals() -> None:
    paddle.seed(3)
    plain = PSS_TINY.build_standalone(PSS_TINY.max_spec())
    paddle.seed(3)
    zeroed = PSS_TINY.build_standalone(PSS_TINY.max_spec(), zero_init_residual=True)
    for (name, a), (_, b) in zip(plain.state_dict().items(), zeroed.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_pss_convention_max_and_min_equal_pss_net() -> None:
    """spaces.md: PSS-Net's calc_subnet_flops gives 568.79 M / 106.78 M for MBV1's max / min net."""
    assert round(PSS.flops(PSS.max_spec(), convention="pss") / 1e6, 2) == 568.79
    assert round(PSS.flops(PSS.min_spec(), convention="pss") / 1e6, 2) == 106.78
    spec = PSS.max_spec()
    assert PSS.flops(spec, convention="pss") - PSS.flops(spec, convention="macs") == 1024 * 7 * 7
