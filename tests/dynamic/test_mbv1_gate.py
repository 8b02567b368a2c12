"""The gate on DS-Net's MobileNetV1 (dsnet_mbv1_tiny): per-width BN export, routing, MAdds."""

from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from hnas.dynamic.network import ExportedDynamicNetwork, GatedNetwork, check_gate
from hnas.nn.bn_recal import reset_bn_per_width
from hnas.search_spaces.mbv1 import layers as mbv1_layers
from hnas.search_spaces.spaces import SPACES
from tests.dynamic.test_network import _count_macs

SPACE = SPACES.get("dsnet_mbv1_tiny").replace({"bn": "per_width"})


def _images(n: int, seed: int = 0) -> paddle.Tensor:
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(n, 1, 28, 28)) * rng.uniform(0.2, 3.0, size=(n, 1, 1, 1))
    return paddle.to_tensor(images.astype("float32"))


@pytest.fixture(scope="module")
def gated() -> GatedNetwork:
    paddle.seed(0)
    levels = check_gate(SPACE, "s4.b1", 4)
    net = GatedNetwork(SPACE.build_supernet(), levels, [SPACE.flops(level, convention="macs") for level in levels],
                       "s4.b1")
    reset_bn_per_width(net.supernet, (*SPACE.width_levels(), SPACE.max_spec()), [_images(16, seed=9)])
    net.eval()
    spread_routes(net, _images(32, seed=3))
    return net


def spread_routes(net: GatedNetwork, images: paddle.Tensor) -> None:
    """Set the gate so that the quartiles of a projection of the images' SE features go to levels 0..3."""
    reduced = net.prefix(images)[1].numpy().reshape(images.shape[0], -1)
    direction = np.random.default_rng(0).normal(size=reduced.shape[1])
    thresholds = np.quantile(reduced @ direction, [0.25, 0.5, 0.75])
    weight = np.arange(4)[:, None] * direction[None, :]  # logit k = k * p - (t_1 + ... + t_k)
    bias = -np.concatenate([[0.0], np.cumsum(thresholds)])
    with paddle.no_grad():
        net.gate.conv.weight.set_value(paddle.to_tensor(weight.reshape(net.gate.conv.weight.shape), "float32"))
        net.gate.conv.bias.set_value(paddle.to_tensor(bias, "float32"))


def test_the_space_names_its_levels_and_gate_point() -> None:
    assert [level.widths[4:] for level in SPACE.width_levels()] == [(24, 40), (32, 48), (40, 56), (48, 64)]
    assert {level.widths[:4] for level in SPACE.width_levels()} == {(8, 12, 16, 24)}
    assert SPACE.gate_points() == ("s4.b1",) and SPACES.get("pss_mbv1_tiny").gate_points() == ()


def test_export_carries_each_width_s_statistics(gated: GatedNetwork) -> None:
    supernet, images = gated.supernet, _images(4, seed=1)
    for level in SPACE.width_levels():
        supernet.apply(level)
        net = supernet.export(level)
        net.eval()
        np.testing.assert_allclose(net(images).numpy(), supernet(images).numpy(), rtol=1e-4, atol=1e-5)


def test_prefix_and_suffix_are_the_level_s_forward(gated: GatedNetwork) -> None:
    images = _images(3, seed=2)
    features, reduced = gated.prefix(images)
    for index, level in enumerate(gated.levels):
        gated.supernet.apply(level)
        np.testing.assert_allclose(gated.suffix(index, features, reduced).numpy(), gated.supernet(images).numpy(),
                                   rtol=1e-4, atol=1e-5)


def test_grouped_forward_equals_each_image_alone(gated: GatedNetwork) -> None:
    images = _images(12, seed=3)
    logits, route = gated.dynamic_forward(images)
    assert len(set(route.numpy().tolist())) >= 3
    for i in range(12):
        alone, alone_route = gated.dynamic_forward(images[i:i + 1])
        assert int(alone_route[0]) == int(route[i])
        np.testing.assert_allclose(logits.numpy()[i], alone.numpy()[0], rtol=1e-4, atol=1e-5)


class _CountingConvs:
    """Stands in for ``paddle.nn.functional`` in the mbv1 layers: counts the SE's functional convolutions."""

    def __init__(self, total: list[int]) -> None:
        self.total = total

    def __getattr__(self, name: str):
        return getattr(F, name)

    def conv2d(self, x, weight, bias=None, **kwargs):
        out = F.conv2d(x, weight, bias, **kwargs)
        self.total[0] += int(np.prod(out.shape)) * int(np.prod(weight.shape[1:]))
        return out


def test_routed_madds_equal_the_analytic_madds_of_the_chosen_subnets(gated: GatedNetwork, monkeypatch) -> None:
    total, handles = _count_macs(gated)  # convolutions and linears called as layers
    monkeypatch.setattr(mbv1_layers, "F", _CountingConvs(total))  # the SE's sliced convolutions
    _, route = gated.dynamic_forward(_images(10, seed=4))
    for handle in handles:
        handle.remove()
    chosen = route.numpy().tolist()
    assert len(set(chosen)) >= 2
    analytic = sum(SPACE.flops(gated.levels[r], convention="macs") for r in chosen) + 10 * gated.gate.madds()
    assert total[0] == analytic


def test_the_exported_dynamic_network_equals_the_gated_one(gated: GatedNetwork) -> None:
    exported = ExportedDynamicNetwork(gated)
    assert all(type(net).__name__ == "StandaloneMBV1" for net in exported.nets)
    images = _images(12, seed=3)
    logits, route = gated.dynamic_forward(images)
    exported_logits, exported_route = exported.dynamic_forward(images)
    np.testing.assert_array_equal(exported_route.numpy(), route.numpy())
    np.testing.assert_allclose(exported_logits.numpy(), logits.numpy(), rtol=1e-4, atol=1e-5)


def test_the_graph_friendly_forward_equals_the_grouped_one(gated: GatedNetwork) -> None:
    exported = ExportedDynamicNetwork(gated)
    images = _images(6, seed=3)[:3]
    logits, route = exported.dynamic_forward(images)
    assert 2 <= len(set(route.numpy().tolist())) < 4  # some levels get no image: empty groups
    np.testing.assert_allclose(exported(images).numpy(), logits.numpy(), rtol=1e-5, atol=1e-6)
