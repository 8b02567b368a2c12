"""In-place distillation: soft-target cross-entropy and KL to the detached teacher."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from hnas.losses import InplaceKDLoss, cross_entropy, kl_to_teacher, soft_target_cross_entropy


def _logits(seed: int, shape: tuple[int, int] = (4, 5), scale: float = 2.0) -> paddle.Tensor:
    return paddle.to_tensor(np.random.default_rng(seed).normal(scale=scale, size=shape).astype("float32"))


def test_one_hot_teacher_reduces_to_cross_entropy() -> None:
    student = _logits(0)
    labels = paddle.to_tensor([1, 4, 0, 2])
    teacher = 1e4 * paddle.nn.functional.one_hot(labels, 5)  # softmax is exactly one-hot
    expected = float(cross_entropy(student, labels))
    assert float(soft_target_cross_entropy(student, teacher)) == pytest.approx(expected, rel=1e-6)
    assert float(kl_to_teacher(student, teacher)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("loss", [soft_target_cross_entropy, kl_to_teacher])
def test_student_equal_to_teacher_gets_zero_gradient(loss) -> None:
    student = _logits(1)
    student.stop_gradient = False
    loss(student, student.detach().clone()).backward()
    np.testing.assert_allclose(student.grad.numpy(), 0.0, atol=1e-7)


def test_kl_is_zero_at_the_teacher() -> None:
    student = _logits(2)
    assert float(kl_to_teacher(student, student)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_gradient_is_temperature_times_q_minus_p(temperature: float) -> None:
    student, teacher = _logits(3), _logits(4)
    student.stop_gradient = False
    teacher.stop_gradient = False
    soft_target_cross_entropy(student, teacher, temperature).backward()
    q = paddle.nn.functional.softmax(student / temperature).numpy()
    p = paddle.nn.functional.softmax(teacher / temperature).numpy()
    np.testing.assert_allclose(student.grad.numpy(), temperature * (q - p) / 4, atol=1e-6)
    assert teacher.grad is None  # detached inside: the teacher is never pushed by a student


def test_layer_kinds_share_gradients_and_differ_by_the_teacher_entropy() -> None:
    student, teacher = _logits(5), _logits(6)
    ce = float(InplaceKDLoss(kind="ce")(student, teacher))
    kl = float(InplaceKDLoss(kind="kl")(student, teacher))
    p = paddle.nn.functional.softmax(teacher).numpy()
    entropy = float(-(p * np.log(p)).sum(axis=1).mean())
    assert ce - kl == pytest.approx(entropy, rel=1e-5)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="temperature"):
        InplaceKDLoss(temperature=0.0)
    with pytest.raises(ValueError, match="kind"):
        InplaceKDLoss(kind="mse")
    with pytest.raises(ValueError, match="shapes differ"):
        soft_target_cross_entropy(_logits(0, (2, 3)), _logits(0, (2, 4)))
