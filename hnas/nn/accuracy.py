"""Top-1 / top-5 accuracy and mean loss of a network over validation batches: the one measurement
loop used by ``hnas eval``, the training callbacks, stand-alone training and search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import paddle
import paddle.nn.functional as F
from paddle import nn

#: A validation batch: images ``float32 [N, C, H, W]`` and labels ``int64 [N]``.
Batch = tuple[paddle.Tensor, paddle.Tensor]


@dataclass(frozen=True)
class Accuracy:
    """Accuracy of one subnet over a set of images.

    Attributes:
        top1: fraction of images whose highest logit is the label, in [0, 1].
        top5: fraction whose label is among the 5 highest logits (all logits if fewer classes).
        loss: mean cross-entropy per image, in nats.
        images: number of images measured.
    """

    top1: float
    top5: float
    loss: float
    images: int


def batch_sums(logits: paddle.Tensor, labels: paddle.Tensor) -> paddle.Tensor:
    """``[top-1 hits, top-5 hits, summed cross-entropy]`` of one batch, as a float32 tensor of 3."""
    k = min(5, logits.shape[-1])
    top = paddle.topk(logits, k=k, axis=-1)[1]
    hits = (top == labels.reshape([-1, 1]).astype(top.dtype)).astype("float32")
    loss = F.cross_entropy(logits, labels.reshape([-1, 1]), reduction="sum")
    return paddle.stack([hits[:, 0].sum(), hits.sum(), loss.reshape([])])


def accuracy_from_sums(sums: list[paddle.Tensor], images: int) -> Accuracy:
    """The :class:`Accuracy` of the :func:`batch_sums` of every batch, in batch order (one host sync).

    Raises:
        ValueError: if ``sums`` is empty.
    """
    if not sums:
        raise ValueError("no validation batches to measure")
    top1, top5, loss = (float(value) for value in paddle.stack(sums).sum(axis=0).numpy().astype("float64"))
    # Counts are exact integers in float32 up to 2**24 images per call; round to undo any drift.
    return Accuracy(top1=round(top1) / images, top5=round(top5) / images, loss=loss / images, images=images)


def measure_accuracy(model: nn.Layer, batches: Iterable[Batch]) -> Accuracy:
    """Top-1, top-5 and mean loss of ``model`` (eval mode, no grad) over ``batches``.

    Counts are accumulated as tensors and read once at the end, so there is one host sync
    per call, not one per batch.

    Raises:
        ValueError: if ``batches`` is empty.
    """
    was_training = model.training
    model.eval()
    sums: list[paddle.Tensor] = []
    images = 0
    try:
        with paddle.no_grad():
            for inputs, labels in batches:
                sums.append(batch_sums(model(inputs), labels))
                images += int(inputs.shape[0])
    finally:
        model.train() if was_training else model.eval()
    return accuracy_from_sums(sums, images)
