"""Adaptive alpha-divergence: exact values, true gradients, and safety on extreme logits."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from hnas.losses import LOSSES, AlphaDivergenceLoss, adaptive_alpha_divergence, f_divergence

NO_CLIP = 1e30


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _divergence(student: np.ndarray, teacher: np.ndarray, alpha: float) -> np.ndarray:
    """Per-sample D_alpha(p || q) straight from the definition, in float64."""
    q, p = _softmax(student.astype(np.float64)), _softmax(teacher.astype(np.float64))
    if alpha == 1.0:
        return (p * np.log(p / q)).sum(axis=-1)
    if alpha == 0.0:
        return (q * np.log(q / p)).sum(axis=-1)
    return (q * ((p / q) ** alpha - 1.0)).sum(axis=-1) / (alpha * (alpha - 1.0))


def _adaptive(student: np.ndarray, teacher: np.ndarray) -> np.ndarray:
    return np.maximum(_divergence(student, teacher, -1.0), _divergence(student, teacher, 1.0))


def _pair(seed: int, shape: tuple[int, int] = (6, 5), scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    student, teacher = rng.normal(scale=scale, size=(2, *shape)).astype(np.float32)
    return student, teacher


def _grad(student: np.ndarray, teacher: np.ndarray, **kwargs) -> tuple[float, np.ndarray]:
    student_tensor = paddle.to_tensor(student, stop_gradient=False)
    loss = adaptive_alpha_divergence(student_tensor, paddle.to_tensor(teacher), **kwargs)
    loss.backward()
    return float(loss), student_tensor.grad.numpy()


@pytest.mark.parametrize("alpha", [-1.0, 0.0, 0.5, 1.0, 2.0])
def test_f_divergence_matches_the_definition(alpha: float) -> None:
    student, teacher = _pair(0)
    value, _ = f_divergence(paddle.to_tensor(student), paddle.to_tensor(teacher), alpha, iw_clip=NO_CLIP)
    np.testing.assert_allclose(value.numpy(), _divergence(student, teacher, alpha), rtol=1e-4, atol=1e-6)


def test_adaptive_loss_is_the_mean_of_the_larger_divergence() -> None:
    student, teacher = _pair(1)
    value, _ = _grad(student, teacher, iw_clip=NO_CLIP)
    assert value == pytest.approx(float(_adaptive(student, teacher).mean()), rel=1e-5)


def test_gradient_is_the_true_gradient_of_the_divergence() -> None:
    student, teacher = _pair(2, shape=(3, 4))
    _, grad = _grad(student, teacher, iw_clip=NO_CLIP)
    numeric = np.zeros_like(student, dtype=np.float64)
    step = 1e-5
    for index in np.ndindex(*student.shape):
        up, down = student.astype(np.float64), student.astype(np.float64)
        up[index] += step
        down[index] -= step
        numeric[index] = (_adaptive(up, teacher).mean() - _adaptive(down, teacher).mean()) / (2 * step)
    np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-5)


def test_zero_value_and_gradient_when_student_equals_teacher() -> None:
    student, _ = _pair(3, scale=3.0)
    value, grad = _grad(student, student.copy())
    assert value == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(grad, 0.0, atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_positive_when_student_differs(seed: int) -> None:
    student, teacher = _pair(seed, scale=2.0)
    value, _ = _grad(student, teacher)
    assert value > 0


def test_gradient_descent_moves_the_student_to_the_teacher() -> None:
    student, teacher = _pair(4, scale=2.0)
    first, _ = _grad(student, teacher)
    for _ in range(50):
        _, grad = _grad(student, teacher)
        student = student - 1.0 * grad
    assert _grad(student, teacher)[0] < 0.1 * first


@pytest.mark.parametrize(
    ("student", "teacher"),
    [
        ([[1e4, -1e4, 0.0]], [[-1e4, 1e4, 0.0]]),  # confidently wrong
        ([[1e4, -1e4, 0.0]], [[1e4, -1e4, 0.0]]),  # identical and saturated
        ([[0.0, 0.0, 0.0]], [[-1e4, 1e4, -1e4]]),  # uniform student, one-hot teacher
        ([[-1e4, 1e4, -1e4]], [[0.0, 0.0, 0.0]]),  # one-hot student, uniform teacher
    ],
)
def test_extreme_logits_stay_finite(student: list, teacher: list) -> None:
    value, grad = _grad(np.array(student, np.float32), np.array(teacher, np.float32))
    assert np.isfinite(value) and value >= 0
    assert np.isfinite(grad).all()


def test_extreme_logits_gradient_points_to_the_teacher_class() -> None:
    _, grad = _grad(np.array([[0.0, 0.0, 0.0]], np.float32), np.array([[-1e4, 1e4, -1e4]], np.float32))
    assert grad[0, 1] < 0 < grad[0, 0]  # descent raises the teacher's class, lowers the others
    _, grad = _grad(np.array([[1e3, -1e3, 0.0]], np.float32), np.array([[-1e3, 1e3, 0.0]], np.float32))
    assert grad[0, 1] < 0 < grad[0, 0]


def test_random_huge_logits_stay_finite() -> None:
    student, teacher = _pair(5, shape=(16, 10), scale=1e4)
    value, grad = _grad(student, teacher)
    assert np.isfinite(value) and np.isfinite(grad).all()


def test_clip_bounds_the_importance_weight() -> None:
    # alpha = -1 alone: D = sum q (q/p - 1) / 2 with q/p capped at iw_clip.
    student = paddle.to_tensor([[10.0, 0.0]])
    teacher = paddle.to_tensor([[0.0, 10.0]])
    value, _ = f_divergence(student, teacher, -1.0, iw_clip=5.0)
    q = _softmax(np.array([10.0, 0.0]))
    expected = (q[0] * min(q[0] / q[1], 5.0) + q[1] * (q[1] / q[0]) - 1.0) / 2.0
    assert float(value[0]) == pytest.approx(expected, rel=1e-5)


def test_teacher_gets_no_gradient_and_layer_matches_function() -> None:
    student, teacher = _pair(6)
    teacher_tensor = paddle.to_tensor(teacher, stop_gradient=False)
    layer = LOSSES.build("alpha", alpha_min=-1.0, alpha_max=1.0, iw_clip=5.0)
    assert isinstance(layer, AlphaDivergenceLoss)
    loss = layer(paddle.to_tensor(student, stop_gradient=False), teacher_tensor)
    loss.backward()
    assert teacher_tensor.grad is None
    expected = adaptive_alpha_divergence(paddle.to_tensor(student), paddle.to_tensor(teacher))
    assert float(loss) == pytest.approx(float(expected))


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="iw_clip"):
        AlphaDivergenceLoss(iw_clip=1.0)
    with pytest.raises(ValueError, match="alpha_min"):
        AlphaDivergenceLoss(alpha_min=1.0, alpha_max=-1.0)
