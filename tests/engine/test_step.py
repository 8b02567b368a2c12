"""Tests of hnas/engine/step.py: roles, unused parameters, rank pairs, the NaN guard and elastic resolution."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from hnas.engine.step import NonFiniteLossError, Objective, SupernetStep
from hnas.losses import InplaceKDLoss, cross_entropy
from hnas.nn.optim import build_optimizer
from hnas.nn.resize import resize_images
from hnas.samplers import SAMPLERS
from hnas.samplers.base import SampledNet
from hnas.search_spaces.resnet import ResNetSpec
from tests.engine.tiny import FixedSampler


def _batch(space, size: int = 8, seed: int = 0) -> tuple[paddle.Tensor, paddle.Tensor]:
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((size, space.in_channels, 16, 16)).astype("float32")
    labels = rng.integers(0, space.num_classes, size).astype("int64")
    return paddle.to_tensor(images), paddle.to_tensor(labels)


class SwitchableNaN(InplaceKDLoss):
    """In-place KD that returns NaN while ``poisoned`` is set."""

    poisoned = False

    def forward(self, student_logits, teacher_logits):
        loss = super().forward(student_logits, teacher_logits)
        return loss * float("nan") if self.poisoned else loss


def _step(space, nets, weight_decay: float = 0.1, nan_policy: str = "stop", prior=None, rank_ramp: float = 0.0):
    supernet = space.build_supernet()
    sampler = FixedSampler(space, nets)
    optimizer = build_optimizer(supernet, learning_rate=0.1, momentum=0.9, weight_decay=weight_decay)
    objective = Objective(distill=SwitchableNaN(), rank_w_max=1.0, rank_ramp=rank_ramp)
    step = SupernetStep(supernet, sampler, optimizer, objective, prior=prior, nan_policy=nan_policy)
    return step, supernet, sampler


def _state(net) -> dict[str, np.ndarray]:
    return {name: tensor.numpy().copy() for name, tensor in net.state_dict().items()}


def test_parameters_a_step_did_not_use_do_not_move(tiny_space) -> None:
    big, small = tiny_space.max_spec(), tiny_space.min_spec()
    step, supernet, sampler = _step(tiny_space, [SampledNet(big, "single")])
    images, labels = _batch(tiny_space)
    step(images, labels, step=0, epoch=0)  # momentum buffers now exist for every block
    sampler.nets = [SampledNet(small, "single")]
    before = _state(supernet)
    for index in range(3):
        step(images, labels, step=1 + index, epoch=0)
    after = _state(supernet)
    unused = [name for name in before if name.startswith(("stages.0.1.", "stages.1.1."))]
    assert unused and all(np.array_equal(before[name], after[name]) for name in unused)
    assert not np.array_equal(before["stages.0.0.conv1.conv.weight"], after["stages.0.0.conv1.conv.weight"])
    assert all(param.grad is None for param in supernet.parameters())  # cleared without zero tensors


def test_sandwich_roles_and_observe(tiny_space) -> None:
    nets = [
        SampledNet(tiny_space.max_spec(), "teacher"),
        SampledNet(tiny_space.min_spec(), "student"),
        SampledNet(tiny_space.min_spec(), "single"),
    ]
    step, _, sampler = _step(tiny_space, nets)
    result = step(*_batch(tiny_space), step=0, epoch=0)
    assert set(result.terms) == {"teacher/ce", "student/kd", "single/ce", "loss"}
    assert len(result.net_losses) == 3 and sampler.observed == [result.net_losses]
    assert result.terms["loss"] == pytest.approx(sum(result.net_losses))
    assert not result.skipped


def test_student_without_teacher_learns_from_labels(tiny_space) -> None:
    step, _, _ = _step(tiny_space, [SampledNet(tiny_space.min_spec(), "student")])
    result = step(*_batch(tiny_space), step=0, epoch=0)
    assert set(result.terms) == {"student/ce", "loss"}


def test_student_label_weight_adds_weighted_label_cross_entropy(tiny_space) -> None:
    """With a weight w, each student's loss is its distillation loss plus w times its label CE."""
    nets = [SampledNet(tiny_space.max_spec(), "teacher"), SampledNet(tiny_space.min_spec(), "student")]
    images, labels = _batch(tiny_space)
    values = {}
    for weight in (0.0, 0.5):
        paddle.seed(0)
        supernet = tiny_space.build_supernet()
        optimizer = build_optimizer(supernet, learning_rate=0.0, momentum=0.0, weight_decay=0.0)
        objective = Objective(distill=InplaceKDLoss(), student_label_weight=weight)
        step = SupernetStep(supernet, FixedSampler(tiny_space, nets), optimizer, objective)
        values[weight] = step(images, labels, step=0, epoch=0)
    plain, mixed = values[0.0], values[0.5]
    assert set(mixed.terms) == {"teacher/ce", "student/kd+ce", "loss"}
    assert plain.net_losses[0] == pytest.approx(mixed.net_losses[0], abs=1e-6)
    supernet.apply(tiny_space.min_spec())
    supernet.train()
    label_ce = float(paddle.nn.functional.cross_entropy(supernet(images), labels.reshape([-1, 1])))
    assert mixed.net_losses[1] == pytest.approx(plain.net_losses[1] + 0.5 * label_ce, rel=1e-4)


def _rank_nets(space) -> list[SampledNet]:
    return [SampledNet(space.max_spec(), "rank", 0), SampledNet(space.min_spec(), "rank", 0)]


def test_rank_pair_adds_the_weighted_hinge_to_the_higher_prior_net(tiny_space) -> None:
    big = tiny_space.max_spec()
    prior = lambda spec: 2.0 if spec == big else 1.0  # noqa: E731 - the max net should reach the lower loss
    step, _, _ = _step(tiny_space, _rank_nets(tiny_space), prior=prior, rank_ramp=0.0)
    result = step(*_batch(tiny_space), step=0, epoch=3)
    big_ce, small_ce = result.net_losses
    assert result.terms["rank/weight"] == 1.0
    assert result.terms["rank/hinge"] == pytest.approx(max(0.0, big_ce - small_ce), abs=1e-5)
    assert result.terms["rank/ce"] == pytest.approx((big_ce + small_ce) / 2)
    assert result.terms["loss"] == pytest.approx(big_ce + small_ce + result.terms["rank/hinge"], abs=1e-5)


def test_rank_gradient_reaches_only_the_higher_prior_loss(tiny_space) -> None:
    """Running the low-prior net first with a detached loss equals back-propagating the summed pair loss."""
    big, small = tiny_space.max_spec(), tiny_space.min_spec()
    prior = lambda spec: 2.0 if spec == big else 1.0  # noqa: E731
    images, labels = _batch(tiny_space)
    step, supernet, _ = _step(tiny_space, _rank_nets(tiny_space), weight_decay=0.0, prior=prior)
    start = _state(supernet)
    step.optimizer.step = lambda: None  # keep the gradients of the step for inspection
    step.optimizer.clear_grad = lambda set_to_zero=True: None
    step(images, labels, step=0, epoch=0)
    grads = {name: p.grad.numpy().copy() for name, p in supernet.named_parameters() if p.grad is not None}

    reference = tiny_space.build_supernet()
    reference.set_state_dict({name: paddle.to_tensor(value) for name, value in start.items()})
    reference.apply(big)
    big_ce = paddle.nn.functional.cross_entropy(reference(images), labels)
    reference.apply(small)
    small_ce = paddle.nn.functional.cross_entropy(reference(images), labels)
    total = big_ce + small_ce + paddle.nn.functional.relu(big_ce - small_ce.detach())
    total.backward()
    for name, param in reference.named_parameters():
        if param.grad is not None:
            np.testing.assert_allclose(grads[name], param.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_rank_pairs_need_a_prior(tiny_space) -> None:
    step, _, _ = _step(tiny_space, _rank_nets(tiny_space), prior=None)
    with pytest.raises(ValueError, match="prior"):
        step(*_batch(tiny_space), step=0, epoch=0)


def _sandwich(space) -> list[SampledNet]:
    return [SampledNet(space.max_spec(), "teacher"), SampledNet(space.min_spec(), "student")]


def test_non_finite_loss_stops_by_default(tiny_space) -> None:
    step, supernet, _ = _step(tiny_space, _sandwich(tiny_space))
    images, labels = _batch(tiny_space)
    before = _state(supernet)
    step.objective.distill.poisoned = True
    with pytest.raises(NonFiniteLossError, match="non-finite loss at epoch 2, step 7: student net"):
        step(images, labels, step=7, epoch=2)
    params = {name for name, p in supernet.named_parameters() if not p.stop_gradient}
    after = _state(supernet)
    assert all(np.array_equal(before[name], after[name]) for name in params)


def test_non_finite_loss_skip_drops_the_batch_and_restores_bn_statistics(tiny_space) -> None:
    step, supernet, sampler = _step(tiny_space, _sandwich(tiny_space), nan_policy="skip")
    images, labels = _batch(tiny_space)
    step(images, labels, step=0, epoch=0)
    before = _state(supernet)
    step.objective.distill.poisoned = True
    result = step(images, labels, step=1, epoch=0)
    step.objective.distill.poisoned = False
    assert result.skipped and step.skipped_batches == 1
    after = _state(supernet)
    assert all(np.array_equal(before[name], after[name]) for name in before)  # BN statistics included
    assert len(sampler.observed) == 1  # the skipped batch is not reported to the sampler
    assert not step(images, labels, step=2, epoch=0).skipped


def test_spec_outside_the_space_is_rejected(tiny_space) -> None:
    bad = ResNetSpec(resolution=16, depths=(3, 1), out_codes=(1, 1), mid_codes=((1, 1, 1), (1,)))
    step, _, _ = _step(tiny_space, [SampledNet(bad, "single")])
    with pytest.raises(Exception, match="does not belong"):
        step(*_batch(tiny_space), step=0, epoch=0)


# --- elastic resolution -----------------------------------------------------------------------


def _at(space, spec, resolution: int):
    return space.from_choices({**space.choices(spec), "resolution": resolution})


def test_each_subnet_trains_on_the_batch_resized_to_its_resolution(tiny_space) -> None:
    space = tiny_space.replace({"resolutions": (12, 16)})
    spec = _at(space, space.max_spec(), 12)
    step, supernet, _ = _step(space, [SampledNet(spec, "single")])
    images, labels = _batch(space)  # 16 px
    supernet.train()
    supernet.apply(spec)
    expected = float(cross_entropy(supernet(resize_images(images, 12)), labels))
    at_full_size = float(cross_entropy(supernet(images), labels))
    seen: list[int] = []
    hook = supernet.register_forward_pre_hook(lambda layer, inputs: seen.append(inputs[0].shape[-1]))
    result = step(images, labels, step=0, epoch=0)
    hook.remove()
    assert seen == [12]
    assert result.net_losses[0] == pytest.approx(expected, rel=1e-6)
    assert at_full_size != pytest.approx(expected, rel=1e-3)


def test_two_ranks_resize_the_same_batch_to_the_same_resolution(tiny_space) -> None:
    """Two simulated ranks (same seeds, same batch): each step draws the same subnet on both, so both
    resize to the same size and hold the same weights afterwards; several sizes occur."""
    space = tiny_space.replace({"resolutions": (8, 12, 16)})
    images, labels = _batch(space)
    runs = []
    for _rank in range(2):
        paddle.seed(3)
        supernet = space.build_supernet()
        sampler = SAMPLERS.build("uniform", space=space, seed=11)
        optimizer = build_optimizer(supernet, learning_rate=0.1, momentum=0.9, weight_decay=0.0)
        step = SupernetStep(supernet, sampler, optimizer, Objective(distill=InplaceKDLoss()))
        inputs: list[np.ndarray] = []
        hook = supernet.register_forward_pre_hook(lambda layer, args: inputs.append(args[0].numpy()))
        for index in range(6):
            step(images, labels, step=index, epoch=0)
        hook.remove()
        runs.append((inputs, _state(supernet)))
    (inputs0, state0), (inputs1, state1) = runs
    assert [batch.shape for batch in inputs0] == [batch.shape for batch in inputs1]
    assert len({batch.shape[-1] for batch in inputs0}) > 1
    for batch0, batch1 in zip(inputs0, inputs1):
        np.testing.assert_array_equal(batch0, batch1)
    for name in state0:
        np.testing.assert_array_equal(state0[name], state1[name], err_msg=name)
