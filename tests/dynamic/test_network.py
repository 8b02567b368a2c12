"""The gated network: straight-through training gradients, grouped dynamic inference, routed MAdds."""

from __future__ import annotations

import numpy as np
import paddle
import pytest
from paddle import nn

from hnas.dynamic.network import GatedNetwork, check_gate
from hnas.dynamic.sgs import gate_loss, sgs_targets
from hnas.errors import HnasError
from hnas.nn.bn_recal import reset_bn_per_width
from hnas.search_spaces.spaces import SPACES
from tests.dynamic.tiny import WIDTHS, TinySpace


def _gated(seed: int = 0) -> tuple[TinySpace, GatedNetwork]:
    paddle.seed(seed)
    space = TinySpace("per_width")
    levels = space.width_levels()
    net = GatedNetwork(space.build_supernet(), levels, [space.flops(level) for level in levels], "b1")
    reset_bn_per_width(net.supernet, levels, [_images(32, seed=99)])
    with paddle.no_grad():  # level k wins for growing first reduced features: routes over every level
        weight = np.zeros(net.gate.conv.weight.shape, "float32")
        weight[:, 0, 0, 0] = [0.0, 10.0, 20.0, 30.0]
        net.gate.conv.weight.set_value(paddle.to_tensor(weight))
        net.gate.conv.bias.set_value(paddle.to_tensor([0.0, -1.5, -4.5, -9.0]))
    return space, net


def _images(n: int, seed: int = 0) -> paddle.Tensor:
    rng = np.random.default_rng(seed)  # per-image offsets and scales, so the gate routes them apart
    images = rng.normal(size=(n, 1, 8, 8)) * rng.uniform(0.2, 5.0, size=(n, 1, 1, 1)) + rng.normal(size=(n, 1, 1, 1))
    return paddle.to_tensor(images.astype("float32"))


def test_straight_through_routing_trains_the_gate_only() -> None:
    _, net = _gated()
    net.train()
    images, labels = _images(8), paddle.to_tensor(np.arange(8) % 3, dtype="int64")
    out = net.train_forward(images)
    np.testing.assert_array_equal(out.one_hot.numpy().sum(axis=1), np.ones(8))
    assert set(np.unique(out.one_hot.numpy())) <= {0.0, 1.0}
    targets = sgs_targets(out.levels[:, 0], labels, 4)
    loss = gate_loss(out.routed, out.gate_logits, out.one_hot, net.option_madds, targets, labels, 0.5)
    loss.total.backward()
    assert all(p.grad is None for p in net.supernet.parameters())
    for param in net.gate_parameters():
        assert param.grad is not None and np.abs(param.grad.numpy()).sum() > 0
    assert not net.supernet.training  # BN of the supernet stays in eval mode


def test_the_routed_output_is_the_chosen_levels_logits() -> None:
    _, net = _gated()
    net.train()
    images = _images(6)
    out = net.train_forward(images)
    features, reduced = net.prefix(images)
    choice = out.one_hot.numpy().argmax(axis=1)
    assert len(set(choice.tolist())) >= 2
    for i, level in enumerate(choice):
        expected = net.suffix(int(level), features, reduced).numpy()[i]
        np.testing.assert_allclose(out.routed.numpy()[i], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(out.levels.numpy()[i, level], expected, rtol=1e-5, atol=1e-6)


def test_madds_gradient_pushes_towards_narrow_levels() -> None:
    _, net = _gated()
    net.train()
    out = net.train_forward(_images(8))
    penalty = gate_loss(out.routed, out.gate_logits, out.one_hot, net.option_madds, paddle.zeros([8], "int64"),
                        paddle.zeros([8], "int64"), 1e6).madds_penalty
    assert float(penalty) > 0
    penalty.backward()
    bias_grad = net.gate.conv.bias.grad.numpy()
    assert bias_grad[-1] > bias_grad[0]  # descending lowers the widest level's logit most


@pytest.mark.parametrize(("predicted", "labels", "expected"), [
    ([0, 1, 2], [0, 1, 2], [0, 0, 0]),          # the smallest gets all right: all easy
    ([0, 1, 2], [1, 2, 0], [3, 3, 3]),          # all wrong: the widest routed width
    ([2, 2, 0, 1], [2, 1, 0, 0], [0, 3, 0, 3]),
])
def test_sgs_target_on_hand_made_cases(predicted: list[int], labels: list[int], expected: list[int]) -> None:
    logits = paddle.to_tensor(np.eye(3, dtype="float32")[predicted])
    targets = sgs_targets(logits, paddle.to_tensor(labels, dtype="int64").reshape([-1, 1]), 4)
    assert targets.numpy().tolist() == expected
    assert targets.dtype == paddle.int64


def test_grouped_dynamic_forward_equals_routing_each_image_alone() -> None:
    _, net = _gated()
    net.eval()
    images = _images(16, seed=3)
    logits, route = net.dynamic_forward(images)
    assert len(set(route.numpy().tolist())) >= 3  # the batch really is split into groups
    for i in range(16):
        alone, alone_route = net.dynamic_forward(images[i:i + 1])
        assert int(alone_route[0]) == int(route[i])
        np.testing.assert_allclose(logits.numpy()[i], alone.numpy()[0], rtol=1e-5, atol=1e-5)


def _count_macs(net: nn.Layer) -> tuple[list[int], list]:
    """Multiply-accumulates of every conv / linear call the forward really makes."""
    total = [0]

    def conv_hook(layer, inputs, output):
        kernel = int(np.prod(layer._kernel_size))
        per_output = kernel if layer._groups > 1 else int(inputs[0].shape[1]) * kernel
        total[0] += int(np.prod(output.shape)) * per_output

    def linear_hook(layer, inputs, output):
        total[0] += int(np.prod(output.shape)) * int(inputs[0].shape[-1])

    handles = []
    for layer in net.sublayers():
        if isinstance(layer, nn.Conv2D):
            handles.append(layer.register_forward_post_hook(conv_hook))
        elif isinstance(layer, nn.Linear):
            handles.append(layer.register_forward_post_hook(linear_hook))
    return total, handles


def test_madds_of_a_routed_batch_equal_the_analytic_madds_of_the_chosen_subnets() -> None:
    space, net = _gated()
    net.eval()
    total, handles = _count_macs(net)
    _, route = net.dynamic_forward(_images(12, seed=4))
    for handle in handles:
        handle.remove()
    chosen = route.numpy().tolist()
    assert len(set(chosen)) >= 2
    analytic = sum(space.flops(space.width_levels()[r]) for r in chosen) + 12 * net.gate.madds()
    assert total[0] == analytic == net.routed_madds(route)
    full = 12 * space.flops(space.width_levels()[-1])
    assert total[0] < full  # narrow groups ran narrow convolutions


def test_gate_settings_are_checked() -> None:
    space = TinySpace()
    assert check_gate(space, "b1", 2) == space.width_levels()[:2]
    with pytest.raises(HnasError, match=r"gate.block 's9.b1' is not a gate point of space 'tiny_slim'; known: b1"):
        check_gate(space, "s9.b1", 4)
    with pytest.raises(HnasError, match=f"gate.options 5 exceeds the {len(WIDTHS)} width levels"):
        check_gate(space, "b1", 5)
    with pytest.raises(HnasError, match="'resnet48_tiny' has no ordered width levels"):
        check_gate(SPACES.get("resnet48_tiny"), "b1", 4)
