"""Losses: how a sampled subnet is trained.

* :mod:`~hnas.losses.classification`: label-smoothed cross-entropy (teacher, single-path
  and rank-pair subnets);
* :mod:`~hnas.losses.inplace_kd` (``"kd"``) and :mod:`~hnas.losses.alpha_divergence`
  (``"alpha"``): distillation of a student to the teacher's detached logits, chosen through
  ``LOSSES``;
* :mod:`~hnas.losses.pairwise_rank`: the prior-ordered hinge between two subnets' losses
  and its weight schedule.

Each is a pure function plus a thin ``nn.Layer`` returning a scalar tensor.
"""

from hnas.losses.alpha_divergence import AlphaDivergenceLoss, adaptive_alpha_divergence, f_divergence
from hnas.losses.classification import CrossEntropyLoss, cross_entropy
from hnas.losses.inplace_kd import InplaceKDLoss, kl_to_teacher, soft_target_cross_entropy
from hnas.losses.pairwise_rank import PairwiseRankLoss, pairwise_rank_loss, rank_weight
from hnas.losses.registry import LOSSES

__all__ = [
    "LOSSES",
    "AlphaDivergenceLoss",
    "CrossEntropyLoss",
    "InplaceKDLoss",
    "PairwiseRankLoss",
    "adaptive_alpha_divergence",
    "cross_entropy",
    "f_divergence",
    "kl_to_teacher",
    "pairwise_rank_loss",
    "rank_weight",
    "soft_target_cross_entropy",
]
