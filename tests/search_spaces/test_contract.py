"""The SearchSpace contract, checked on every registered space of every family.

A new family passes this file before anything above ``hnas/search_spaces`` relies on it:
code round trip and rejection of malformed codes, max/min, the choice view and its ties,
distributions, supernet subnets equal to stand-alone networks with copied weights, and
analytic FLOPs/params equal to ``paddle.flops``.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
from pathlib import Path

import numpy as np
import paddle
import pytest

from hnas.errors import ArchCodeError, HnasError
from hnas.search_spaces import FAMILIES, SPACES, ChoiceDistribution, ConstrainedDistribution, Constraint
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.distributions import cost_function
from hnas.search_spaces.sampling import sample_codes

pytestmark = pytest.mark.filterwarnings("ignore:Conversion of an array with ndim > 0:DeprecationWarning")

ALL = SPACES.names()
#: Spaces small enough to build and run many networks of in a test.
TINY = [name for name in ALL if name.endswith("_tiny")]
TEST_JSON = Path(__file__).resolve().parents[3] / "shared" / "data" / "CVPR_2022_NAS_Track1_test.json"


def _samples(space: SearchSpace, n: int = 100, seed: int = 0) -> list:
    rng = random.Random(seed)
    dist = space.distribution("uniform")
    return [space.max_spec(), space.min_spec()] + [dist.sample(rng) for _ in range(n)]


def _paddle_flops(model: paddle.nn.Layer, size: list[int]) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return paddle.flops(model, size)


def test_every_space_belongs_to_a_registered_family() -> None:
    assert {"resnet"} <= set(FAMILIES.names())
    for name in ALL:
        space = SPACES.get(name)
        assert FAMILIES.get(space.family) is type(space)
        assert space.name == name


@pytest.mark.parametrize("name", ALL)
def test_code_round_trip(name: str) -> None:
    space = SPACES.get(name)
    for spec in _samples(space, 300):
        code = space.encode(spec)
        assert len(code) == space.code_length
        assert space.decode(code) == spec


def test_all_real_competition_codes_round_trip() -> None:
    if not TEST_JSON.exists():
        pytest.skip(f"{TEST_JSON} is absent")
    space = SPACES.get("resnet48")
    entries = json.loads(TEST_JSON.read_text())
    assert len(entries) == 45_000
    for entry in entries.values():
        assert space.encode(space.decode(entry["arch"])) == entry["arch"]


@pytest.mark.parametrize("name", ALL)
def test_malformed_codes_name_position_and_reason(name: str) -> None:
    space = SPACES.get(name)
    code = space.encode(space.max_spec())
    with pytest.raises(ArchCodeError, match=f"length {len(code) - 1}, expected {len(code)}"):
        space.decode(code[:-1])
    for position in range(len(code)):
        bad = code[:position] + "x" + code[position + 1:]
        with pytest.raises(ArchCodeError) as caught:
            space.decode(bad)
        assert caught.value.position == position and "not a digit" in caught.value.reason
    # Every single-digit change that decodes to nothing is reported with a position and a reason.
    rejected = 0
    for position in range(len(code)):
        for digit in "0123456789":
            changed = code[:position] + digit + code[position + 1:]
            try:
                space.decode(changed)
            except ArchCodeError as error:
                rejected += 1
                assert error.position is not None and 0 <= error.position < len(code)
                assert error.reason
    assert rejected > len(code)


@pytest.mark.parametrize("name", ALL)
def test_max_and_min_bound_every_subnet(name: str) -> None:
    space = SPACES.get(name)
    largest, smallest = space.flops(space.max_spec()), space.flops(space.min_spec())
    # Slots with an explicit size order rank their values by FLOPs, which need not be the
    # parameters' order (SPOS's stride-2 Xception unit: fewer FLOPs, more parameters).
    params_follow_flops = all(slot.order is None for slot in space.slots())
    for spec in _samples(space, 200, seed=1):
        assert smallest <= space.flops(spec) <= largest
        if params_follow_flops:
            assert space.params(space.min_spec()) <= space.params(spec) <= space.params(space.max_spec())
    dist = space.distribution("uniform")
    assert dist.largest() == space.max_spec() or space.flops(dist.largest()) == largest
    assert space.flops(dist.smallest()) == smallest


@pytest.mark.parametrize("name", ALL)
def test_choices_round_trip_and_cover_every_slot(name: str) -> None:
    space = SPACES.get(name)
    names = [slot.name for slot in space.slots()]
    assert len(names) == len(set(names))
    for spec in _samples(space):
        choices = space.choices(spec)
        assert list(choices) == names
        assert space.from_choices(choices) == spec
        for slot in space.slots():
            value = choices[slot.name]
            assert (value is None) == (not space.is_active(slot.name, choices))
            assert value is None or value in slot.domain


@pytest.mark.parametrize("name", ALL)
def test_from_choices_refuses_a_broken_tie(name: str) -> None:
    space = SPACES.get(name)
    spec = space.max_spec()
    choices = space.choices(spec)
    slots = space.slot_map()
    broken = 0
    for group in space.tie_groups():
        active = [member for member in group if choices[member] is not None]
        if len(active) < 2:
            continue
        other = next(value for value in slots[active[-1]].domain if value != choices[active[-1]])
        with pytest.raises(ValueError, match="tied slots"):
            space.from_choices({**choices, active[-1]: other})
        broken += 1
    assert broken == len([g for g in space.tie_groups() if sum(choices[m] is not None for m in g) >= 2])


@pytest.mark.parametrize("name", ALL)
def test_units_keep_ties_and_cover_every_slot_once(name: str) -> None:
    space = SPACES.get(name)
    units = space.units()
    flat = [member for unit in units for member in unit]
    assert sorted(flat) == sorted(slot.name for slot in space.slots())
    for group in space.tie_groups():
        assert group in units


@pytest.mark.parametrize("name", ALL)
def test_distance_is_zero_on_equal_and_symmetric(name: str) -> None:
    space = SPACES.get(name)
    specs = _samples(space, 30)
    for a, b in zip(specs, specs[1:]):
        assert space.distance(a, a) == 0
        assert space.distance(a, b) == space.distance(b, a)
        assert space.code_distance(space.encode(a), space.encode(b)) == space.distance(a, b)
    assert space.distance(space.max_spec(), space.min_spec()) > 0


@pytest.mark.parametrize("name", ALL)
def test_sample_codes_are_deterministic_members(name: str) -> None:
    space = SPACES.get(name)
    codes = sample_codes(space, 50, seed=4)
    assert codes == sample_codes(space, 50, seed=4)
    assert len(set(codes)) == 50
    for code in codes:
        space.decode(code)


@pytest.mark.parametrize("name", ALL)
def test_restricted_distribution_stays_in_its_subset(name: str) -> None:
    space = SPACES.get(name)
    dist = space.distribution("uniform")
    dimension = next(slot.dimension for slot in space.slots() if slot.dimension != "resolution" and
                     len(slot.domain) > 1)
    slot = next(s for s in space.slots() if s.dimension == dimension)
    keep = (slot.largest(),)
    narrow = dist.restrict(**{dimension: keep})
    rng = random.Random(0)
    for _ in range(50):
        spec = narrow.sample(rng)
        assert narrow.contains(spec)
        choices = space.choices(spec)
        for s in space.slots():
            if s.dimension == dimension and choices[s.name] is not None:
                assert choices[s.name] in keep or choices[s.name] not in slot.domain
    with pytest.raises(HnasError, match="no choice"):
        dist.restrict(**{dimension: (-1,)})


@pytest.mark.parametrize("name", ALL)
def test_constrained_distribution_respects_the_range_and_refuses_infeasible(name: str) -> None:
    space = SPACES.get(name)
    flops = cost_function(space, "flops")
    low, high = flops(space.min_spec()), flops(space.max_spec())
    limit = low + 0.3 * (high - low)
    dist = ConstrainedDistribution(space.distribution("uniform"), [Constraint("flops", flops, high=limit)])
    rng = random.Random(1)
    for _ in range(20):
        assert flops(dist.sample(rng)) <= limit
    with pytest.raises(HnasError, match=r"infeasible.*reach flops"):
        ConstrainedDistribution(space.distribution("uniform"), [Constraint("flops", flops, high=low - 1)])
    assert isinstance(space.distribution("uniform"), ChoiceDistribution)


@pytest.mark.parametrize("name", ALL)
def test_fields_rebuild_the_space(name: str) -> None:
    space = SPACES.get(name)
    assert type(space).from_fields(space.fields()) == space
    assert json.loads(json.dumps(space.fields())) == space.fields()


@pytest.mark.parametrize("conv_mode", ["slice", "pad"])
@pytest.mark.parametrize("name", TINY)
def test_supernet_subnet_equals_standalone_with_copied_weights(name: str, conv_mode: str) -> None:
    paddle.seed(0)
    space = SPACES.get(name)
    supernet = space.build_supernet().set_conv_mode(conv_mode)
    supernet.eval()
    x = paddle.randn([2, space.in_channels, space.resolutions[0], space.resolutions[0]])
    for spec in _samples(space, 4, seed=2):
        supernet.apply(spec)
        net = supernet.export(spec)
        net.eval()
        np.testing.assert_allclose(supernet(x).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-5)
        fresh = space.build_standalone(spec)
        assert {k: tuple(v.shape) for k, v in fresh.state_dict().items()} == dict(supernet.active_shapes(spec))


@pytest.mark.parametrize("name", TINY)
def test_analytic_flops_and_params_equal_paddle(name: str) -> None:
    space = SPACES.get(name)
    for spec in _samples(space, 6, seed=3):
        net = space.build_standalone(spec)
        size = [1, space.in_channels, spec.resolution, spec.resolution]
        assert space.flops(spec) == _paddle_flops(net, size)
        assert space.params(spec) == sum(int(p.numel()) for p in net.parameters())


@pytest.mark.parametrize("name", TINY)
def test_the_prefix_key_names_everything_the_prefix_computes(name: str) -> None:
    """forward = forward_suffix(forward_prefix); equal keys give equal prefix outputs; the prefix's
    batch norms are all in prefix_layers (what shared-prefix evaluation relies on)."""
    from hnas.nn.bn_recal import batch_norm_layers
    from tests.prefix_archs import with_prefix

    space = SPACES.get(name)
    if space.prefix_key(space.max_spec()) is None:
        pytest.skip(f"space {name} names no prefix")
    paddle.seed(0)
    net = space.build_supernet()
    x = paddle.randn([3, space.in_channels, space.resolutions[0], space.resolutions[0]])
    specs = _samples(space, 4)
    prefix_bns = {id(layer) for part in net.prefix_layers() for layer in batch_norm_layers(part)}
    for spec in specs:
        twin = with_prefix(space, specs[-1 - specs.index(spec)], spec)
        assert space.prefix_key(twin) == space.prefix_key(spec)
        net.eval()
        with paddle.no_grad():
            net.apply(spec)
            prefix = net.forward_prefix(x)
            np.testing.assert_array_equal(net(x).numpy(), net.forward_suffix(prefix).numpy())
            np.testing.assert_array_equal(net.apply(twin).forward_prefix(x).numpy(), prefix.numpy())
            net.train()
            before = {id(layer): layer._mean.numpy().copy() for layer in batch_norm_layers(net)}
            net.forward_prefix(x)
            changed = {id(layer) for layer in batch_norm_layers(net) if
                       not np.array_equal(layer._mean.numpy(), before[id(layer)])}
        assert changed and changed <= prefix_bns


@pytest.mark.parametrize("name", TINY)
def test_pss_convention_is_the_macs_plus_every_average_pool(name: str) -> None:
    """PSS-Net's FLOPs (``convention="pss"``) = MACs + the input elements of every average pool,
    counted here by hooks on the stand-alone network's pooling layers."""
    space = SPACES.get(name)
    for spec in _samples(space, 2, seed=4):
        net = space.build_standalone(spec)
        pooled: list[int] = []
        for layer in net.sublayers():
            if isinstance(layer, paddle.nn.AdaptiveAvgPool2D):
                layer.register_forward_pre_hook(lambda _, inputs: pooled.append(int(inputs[0].numel())))
        net.eval()
        net(paddle.randn([1, space.in_channels, spec.resolution, spec.resolution]))
        assert pooled
        assert space.flops(spec, convention="pss") == space.flops(spec, convention="macs") + sum(pooled)
