"""Every registered distillation loss: scalar, finite on extreme logits, teacher left alone."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from hnas.errors import HnasError
from hnas.losses import LOSSES

LOGIT_SCALES = [1.0, 30.0, 1e4]


@pytest.mark.parametrize("name", LOSSES.names())
@pytest.mark.parametrize("scale", LOGIT_SCALES)
def test_scalar_finite_and_teacher_detached(name: str, scale: float) -> None:
    rng = np.random.default_rng(0)
    student = paddle.to_tensor(rng.normal(scale=scale, size=(8, 10)).astype("float32"), stop_gradient=False)
    teacher = paddle.to_tensor(rng.normal(scale=scale, size=(8, 10)).astype("float32"), stop_gradient=False)
    loss = LOSSES.build(name)(student, teacher)
    loss.backward()
    assert loss.shape == []
    assert np.isfinite(float(loss)) and float(loss) >= 0
    assert np.isfinite(student.grad.numpy()).all()
    assert teacher.grad is None


@pytest.mark.parametrize("name", LOSSES.names())
def test_no_gradient_when_the_student_is_the_teacher(name: str) -> None:
    logits = np.random.default_rng(1).normal(scale=3.0, size=(4, 6)).astype("float32")
    student = paddle.to_tensor(logits, stop_gradient=False)
    LOSSES.build(name)(student, paddle.to_tensor(logits)).backward()
    np.testing.assert_allclose(student.grad.numpy(), 0.0, atol=1e-6)


def test_registry_names_and_unknown_name() -> None:
    assert LOSSES.names() == ["alpha", "kd"]
    with pytest.raises(HnasError, match="alpha, kd"):
        LOSSES.build("dkd")
