"""Optimizer and learning-rate schedule of supernet training.

SGD with momentum (optionally Nesterov), no weight decay on BatchNorm parameters and
biases, and a per-iteration schedule: linear warm-up from 0 to the peak rate, then a
cosine decay to ``min_lr``. Schedule lengths come from the real dataset size, batch size
and world size (:func:`schedule_lengths`); the reference solution assumed full ImageNet,
so on ImageNet-mini its warm-up never ended.

Derived values (the scaled learning rate, the warm-up length) are computed here from the
config and never written back into it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import paddle
from paddle import nn
from paddle.optimizer.lr import LRScheduler


@dataclass(frozen=True)
class ScheduleLengths:
    """Iteration counts of one run.

    Attributes:
        steps_per_epoch: optimizer steps in one epoch (batches per rank).
        total_steps: ``steps_per_epoch * epochs``.
        warmup_steps: linear warm-up iterations (``steps_per_epoch * warmup_epochs``, rounded).
    """

    steps_per_epoch: int
    total_steps: int
    warmup_steps: int


def schedule_lengths(
    num_train_images: int,
    batch_size: int,
    world_size: int,
    epochs: int,
    warmup_epochs: float,
    drop_last: bool = True,
) -> ScheduleLengths:
    """Steps per epoch, total steps and warm-up steps from the real dataset size.

    Args:
        num_train_images: images in the training split actually used.
        batch_size: images per rank per step.
        world_size: number of training processes.
        epochs: training epochs.
        warmup_epochs: epochs of linear warm-up (may be fractional).
        drop_last: whether the loader drops the last incomplete global batch.

    Raises:
        ValueError: on non-positive sizes or when one global batch exceeds the dataset.
    """
    if batch_size < 1 or world_size < 1 or epochs < 1 or num_train_images < 1:
        raise ValueError(
            f"need positive sizes, got images={num_train_images} batch={batch_size} "
            f"world={world_size} epochs={epochs}"
        )
    if warmup_epochs < 0:
        raise ValueError(f"warmup_epochs must be >= 0, got {warmup_epochs}")
    global_batch = batch_size * world_size
    per_epoch = num_train_images // global_batch if drop_last else math.ceil(num_train_images / global_batch)
    if per_epoch < 1:
        raise ValueError(
            f"{num_train_images} training images give no full batch of {batch_size} x {world_size} ranks"
        )
    total = per_epoch * epochs
    warmup = min(total, int(round(per_epoch * warmup_epochs)))
    return ScheduleLengths(steps_per_epoch=per_epoch, total_steps=total, warmup_steps=warmup)


def scaled_lr(base_lr: float, batch_size: int, world_size: int, reference_batch: int = 256) -> float:
    """Linear scaling rule: ``base_lr * batch_size * world_size / reference_batch``."""
    return base_lr * batch_size * world_size / reference_batch


def warmup_cosine_lr(
    step: int, peak_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0
) -> float:
    """Learning rate of iteration ``step`` (0-based, the step about to be taken).

    Linear warm-up ``peak_lr * (step + 1) / warmup_steps`` for the first ``warmup_steps``
    iterations, then ``min_lr + (peak_lr - min_lr) * (1 + cos(pi * t)) / 2`` with ``t``
    going from 0 to 1 over the remaining iterations. Steps past the end keep ``min_lr``.
    """
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return min_lr + (peak_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


class WarmupCosine(LRScheduler):
    """Paddle LR scheduler for :func:`warmup_cosine_lr`, stepped once per iteration.

    ``last_epoch`` counts iterations here; its ``state_dict`` (``last_epoch``, ``last_lr``)
    is what a checkpoint stores.
    """

    def __init__(self, peak_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> None:
        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {total_steps}")
        self.peak_lr = peak_lr
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_lr = min_lr
        super().__init__(learning_rate=peak_lr, last_epoch=-1, verbose=False)

    def get_lr(self) -> float:
        return warmup_cosine_lr(self.last_epoch, self.peak_lr, self.warmup_steps, self.total_steps, self.min_lr)


def split_decay_parameters(network: nn.Layer) -> tuple[list[paddle.Tensor], list[paddle.Tensor]]:
    """Trainable parameters split into (with weight decay, without weight decay).

    Parameters of rank <= 1 (BatchNorm scale/shift, conv and linear biases) get no weight
    decay; conv kernels and FC matrices do. Frozen tensors (BN running statistics, which
    Paddle lists among parameters with ``stop_gradient=True``) are left out.
    """
    decay: list[paddle.Tensor] = []
    no_decay: list[paddle.Tensor] = []
    for param in network.parameters():
        if param.stop_gradient:
            continue
        (decay if param.ndim > 1 else no_decay).append(param)
    return decay, no_decay


def build_optimizer(
    network: nn.Layer,
    learning_rate: float | LRScheduler,
    momentum: float,
    weight_decay: float,
    nesterov: bool = False,
    grad_clip_norm: float | None = None,
) -> paddle.optimizer.Momentum:
    """SGD with momentum over two parameter groups (see :func:`split_decay_parameters`).

    ``grad_clip_norm`` clips the global norm of the gradients present at ``step()``.

    Parameters whose gradient is ``None`` at ``step()`` (blocks the sampled subnets did not
    use) are skipped by Paddle: neither momentum nor weight decay moves them. The training
    step clears gradients with ``set_to_zero=False`` so that this holds.
    """
    decay, no_decay = split_decay_parameters(network)
    groups: list[dict[str, Any]] = [{"params": decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return paddle.optimizer.Momentum(
        learning_rate=learning_rate,
        momentum=momentum,
        parameters=groups,
        use_nesterov=nesterov,
        weight_decay=weight_decay,
        grad_clip=None if grad_clip_norm is None else paddle.nn.ClipGradByGlobalNorm(grad_clip_norm),
    )


@paddle.no_grad()
def permute_optimizer_state(optimizer: paddle.optimizer.Optimizer,
                            moves: list[tuple[paddle.Tensor, int, Any]]) -> int:
    """Apply each ``(parameter, axis, order)`` permutation to that parameter's optimizer state.

    After ``supernet.reorder_channels()`` moves channels, a channel's momentum must move with it,
    or the next updates push each channel with another channel's velocity. Every accumulator of
    the parameter's own shape (Momentum's velocity, Adam's moments) is permuted; accumulators
    Paddle has not created yet (a parameter no step has updated) need nothing.

    Returns:
        How many accumulator tensors were permuted.
    """
    state = optimizer.state_dict()  # the live accumulator tensors, keyed "<param name>_<accumulator>"
    count = 0
    for tensor, axis, order in moves:
        if tensor.stop_gradient:
            continue  # BN running statistics: no optimizer state
        index = paddle.to_tensor(order, dtype="int64")
        prefix = tensor.name + "_"
        for key, value in state.items():
            if key.startswith(prefix) and isinstance(value, paddle.Tensor) and value.shape == tensor.shape:
                value.set_value(paddle.index_select(value, index, axis=axis))
                count += 1
    return count
