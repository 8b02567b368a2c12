"""Adaptive alpha-divergence distillation (AlphaNet; Wang et al., ICML 2021).

``p`` is the teacher (the largest subnet, detached) and ``q`` the student. With the
importance weight ``w = p / q``::

    D_alpha(p || q) = sum_k q_k * (w_k**alpha - 1) / (alpha * (alpha - 1))

``alpha -> 1`` gives ``KL(p || q)`` and ``alpha -> 0`` gives ``KL(q || p)``. AlphaNet takes,
per sample, whichever of ``D_{alpha_min}`` and ``D_{alpha_max}`` is larger, so the student is
penalised both for missing the teacher's modes (alpha > 0) and for putting mass where the
teacher has none (alpha < 0). ``w**alpha`` is capped at ``iw_clip`` because ``(q / p)`` can
be astronomically large for alpha < 0.

Numerical guards (the reference implementation NaNs on confident logits, AlphaNet issue #6):

* ``log w = log_softmax(teacher) - log_softmax(student)``, never ``p / q``;
* the cap is applied to ``alpha * log w`` before ``exp``;
* products ``q * w**alpha`` are formed as ``exp(log q + alpha * log w)``, so ``0 * inf``
  never occurs;
* the KL branch (alpha = 1) uses ``p`` directly, whose gradient ``q - p`` is bounded.

The value returned is the chosen divergence; its gradient is the analytic gradient of that
divergence with respect to the student logits, ``d D / d q_k = -rho_k`` with
``rho = w**alpha / alpha + 1 / (alpha * (alpha - 1))``, back-propagated through the
surrogate ``-sum_k stop_grad(q_k * rho_k) * log q_k``.
"""

from __future__ import annotations

import math

import paddle
import paddle.nn.functional as F
from paddle import nn

from hnas.losses.registry import LOSSES

_ALPHA_TOLERANCE = 1e-3


def f_divergence(
    student_logits: paddle.Tensor,
    teacher_logits: paddle.Tensor,
    alpha: float,
    iw_clip: float = 5.0,
) -> tuple[paddle.Tensor, paddle.Tensor]:
    """Per-sample ``D_alpha(p || q)`` and its gradient surrogate.

    Args:
        student_logits: ``[N, K]`` logits of ``q``; gradient flows only through them.
        teacher_logits: ``[N, K]`` logits of ``p``; detached inside.
        alpha: the divergence order.
        iw_clip: cap on ``w**alpha`` (and on ``w`` for ``alpha = 0``); must exceed 1.

    Returns:
        ``(divergence, surrogate)``, both ``[N]``. ``divergence`` carries no gradient;
        ``surrogate`` has the value of no particular quantity but the gradient of
        ``divergence`` with respect to ``student_logits``.
    """
    if iw_clip <= 1.0:
        raise ValueError(f"iw_clip must exceed 1, got {iw_clip}")
    log_q = F.log_softmax(student_logits, axis=-1)
    log_q_fixed = log_q.detach()
    log_p = F.log_softmax(teacher_logits.detach(), axis=-1)
    log_w = log_p - log_q_fixed
    q = log_q_fixed.exp()
    log_clip = math.log(iw_clip)

    if abs(alpha - 1.0) < _ALPHA_TOLERANCE:
        p = log_p.exp()
        divergence = (p * log_w).sum(axis=-1)
        q_rho = p
    elif abs(alpha) < _ALPHA_TOLERANCE:
        divergence = -(q * log_w).sum(axis=-1)
        q_rho = q * (paddle.clip(log_w, max=log_clip) - 1.0)
    else:
        scale = 1.0 / (alpha * (alpha - 1.0))
        q_w_alpha = (log_q_fixed + paddle.clip(alpha * log_w, max=log_clip)).exp()
        divergence = (q_w_alpha - q).sum(axis=-1) * scale
        q_rho = q_w_alpha / alpha + q * scale

    surrogate = -(q_rho.detach() * log_q).sum(axis=-1)
    return divergence.detach(), surrogate


def adaptive_alpha_divergence(
    student_logits: paddle.Tensor,
    teacher_logits: paddle.Tensor,
    alpha_min: float = -1.0,
    alpha_max: float = 1.0,
    iw_clip: float = 5.0,
) -> paddle.Tensor:
    """Batch mean of ``max(D_{alpha_min}, D_{alpha_max})`` per sample (AlphaNet's loss).

    The value equals that mean divergence (0 when student and teacher agree); the gradient
    with respect to ``student_logits`` is that of the selected divergence of each sample.

    Args:
        student_logits: ``[N, K]``.
        teacher_logits: ``[N, K]``; detached inside.
        alpha_min: negative order (mass-covering penalty), AlphaNet default -1.
        alpha_max: positive order (mode-seeking penalty), AlphaNet default 1.
        iw_clip: cap on the importance weight ``w**alpha``.

    Returns:
        A scalar tensor.
    """
    if list(student_logits.shape) != list(teacher_logits.shape):
        raise ValueError(
            f"student {list(student_logits.shape)} and teacher {list(teacher_logits.shape)} shapes differ"
        )
    if alpha_min > alpha_max:
        raise ValueError(f"alpha_min {alpha_min} exceeds alpha_max {alpha_max}")
    value_low, surrogate_low = f_divergence(student_logits, teacher_logits, alpha_min, iw_clip)
    value_high, surrogate_high = f_divergence(student_logits, teacher_logits, alpha_max, iw_clip)
    pick_low = (value_low > value_high).astype(surrogate_low.dtype)
    value = paddle.maximum(value_low, value_high)
    surrogate = pick_low * surrogate_low + (1.0 - pick_low) * surrogate_high
    # Straight-through: report the divergence, back-propagate the surrogate's gradient.
    return (value + (surrogate - surrogate.detach())).mean()


@LOSSES.register("alpha")
class AlphaDivergenceLoss(nn.Layer):
    """``forward(student_logits, teacher_logits) -> scalar``; registered as ``"alpha"``."""

    def __init__(self, alpha_min: float = -1.0, alpha_max: float = 1.0, iw_clip: float = 5.0) -> None:
        super().__init__()
        if alpha_min > alpha_max:
            raise ValueError(f"alpha_min {alpha_min} exceeds alpha_max {alpha_max}")
        if iw_clip <= 1.0:
            raise ValueError(f"iw_clip must exceed 1, got {iw_clip}")
        self.alpha_min = alpha_min
        self.alpha_max = alpha_max
        self.iw_clip = iw_clip

    def forward(self, student_logits: paddle.Tensor, teacher_logits: paddle.Tensor) -> paddle.Tensor:
        return adaptive_alpha_divergence(
            student_logits, teacher_logits, self.alpha_min, self.alpha_max, self.iw_clip
        )
