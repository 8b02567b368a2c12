"""ResNetSupernet: every subnet equals its exported stand-alone network, without rebuilding layers."""

from __future__ import annotations

import json
import random
from functools import lru_cache
from pathlib import Path

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest
from paddle import nn

from hnas.errors import HnasError
from hnas.search_spaces import SPACES
from hnas.search_spaces.resnet import ResNetSpace, ResNetSpec
from hnas.search_spaces.resnet.supernet import ResNetSupernet

TEST_JSON = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "CVPR_2022_NAS_Track1_test.json"
#: arch1-3 of the competition file (see facts.md), used when the file itself is absent.
KNOWN_CODES = (
    "1252233313000000223212122253130000000000006515000000",
    "1447233323333300331313230025153545153545003252000000",
    "1526421212322232112100000014443444143400006666764600",
)
INPUT_SIZE = {"resnet48": 32, "resnet48_tiny": 28}


@lru_cache(maxsize=None)
def _shared_supernet(space_name: str) -> ResNetSupernet:
    paddle.seed(1)
    net = SPACES.get(space_name).build_supernet()
    _randomize_bn(net)
    return net


def _supernet(space_name: str, conv_mode: str = "slice") -> ResNetSupernet:
    """One randomised supernet per space for tests that change no weights (building resnet48 takes ~1 s).

    Returned in eval mode with the max spec active and ``conv_mode``, whatever an earlier test left.
    """
    net = _shared_supernet(space_name)
    net.eval()
    net.set_conv_mode(conv_mode)
    return net.apply(net.max_spec())


def _randomize_bn(layer: nn.Layer) -> None:
    """Non-trivial affine parameters and running statistics, so BN slicing is really tested."""
    for sublayer in layer.sublayers():
        if isinstance(sublayer, nn.BatchNorm2D):
            size = sublayer.weight.shape[0]
            sublayer.weight.set_value(paddle.rand([size]) * 0.5 + 0.5)
            sublayer.bias.set_value(paddle.randn([size]) * 0.1)
            sublayer._mean.set_value(paddle.randn([size]) * 0.1)
            sublayer._variance.set_value(paddle.rand([size]) + 0.5)


def _random_spec(space: ResNetSpace, rng: random.Random) -> ResNetSpec:
    depths = tuple(rng.choice(choices) for choices in space.depth_choices)
    return ResNetSpec(
        resolution=space.resolutions[0],
        depths=depths,
        out_codes=tuple(rng.choice(space.width_codes) for _ in depths),
        mid_codes=tuple(tuple(rng.choice(space.width_codes) for _ in range(depth)) for depth in depths),
    )


def _competition_codes(count: int) -> list[str]:
    if not TEST_JSON.exists():
        return list(KNOWN_CODES[:count])
    archs = json.loads(TEST_JSON.read_text())
    return [archs[f"arch{index}"]["arch"] for index in (1, 2, 3, 4500, 45000)[:count]]


def _specs(space: ResNetSpace, net: ResNetSupernet, random_count: int, code_count: int) -> list[ResNetSpec]:
    rng = random.Random(0)
    return [
        net.max_spec(),
        net.min_spec(),
        *[_random_spec(space, rng) for _ in range(random_count)],
        *[space.decode(code) for code in _competition_codes(code_count)],
    ]


def _batch(space: ResNetSpace, batch_size: int = 2) -> paddle.Tensor:
    size = INPUT_SIZE[space.name]
    return paddle.randn([batch_size, space.in_channels, size, size])


@pytest.mark.parametrize(("space_name", "random_count", "code_count", "conv_mode"),
                         [("resnet48", 1, 2, "slice"), ("resnet48_tiny", 3, 5, "slice"), ("resnet48_tiny", 3, 5, "pad"),
                          ("resnet48_tiny", 3, 5, "auto")])
def test_every_subnet_equals_its_export_in_eval_mode(space_name: str, random_count: int, code_count: int,
                                                    conv_mode: str) -> None:
    net = _supernet(space_name, conv_mode)
    net.eval()
    x = _batch(net.space)
    for spec in _specs(net.space, net, random_count, code_count):
        net.apply(spec)
        standalone = net.export(spec)
        assert not standalone.training
        expected = standalone(x).numpy()
        np.testing.assert_allclose(net(x).numpy(), expected, rtol=1e-5, atol=1e-5)
        assert net.active_shapes() == {name: tuple(v.shape) for name, v in standalone.state_dict().items()}


@pytest.mark.parametrize("conv_mode", ["slice", "pad"])
def test_train_mode_forward_matches_standalone_output_and_running_stats(conv_mode: str) -> None:
    net = SPACES.get("resnet48_tiny").build_supernet().set_conv_mode(conv_mode)
    _randomize_bn(net)
    spec = net.space.decode(KNOWN_CODES[0])
    net.apply(spec)
    standalone = net.export(spec)
    net.train()
    standalone.train()
    x = _batch(net.space, batch_size=4)
    before = {name: value.numpy().copy() for name, value in net.state_dict().items()}

    np.testing.assert_allclose(net(x).numpy(), standalone(x).numpy(), rtol=1e-5, atol=1e-5)

    after = net.state_dict()
    for name, value in standalone.state_dict().items():
        if name.endswith(("_mean", "_variance")):
            active = tuple(slice(0, size) for size in value.shape)
            np.testing.assert_allclose(after[name].numpy()[active], value.numpy(), atol=1e-6, err_msg=name)
            assert not np.allclose(before[name][active], value.numpy())
            rest = after[name].numpy().copy()
            rest[active] = before[name][active]
            np.testing.assert_array_equal(rest, before[name], err_msg=f"{name} changed outside the slice")
    unused = [name for name in before if name not in standalone.state_dict()]
    assert unused, "the spec should leave some blocks inactive"
    for name in unused:
        np.testing.assert_array_equal(after[name].numpy(), before[name], err_msg=name)


def test_apply_switches_subnets_without_rebuilding_layers() -> None:
    net = _supernet("resnet48_tiny")
    parameters = [id(p) for p in net.parameters()]
    sublayers = [id(layer) for layer in net.sublayers()]
    assert net.active_spec == net.max_spec()
    for spec in _specs(net.space, net, random_count=2, code_count=1):
        assert net.apply(spec) is net
        assert net.active_spec == spec
        assert [id(p) for p in net.parameters()] == parameters
        assert [id(layer) for layer in net.sublayers()] == sublayers


def test_apply_rejects_a_spec_of_another_space() -> None:
    net = _supernet("resnet48_tiny")
    bad = ResNetSpec(resolution=224, depths=(2, 2, 2, 2), out_codes=(1, 1, 1, 1), mid_codes=((1, 1),) * 4)
    with pytest.raises(HnasError, match="resnet48_tiny"):
        net.apply(bad)
    assert net.active_spec == net.max_spec()


def test_conv_mode_must_be_known() -> None:
    with pytest.raises(HnasError, match="conv mode 'zero'"):
        _supernet("resnet48_tiny", "zero")


def test_apply_with_a_function_is_still_layer_apply() -> None:
    net = _supernet("resnet48_tiny")
    seen: list[nn.Layer] = []
    assert net.apply(seen.append) is net
    assert len(seen) == len(net.sublayers()) + 1


def test_parameter_names_match_the_standalone_max_net() -> None:
    net = _supernet("resnet48_tiny")
    standalone = net.export(net.max_spec())
    assert list(net.state_dict()) == list(standalone.state_dict())
    assert "stem.conv.conv.weight" in net.state_dict()
    assert "stages.2.7.conv2.bn._variance" in net.state_dict()


def test_reorder_keeps_the_max_net_function() -> None:
    net = SPACES.get("resnet48_tiny").build_supernet()
    _randomize_bn(net)
    net.eval()
    x = _batch(net.space)
    before = net(x).numpy()
    net.reorder_channels()
    np.testing.assert_allclose(net(x).numpy(), before, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("conv_mode", ["slice", "pad", "auto"])
def test_gradients_reach_only_the_active_slices(conv_mode: str) -> None:
    net = SPACES.get("resnet48_tiny").build_supernet().set_conv_mode(conv_mode)
    spec = net.min_spec()
    net.apply(spec)
    standalone = net.export(spec)
    x, labels = _batch(net.space, 4), paddle.to_tensor([0, 1, 2, 3])
    F.cross_entropy(net(x), labels).backward()
    F.cross_entropy(standalone(x), labels).backward()

    shapes = net.active_shapes()
    reference = dict(standalone.named_parameters())
    for name, param in net.named_parameters():
        if param.stop_gradient:
            continue
        if name not in shapes:
            assert param.grad is None, f"{name} is unused but got a gradient"
            continue
        active = tuple(slice(0, size) for size in shapes[name])
        grad = param.grad.numpy()
        np.testing.assert_allclose(grad[active], reference[name].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
        grad[active] = 0
        assert not grad.any(), f"{name} has gradient outside its active slice"
    assert {id(p) for p in net.used_parameters()} == {
        id(p) for name, p in net.named_parameters() if name in shapes and not p.stop_gradient
    }
    assert len(net.used_parameters(net.max_spec())) == len([p for p in net.parameters() if not p.stop_gradient])


@pytest.mark.parametrize("set_to_zero", [False, True])
def test_unused_parameters_move_only_if_gradients_are_zeroed_not_cleared(set_to_zero: bool) -> None:
    """Paddle optimizers skip ``grad is None``: clear_grad(set_to_zero=False) freezes unused blocks."""
    net = SPACES.get("resnet48_tiny").build_supernet()
    optimizer = paddle.optimizer.Momentum(0.1, momentum=0.9, parameters=net.parameters(), weight_decay=1e-2)
    x, labels = _batch(net.space, 2), paddle.to_tensor([0, 1])
    for spec in (net.max_spec(), net.min_spec()):  # the max step gives every parameter momentum
        net.apply(spec)
        F.cross_entropy(net(x), labels).backward()
        if spec == net.min_spec():
            unused = {name: p.numpy().copy() for name, p in net.named_parameters() if name not in net.active_shapes()}
        optimizer.step()
        optimizer.clear_grad(set_to_zero=set_to_zero)
    moved = [name for name, p in net.named_parameters()
             if name in unused and not np.array_equal(p.numpy(), unused[name])]
    if set_to_zero:
        assert moved
    else:
        assert not moved
