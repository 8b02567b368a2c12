"""Stage II's loss: the SGS gate target, the routed network's cross-entropy and the MAdds penalty.

Sandwich gate sparsification (SGS, DS-Net stage II): the smallest subnet classifies the batch
(no gradient); an image it gets right is *easy* and its gate target is the narrowest routed
width (option 0), any other image's target is the widest routed width (option ``K - 1``).
The total loss is

    CE_ls(gate logits, SGS target) + CE(routed output, label) + lambda * (MAdds / 1e9) ** 2

with MAdds the batch mean of each image's routed MAdds, differentiable through the
straight-through one-hot. DS-Net's code applies a softmax to the gate's output and then a
cross-entropy that applies its own softmax (twice in all); here the cross-entropy takes the
gate's logits once, which is the loss the paper writes down (the double softmax squashes the
probabilities towards uniform and weakens the target's pull).
"""

from __future__ import annotations

from dataclasses import dataclass

import paddle

from hnas.losses import cross_entropy


def sgs_targets(smallest_logits: paddle.Tensor, labels: paddle.Tensor, options: int) -> paddle.Tensor:
    """``int64 [N]``: 0 where the smallest subnet's top-1 is right, ``options - 1`` elsewhere."""
    correct = paddle.argmax(smallest_logits, axis=-1) == labels.reshape([-1])
    return paddle.where(correct, paddle.zeros_like(labels.reshape([-1])),
                        paddle.full_like(labels.reshape([-1]), options - 1)).astype("int64")


@dataclass
class GateLoss:
    """The stage II loss terms (tensors; ``total`` is back-propagated)."""

    total: paddle.Tensor
    gate_ce: paddle.Tensor
    routed_ce: paddle.Tensor
    madds_penalty: paddle.Tensor
    mean_madds: paddle.Tensor


def gate_loss(
    routed_logits: paddle.Tensor,
    gate_logits: paddle.Tensor,
    one_hot: paddle.Tensor,
    option_madds: paddle.Tensor,
    targets: paddle.Tensor,
    labels: paddle.Tensor,
    madds_lambda: float,
    gate_smoothing: float = 0.1,
) -> GateLoss:
    """Stage II's loss (see the module docstring).

    Args:
        routed_logits: ``[N, classes]`` output of the routed network.
        gate_logits: ``[N, K]`` slimming-head logits.
        one_hot: ``[N, K]`` straight-through routing.
        option_madds: ``[K]`` MAdds of one image through each routed width.
        targets: SGS targets (:func:`sgs_targets`).
        labels: ``[N]`` or ``[N, 1]`` class labels.
        madds_lambda: weight of the squared MAdds (in G) penalty, >= 0.
        gate_smoothing: label smoothing of the gate's cross-entropy (DS-Net: 0.1).
    """
    gate_ce = cross_entropy(gate_logits, targets, gate_smoothing)
    routed_ce = cross_entropy(routed_logits, labels)
    mean_madds = (one_hot * option_madds.reshape([1, -1])).sum(axis=-1).mean()
    penalty = madds_lambda * (mean_madds / 1e9) ** 2
    return GateLoss(gate_ce + routed_ce + penalty, gate_ce, routed_ce, penalty, mean_madds)
