"""The shufflenet family (SPOS's ShuffleNetV2 space): code, FLOPs facts, BN mapping, weight sharing."""

from __future__ import annotations

import contextlib
import io
import itertools

import numpy as np
import paddle
import pytest

from hnas.errors import ArchCodeError
from hnas.search_spaces import SPACES
from hnas.search_spaces.shufflenet import SPOS_PUBLISHED_CHOICES, ShuffleNetSpace, ShuffleSpec
from hnas.search_spaces.shufflenet.flops import candidate_flops
from hnas.search_spaces.shufflenet.layers import channel_split

FULL = SPACES.get("spos_shufflenetv2")
TINY = SPACES.get("spos_shufflenetv2_tiny")
PUBLISHED = "1" + "".join(map(str, SPOS_PUBLISHED_CHOICES))


def test_published_arch_code_and_its_reported_flops() -> None:
    spec = FULL.decode(PUBLISHED)
    assert spec == ShuffleSpec(224, SPOS_PUBLISHED_CHOICES)
    assert FULL.encode(spec) == PUBLISHED
    assert round(FULL.flops(spec, convention="macs") / 1e6) == 323  # SPOS README: 323M FLOPs
    assert round(FULL.params(spec) / 1e6, 1) == 3.6  # conv, linear and BN tensors; SPOS reports 3.5M


def test_reachable_range_matches_spos_and_max_min_are_the_extremes() -> None:
    low, high = FULL.flops(FULL.min_spec(), convention="macs"), FULL.flops(FULL.max_spec(), convention="macs")
    assert (round(low / 1e7), round(high / 1e7)) == (27, 40)  # SPOS: "roughly 270-400M"
    # Layer costs add up, so the extremes are the per-layer cheapest / dearest candidates.
    size, lows, highs = 112, [], []
    for shape in FULL.choice_shapes():
        costs = [candidate_flops(shape, op, size, "paddle")[0] for op in range(4)]
        lows.append(int(np.argmin(costs)))
        highs.append(int(np.argmax(costs)))
        size = candidate_flops(shape, 0, size, "paddle")[1]
    assert FULL.min_spec().ops == tuple(lows) and FULL.max_spec().ops == tuple(highs)
    assert lows[0] == 3 and highs[0] == 2  # the stride-2 Xception unit is the cheapest candidate


def test_choice_index_out_of_range_names_position_and_space() -> None:
    bad = PUBLISHED[:5] + "4" + PUBLISHED[6:]
    with pytest.raises(ArchCodeError) as caught:
        FULL.decode(bad)
    assert caught.value.position == 5
    assert "choice layer 5 (stage 2, block 1)" in str(caught.value)
    assert "'spos_shufflenetv2'" in str(caught.value) and "[0, 1, 2, 3]" in str(caught.value)


def test_channel_split_sends_even_channels_through_and_odd_ones_to_the_unit() -> None:
    x = paddle.arange(8, dtype="float32").reshape([1, 8, 1, 1])
    keep, unit = channel_split(x)
    assert keep.flatten().tolist() == [0, 2, 4, 6] and unit.flatten().tolist() == [1, 3, 5, 7]


def test_supernet_bn_has_no_affine_and_export_maps_it_to_unit_scale_zero_shift() -> None:
    paddle.seed(0)
    supernet = TINY.build_supernet()
    names = {name for name, _ in supernet.named_parameters()}
    assert not any(name.endswith(("bn.weight", "bn.bias")) for name in names)
    spec = ShuffleSpec(28, (3, 2, 1, 0, 3))
    net = supernet.export(spec)
    bn_scales = {name: value for name, value in net.state_dict().items() if name.endswith(("bn.weight", "bn.bias"))}
    assert bn_scales and all(np.all(v.numpy() == (1.0 if k.endswith("weight") else 0.0)) for k, v in bn_scales.items())
    assert not any(p.stop_gradient for name, p in net.named_parameters() if name.endswith("bn.weight"))


def test_every_candidate_has_its_own_weights_and_unused_ones_get_no_gradient() -> None:
    paddle.seed(0)
    supernet = TINY.build_supernet()
    spec = ShuffleSpec(28, (0, 1, 2, 3, 0))
    supernet.apply(spec)
    supernet(paddle.randn([2, 1, 28, 28])).mean().backward()
    used = {id(p) for p in supernet.used_parameters()}
    for name, param in supernet.named_parameters():
        assert (param.grad is not None) == (id(param) in used), name
    assert len({candidate for layer in supernet.choices for candidate in layer.candidates}) == 4


def test_full_size_published_net_matches_paddle_flops() -> None:
    spec = FULL.decode(PUBLISHED)
    net = FULL.build_standalone(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        assert paddle.flops(net, [1, 3, 224, 224]) == FULL.flops(spec)
    assert sum(int(p.numel()) for p in net.parameters()) == FULL.params(spec)


def test_every_tiny_candidate_pair_matches_the_supernet() -> None:
    """Every candidate in stride-2 layers (1, 2, 3, 5) and in the stride-1 layer 4 of the tiny space."""
    paddle.seed(1)
    supernet = TINY.build_supernet()
    supernet.eval()
    x = paddle.randn([2, 1, 28, 28])
    for op_a, op_b in itertools.product(range(4), repeat=2):
        spec = ShuffleSpec(28, (op_a, op_b, op_a, op_b, op_a))
        supernet.apply(spec)
        net = supernet.export(spec)
        net.eval()
        np.testing.assert_allclose(supernet(x).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-5)


def test_bad_fields_are_refused_naming_the_space() -> None:
    with pytest.raises(ValueError, match="'bad'.*multiples of 4"):
        ShuffleNetSpace(name="bad", stage_channels=(64, 162, 320, 640))
    with pytest.raises(ValueError, match="'bad'.*stage 2 has 48 channels"):
        ShuffleNetSpace(name="bad", stage_channels=(64, 48, 320, 640))


def test_standalone_accepts_the_recipe_option_every_family_takes() -> None:
    spec = TINY.max_spec()
    plain = TINY.build_standalone(spec, zero_init_residual=True)
    assert [name for name, _ in plain.named_parameters()] == \
        [name for name, _ in TINY.build_standalone(spec).named_parameters()]
