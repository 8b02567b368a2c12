"""Pairwise rank loss: a prior (FLOPs, params, ZenScore) orders the training losses of two subnets.

From the 3rd-place CVPR 2022 NAS Track 1 solution (RD-NAS, Dong et al., ICASSP 2023): of two
subnets trained in the same step, the one with the higher prior should reach the lower loss.
The loss is a hinge on the higher-prior subnet's loss only; the other loss is detached, so it
serves as a moving target and is not pushed up.
"""

from __future__ import annotations

import paddle
import paddle.nn.functional as F
from paddle import nn


def pairwise_rank_loss(
    prior_a: float,
    prior_b: float,
    loss_a: paddle.Tensor,
    loss_b: paddle.Tensor,
    margin: float = 0.0,
) -> paddle.Tensor:
    """``relu(loss_high - stop_grad(loss_low) + margin)`` for the pair ordered by prior.

    Args:
        prior_a: prior of subnet ``a`` (higher means "should be more accurate").
        prior_b: prior of subnet ``b``.
        loss_a: scalar training loss of ``a``.
        loss_b: scalar training loss of ``b``.
        margin: how far below the other loss the higher-prior loss must be; 0 in the reference.

    Returns:
        A scalar tensor. Zero (with zero gradient) when the priors are equal or when the
        higher-prior subnet's loss is already at least ``margin`` below the other's.
    """
    if margin < 0:
        raise ValueError(f"margin must be non-negative, got {margin}")
    if prior_a > prior_b:
        return F.relu(loss_a - loss_b.detach() + margin)
    if prior_b > prior_a:
        return F.relu(loss_b - loss_a.detach() + margin)
    return (loss_a + loss_b) * 0.0


def rank_weight(epoch: float, w_max: float, ramp: float) -> float:
    """Linear warm-up of the rank-loss weight: ``min(w_max, epoch / ramp)``.

    The reference ramps 0 -> 2 over 20 epochs (``w_max=2, ramp=10``), so the rank loss only
    bites once the supernet has learned something. ``ramp <= 0`` means no warm-up.
    """
    if ramp <= 0:
        return float(w_max)
    return float(min(w_max, epoch / ramp))


class PairwiseRankLoss(nn.Layer):
    """``forward(prior_a, prior_b, loss_a, loss_b) -> scalar``; see :func:`pairwise_rank_loss`."""

    def __init__(self, margin: float = 0.0) -> None:
        super().__init__()
        if margin < 0:
            raise ValueError(f"margin must be non-negative, got {margin}")
        self.margin = margin

    def forward(
        self, prior_a: float, prior_b: float, loss_a: paddle.Tensor, loss_b: paddle.Tensor
    ) -> paddle.Tensor:
        return pairwise_rank_loss(prior_a, prior_b, loss_a, loss_b, self.margin)
