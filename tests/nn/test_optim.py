"""Tests of hnas/nn/optim.py: parameter groups, schedule lengths and LR values."""

from __future__ import annotations

import math

import numpy as np
import paddle
import pytest

from hnas.nn.optim import (
    WarmupCosine,
    build_optimizer,
    scaled_lr,
    schedule_lengths,
    split_decay_parameters,
    warmup_cosine_lr,
)


def test_no_weight_decay_on_batch_norm_and_biases(tiny_space) -> None:
    net = tiny_space.build_supernet()
    decay, no_decay = split_decay_parameters(net)
    names = {id(param): name for name, param in net.named_parameters()}
    decay_names = {names[id(p)] for p in decay}
    no_decay_names = {names[id(p)] for p in no_decay}
    assert all(name.endswith(("conv.weight", "fc.weight")) for name in decay_names)
    assert "fc.bias" in no_decay_names
    assert "stem.conv.bn.weight" in no_decay_names and "stem.conv.bn.bias" in no_decay_names
    assert all(".bn." in name or name == "fc.bias" for name in no_decay_names)
    # BN running statistics are not optimised at all.
    assert not any(name.endswith(("_mean", "_variance")) for name in decay_names | no_decay_names)
    trainable = {name for name, param in net.named_parameters() if not param.stop_gradient}
    assert decay_names | no_decay_names == trainable


def test_weight_decay_applies_to_the_decay_group_only() -> None:
    layer = paddle.nn.Linear(2, 2)
    bn = paddle.nn.BatchNorm1D(2)
    net = paddle.nn.Sequential(layer, bn)
    optimizer = build_optimizer(net, learning_rate=0.1, momentum=0.0, weight_decay=0.5)
    before = {name: param.numpy().copy() for name, param in net.named_parameters()}
    for param in (layer.weight, layer.bias, bn.weight, bn.bias):
        param.grad = paddle.zeros_like(param)  # zero gradient: only weight decay can move a parameter
    optimizer.step()
    np.testing.assert_allclose(layer.weight.numpy(), before["0.weight"] * (1 - 0.1 * 0.5), rtol=1e-6)
    for name in ("0.bias", "1.weight", "1.bias"):
        np.testing.assert_array_equal(dict(net.named_parameters())[name].numpy(), before[name])


def test_schedule_lengths_follow_the_real_dataset() -> None:
    # ImageNet-mini-sized data: the reference's full-ImageNet warm-up would never end here.
    lengths = schedule_lengths(34745, batch_size=256, world_size=4, epochs=70, warmup_epochs=5)
    assert lengths.steps_per_epoch == 34745 // 1024 == 33
    assert lengths.total_steps == 33 * 70
    assert lengths.warmup_steps == 165
    assert schedule_lengths(100, 16, 1, 2, 0.5, drop_last=False).steps_per_epoch == 7
    assert schedule_lengths(100, 16, 1, 3, 10).warmup_steps == 18  # capped at the total


@pytest.mark.parametrize("images, batch, world", [(10, 8, 2), (0, 8, 1)])
def test_schedule_lengths_reject_impossible_sizes(images: int, batch: int, world: int) -> None:
    with pytest.raises(ValueError):
        schedule_lengths(images, batch, world, epochs=1, warmup_epochs=0)


def test_scaled_lr_is_linear_in_the_global_batch() -> None:
    assert scaled_lr(0.001, 256, 1) == pytest.approx(0.001)
    assert scaled_lr(0.001, 256, 4) == pytest.approx(0.004)
    assert scaled_lr(0.1, 64, 1, reference_batch=256) == pytest.approx(0.025)


def test_warmup_then_cosine_values() -> None:
    values = [warmup_cosine_lr(step, 1.0, warmup_steps=4, total_steps=12, min_lr=0.1) for step in range(14)]
    assert values[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert values[4] == pytest.approx(1.0)  # cosine starts at the peak
    assert values[8] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert all(a >= b for a, b in zip(values[4:], values[5:]))
    assert values[12] == values[13] == pytest.approx(0.1)


def test_scheduler_steps_per_iteration_and_round_trips() -> None:
    scheduler = WarmupCosine(0.4, warmup_steps=2, total_steps=6)
    seen = []
    for _ in range(3):
        seen.append(scheduler())
        scheduler.step()
    assert seen == pytest.approx([0.2, 0.4, 0.4])
    restored = WarmupCosine(0.4, warmup_steps=2, total_steps=6)
    restored.set_state_dict(scheduler.state_dict())
    assert restored() == pytest.approx(scheduler()) == pytest.approx(warmup_cosine_lr(3, 0.4, 2, 6))


@pytest.mark.parametrize("family", ["resnet", "mbv2"])
def test_momentum_follows_the_channels_a_reorder_moves(family: str) -> None:
    """Reorder + permuted momentum, then a step == the step, then the reorder: each channel keeps its velocity."""
    from hnas.engine.step import Objective, SupernetStep
    from hnas.losses import InplaceKDLoss
    from hnas.nn.optim import build_optimizer, permute_optimizer_state
    from hnas.samplers.base import SampledNet
    from hnas.search_spaces.spaces import resolve_space
    from tests.engine.tiny import TINY_SPACE, FixedSampler

    space = TINY_SPACE if family == "resnet" else resolve_space("mbv2_tiny", {"num_classes": 4, "in_channels": 3})
    size = space.resolutions[0]
    rng = np.random.default_rng(0)
    images = paddle.to_tensor(rng.standard_normal((8, space.in_channels, size, size)).astype("float32"))
    labels = paddle.to_tensor(rng.integers(0, space.num_classes, 8).astype("int64"))

    def trained(permute: bool | None, orders=None):
        paddle.seed(0)
        supernet = space.build_supernet()
        optimizer = build_optimizer(supernet, learning_rate=0.1, momentum=0.9, weight_decay=1e-3)
        step = SupernetStep(supernet, FixedSampler(space, [SampledNet(space.max_spec(), "single")]), optimizer,
                            Objective(distill=InplaceKDLoss()))
        for index in range(3):
            step(images, labels, step=index, epoch=0)  # momentum is non-zero everywhere now
        if permute is None:  # reference: one more step, then the same permutation of the weights only
            step(images, labels, step=3, epoch=0)
            moved = [move for stage in supernet.stages for block in stage for move in block.permuted_tensors()]
            with paddle.no_grad():
                for (tensor, axis), order in zip(moved, orders, strict=True):
                    tensor.set_value(paddle.index_select(tensor, paddle.to_tensor(order), axis=axis))
            return supernet, None
        moves = supernet.reorder_channels()
        if permute:
            assert permute_optimizer_state(optimizer, moves) > 0
        step(images, labels, step=3, epoch=0)
        return supernet, [order for _, _, order in moves]

    results = {permute: trained(permute) for permute in (True, False)}
    orders = results[True][1]
    assert any((order != np.arange(len(order))).any() for order in orders)  # the reorder moved channels
    reference, _ = trained(None, orders)
    expected = {name: value.numpy() for name, value in reference.state_dict().items()}
    for permute, equal in ((True, True), (False, False)):
        got = {name: value.numpy() for name, value in results[permute][0].state_dict().items()}
        close = all(np.allclose(got[name], expected[name], rtol=1e-4, atol=1e-5) for name in expected)
        assert close == equal, f"permute={permute}"
