"""Batch-norm recalibration of the active subnet before it is evaluated.

A supernet's BN running statistics are shared by every width and depth, so they describe the
mixture of subnets seen in training rather than the one being evaluated. Recalibration
("reset") replaces them by the exact mean of the per-batch statistics of the active subnet over
``N`` training batches (cumulative average, as ``momentum=None`` does in PyTorch and as
PaddleSlim's ``bn_calibration`` intends; cf. Yu & Huang, "Universally Slimmable Networks",
ICCV 2019). Mode "none" keeps the trained statistics.

Recalibrated statistics must not leak into the next architecture, whose active slices overlap.
:class:`BNStatsSnapshot` therefore copies the statistics once and :func:`recalibrated` restores
them after each evaluation, so every arch starts from the same (trained) state and results do
not depend on evaluation order, resumption or sharding.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Sequence, Sized

import paddle
from paddle import nn

from hnas.nn import BN_RECAL_MODES


def batch_norm_layers(model: nn.Layer) -> list[nn.Layer]:
    """Every batch-norm layer of ``model``: layers with running ``_mean``/``_variance`` and ``_momentum``.

    Covers ``paddle.nn.BatchNorm1D/2D/3D``, ``SyncBatchNorm`` and hnas' ``ElasticBatchNorm2D``.
    """
    return [
        layer
        for layer in model.sublayers(include_self=True)
        if all(hasattr(layer, name) for name in ("_mean", "_variance", "_momentum"))
    ]


def running_statistics(layer: nn.Layer) -> list[paddle.Tensor]:
    """The buffers a BN layer's forward pass updates: ``_mean`` and ``_variance``, plus the
    private per-width statistics of a :class:`~hnas.search_spaces.per_width_bn.PerWidthBatchNorm2D`."""
    if hasattr(layer, "running_statistics"):
        return list(layer.running_statistics())
    return [layer._mean, layer._variance]


class BNStatsSnapshot:
    """A copy of the running statistics of every BN layer, restorable in place."""

    def __init__(self, model: nn.Layer) -> None:
        self._tensors = [tensor for layer in batch_norm_layers(model) for tensor in running_statistics(layer)]
        with paddle.no_grad():
            self._saved = [tensor.clone() for tensor in self._tensors]

    def restore(self) -> None:
        """Write the saved statistics back into the same tensors (no new parameters)."""
        with paddle.no_grad():
            for tensor, saved in zip(self._tensors, self._saved):
                paddle.assign(saved, output=tensor)


def reset_running_stats(model: nn.Layer) -> None:
    """Set every BN layer's running mean to 0 and variance to 1 (all channels and widths)."""
    reset_layers(batch_norm_layers(model))


def reset_layers(layers: list[nn.Layer]) -> None:
    """:func:`reset_running_stats` of some BN layers only."""
    with paddle.no_grad():
        for layer in layers:
            layer._mean.zero_()
            layer._variance.fill_(1.0)
            if hasattr(layer, "reset_width_statistics"):
                layer.reset_width_statistics()


def recalibrate_bn(model: nn.Layer, batches: Iterable[paddle.Tensor], mode: str = "reset") -> None:
    """Recompute the BN running statistics of ``model``'s active subnet from ``batches``.

    Args:
        model: the supernet with the subnet already applied.
        batches: training images, each ``[N, C, H, W]`` at the subnet's resolution (any
            re-iterable; a list of tensors is fastest).
        mode: ``"none"`` (do nothing) or ``"reset"`` (reset, then cumulative mean over ``batches``).

    Paddle updates ``running = momentum * running + (1 - momentum) * batch_stat``; using
    ``momentum = t / (t + 1)`` for the ``t``-th batch (0-based) makes the running value the exact
    mean of the ``t + 1`` batch statistics (mean and biased variance, as the kernel computes
    them). Original momenta and the train/eval mode are restored afterwards.

    Raises:
        ValueError: for an unknown mode, or mode "reset" without batches.
    """
    if mode not in BN_RECAL_MODES:
        raise ValueError(f"unknown BN recalibration mode {mode!r}; known: {', '.join(BN_RECAL_MODES)}")
    if mode == "none":
        return
    if isinstance(batches, Sized) and len(batches) == 0:
        raise ValueError("BN recalibration 'reset' needs at least one training batch")
    reset_running_stats(model)
    if _cumulative_pass(model, batches) == 0:
        raise ValueError("BN recalibration 'reset' needs at least one training batch")


def _cumulative_pass(model: nn.Layer, batches: Iterable[paddle.Tensor]) -> int:
    """Run ``batches`` in train mode with momentum ``t / (t + 1)`` at batch ``t``; returns the batch count.

    Each statistic a batch touches becomes the exact mean over the batches (the first batch
    replaces whatever it held). Momenta and the train/eval mode are restored afterwards.
    """
    layers = batch_norm_layers(model)
    momenta = [layer._momentum for layer in layers]
    was_training = model.training
    model.train()
    steps = 0
    try:
        with paddle.no_grad():
            for steps, images in enumerate(batches, start=1):
                for layer in layers:
                    layer._momentum = (steps - 1) / steps
                model(images)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer._momentum = momentum
        model.train() if was_training else model.eval()
    return steps


@contextmanager
def recalibrated(
    model: nn.Layer,
    batches: Iterable[paddle.Tensor],
    mode: str,
    snapshot: BNStatsSnapshot | None = None,
) -> Iterator[None]:
    """Recalibrate BN for the body of the ``with`` block, then restore the previous statistics.

    Args:
        model: the supernet with the subnet already applied.
        batches: recalibration images (see :func:`recalibrate_bn`).
        mode: ``"none"`` or ``"reset"``; with ``"none"`` nothing is copied or changed.
        snapshot: statistics to restore; pass one taken once up front to avoid a copy per arch.
    """
    if mode == "none":
        yield
        return
    saved = snapshot if snapshot is not None else BNStatsSnapshot(model)
    try:
        recalibrate_bn(model, batches, mode)
        yield
    finally:
        saved.restore()


def reset_bn_per_width(model: nn.Layer, levels: Sequence[Any], batches: Iterable[paddle.Tensor]) -> None:
    """DS-Net's BN reset: every BN statistic reset, then each width level's re-estimated on ``batches``.

    For a supernet with per-width BN (:mod:`hnas.search_spaces.per_width_bn`): each level in
    turn is applied and :func:`recalibrate_bn` runs it over the same batches, which fills the
    private statistics of the width each layer has in that level (a layer every level runs at
    one width gets the same estimate each time). Every width any level uses ends up with the
    exact mean of its batch statistics over ``batches``; the active subnet is restored.

    Raises:
        ValueError: no levels or no batches.
    """
    if not levels:
        raise ValueError("BN reset needs at least one width level")
    batches = list(batches)
    if not batches:
        raise ValueError("BN reset needs at least one training batch")
    active = model.active_spec
    reset_running_stats(model)
    try:
        for level in levels:
            model.apply(level)
            _cumulative_pass(model, batches)
    finally:
        model.apply(active)
