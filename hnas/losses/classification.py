"""Cross-entropy with ground-truth labels, optionally label-smoothed.

Used for the roles that see labels: the sandwich teacher, single-path (SPOS) subnets and the
members of rank-loss pairs (see :mod:`hnas.samplers.base`).
"""

from __future__ import annotations

import paddle
import paddle.nn.functional as F
from paddle import nn


def _flat_labels(labels: paddle.Tensor) -> paddle.Tensor:
    """Class indices as an int64 ``[N]`` tensor; Paddle datasets often yield ``[N, 1]``."""
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels.squeeze(1)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape [N] or [N, 1], got {list(labels.shape)}")
    return labels.astype("int64")


def cross_entropy(
    logits: paddle.Tensor, labels: paddle.Tensor, label_smoothing: float = 0.0
) -> paddle.Tensor:
    """Mean cross-entropy between ``softmax(logits)`` and (smoothed) one-hot labels.

    With smoothing ``eps`` over ``K`` classes the target is ``(1 - eps) * one_hot + eps / K``
    (Szegedy et al., 2016, "Rethinking the Inception Architecture"), so the loss is
    ``(1 - eps) * NLL + eps * mean_k(-log p_k)``.

    Args:
        logits: ``[N, K]`` unnormalised scores.
        labels: ``[N]`` or ``[N, 1]`` integer class indices.
        label_smoothing: ``eps`` in ``[0, 1)``; 0 gives the plain cross-entropy.

    Returns:
        A scalar tensor (mean over the batch).
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1), got {label_smoothing}")
    log_probs = F.log_softmax(logits, axis=-1)
    labels = _flat_labels(labels)
    nll = -paddle.take_along_axis(log_probs, labels.unsqueeze(1), axis=1).squeeze(1)
    if label_smoothing == 0.0:
        return nll.mean()
    uniform = -log_probs.mean(axis=-1)
    return ((1.0 - label_smoothing) * nll + label_smoothing * uniform).mean()


class CrossEntropyLoss(nn.Layer):
    """Layer form of :func:`cross_entropy`: ``forward(logits, labels) -> scalar``."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must lie in [0, 1), got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, logits: paddle.Tensor, labels: paddle.Tensor) -> paddle.Tensor:
        return cross_entropy(logits, labels, self.label_smoothing)
