"""In-place distillation: a subnet learns the supernet teacher's detached soft predictions.

The sandwich rule (Yu & Huang, "Universally Slimmable Networks", 2019; BigNAS; AutoSlim)
trains the largest subnet on labels and every other subnet of the step on the largest
subnet's output, computed in the same step and detached so no gradient reaches the teacher.
"""

from __future__ import annotations

import paddle
import paddle.nn.functional as F
from paddle import nn

from hnas.losses.registry import LOSSES

#: Values accepted by ``kind``: soft-target cross-entropy or KL divergence.
KD_KINDS: tuple[str, ...] = ("ce", "kl")


def soft_target_cross_entropy(
    student_logits: paddle.Tensor, teacher_logits: paddle.Tensor, temperature: float = 1.0
) -> paddle.Tensor:
    """Mean ``-sum_k p_k log q_k`` with ``p = softmax(teacher / T)``, ``q = softmax(student / T)``.

    The teacher is detached here, so callers cannot leak gradient into it. The result is
    multiplied by ``T**2`` (Hinton et al., 2015) so the gradient scale does not depend on
    ``T``. Its gradient with respect to the student logits is ``T * (q - p) / N``.

    Args:
        student_logits: ``[N, K]``.
        teacher_logits: ``[N, K]``; detached inside.
        temperature: softmax temperature ``T > 0``.

    Returns:
        A scalar tensor.
    """
    _check_pair(student_logits, teacher_logits, temperature)
    target = F.softmax(teacher_logits.detach() / temperature, axis=-1)
    log_q = F.log_softmax(student_logits / temperature, axis=-1)
    return -(target * log_q).sum(axis=-1).mean() * temperature**2


def kl_to_teacher(
    student_logits: paddle.Tensor, teacher_logits: paddle.Tensor, temperature: float = 1.0
) -> paddle.Tensor:
    """Mean ``KL(p || q)``: :func:`soft_target_cross_entropy` minus the teacher's entropy.

    Same gradient as the cross-entropy; the value is 0 when the student matches the teacher,
    which makes logs easier to read. Computed from log-probabilities, so ``p = 0`` entries
    contribute exactly 0.
    """
    _check_pair(student_logits, teacher_logits, temperature)
    log_p = F.log_softmax(teacher_logits.detach() / temperature, axis=-1)
    log_q = F.log_softmax(student_logits / temperature, axis=-1)
    return (log_p.exp() * (log_p - log_q)).sum(axis=-1).mean() * temperature**2


def _check_pair(student: paddle.Tensor, teacher: paddle.Tensor, temperature: float) -> None:
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if list(student.shape) != list(teacher.shape):
        raise ValueError(f"student {list(student.shape)} and teacher {list(teacher.shape)} shapes differ")


@LOSSES.register("kd")
class InplaceKDLoss(nn.Layer):
    """``forward(student_logits, teacher_logits) -> scalar``; registered as ``"kd"``.

    Args:
        temperature: softmax temperature; the loss is scaled by ``T**2``.
        kind: ``"ce"`` (soft-target cross-entropy, the sandwich-rule default) or ``"kl"``.
    """

    def __init__(self, temperature: float = 1.0, kind: str = "ce") -> None:
        super().__init__()
        if kind not in KD_KINDS:
            raise ValueError(f"kind must be one of {KD_KINDS}, got {kind!r}")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = temperature
        self.kind = kind

    def forward(self, student_logits: paddle.Tensor, teacher_logits: paddle.Tensor) -> paddle.Tensor:
        loss = soft_target_cross_entropy if self.kind == "ce" else kl_to_teacher
        return loss(student_logits, teacher_logits, self.temperature)
