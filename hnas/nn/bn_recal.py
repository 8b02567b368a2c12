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
from typing import Iterable, Iterator, Sized

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


class BNStatsSnapshot:
    """A copy of the running mean and variance of every BN layer, restorable in place."""

    def __init__(self, model: nn.Layer) -> None:
        self._layers = batch_norm_layers(model)
        with paddle.no_grad():
            self._saved = [(layer._mean.clone(), layer._variance.clone()) for layer in self._layers]

    def restore(self) -> None:
        """Write the saved statistics back into the same tensors (no new parameters)."""
        with paddle.no_grad():
            for layer, (mean, variance) in zip(self._layers, self._saved):
                paddle.assign(mean, output=layer._mean)
                paddle.assign(variance, output=layer._variance)


def reset_running_stats(model: nn.Layer) -> None:
    """Set every BN layer's running mean to 0 and variance to 1 (all channels, active or not)."""
    with paddle.no_grad():
        for layer in batch_norm_layers(model):
            layer._mean.zero_()
            layer._variance.fill_(1.0)


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
    layers = batch_norm_layers(model)
    momenta = [layer._momentum for layer in layers]
    was_training = model.training
    reset_running_stats(model)
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
    if steps == 0:
        raise ValueError("BN recalibration 'reset' needs at least one training batch")


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
