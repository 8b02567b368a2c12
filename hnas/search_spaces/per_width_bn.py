"""Per-width batch norm: private running statistics per width, shared affine parameters.

A slimmable network's shared BN (:class:`~hnas.search_spaces.ops.ElasticBatchNorm2D`) keeps one
set of running statistics for every width, so they describe a mixture of subnets. DS-Net
(Li et al., CVPR 2021; its ``DSBatchNorm2d``) gives each width choice of a layer its own
running mean and variance while the scale and shift stay shared, as in "Slimmable Neural
Networks" (Yu et al., ICLR 2019). :class:`PerWidthBatchNorm2D` does that for a fixed, ordered
tuple of channel counts.

A space opts in with the field ``bn: per_width`` (``shared`` is the default). It qualifies when
it names ordered **width levels**: a short tuple of subnets from narrowest to widest
(``SearchSpace.width_levels``, DS-Net's 14 ``uniform``-mode subnets). Each BN layer's widths are
the channel counts it sees across those levels (found from ``active_shapes``, so no family
code is involved); a subnet that gives a layer another channel count is refused. Spaces
without width levels (the ``resnet`` and ``mbv2`` families, whose width or expand choices are
independent per slot) refuse ``per_width`` with a message naming the spaces that take it.

State-dict layout: the shared ``weight`` / ``bias`` and, per width ``i``, ``width_mean`` /
``width_variance`` rows (``[len(widths), max_channels]``, the first ``widths[i]`` channels of
row ``i`` used). The inherited ``_mean`` / ``_variance`` are not used by the forward pass; an
exported stand-alone network gets the statistics of its width (:func:`export_width_statistics`).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import paddle
import paddle.nn.functional as F
from paddle import nn

from hnas.errors import HnasError
from hnas.search_spaces.ops import ElasticBatchNorm2D


class PerWidthBatchNorm2D(ElasticBatchNorm2D):
    """Elastic BN with one set of running statistics per channel count of ``widths``.

    Args:
        num_features: maximum channels (the shared affine parameters' size).
        widths: the channel counts this layer serves, each with private statistics.
        momentum: running-statistics momentum, Paddle convention.
        epsilon: added to the variance.
    """

    def __init__(self, num_features: int, widths: Sequence[int], momentum: float = 0.9,
                 epsilon: float = 1e-5) -> None:
        super().__init__(num_features, momentum=momentum, epsilon=epsilon)
        widths = tuple(sorted(set(int(w) for w in widths)))
        if not widths or widths[0] < 1 or widths[-1] > num_features:
            raise ValueError(f"per-width BN widths {widths} must lie in 1..{num_features}")
        self.widths = widths
        rows = [len(widths), num_features]
        self.register_buffer("width_mean", paddle.zeros(rows, dtype="float32"))
        self.register_buffer("width_variance", paddle.ones(rows, dtype="float32"))

    def width_index(self, channels: int) -> int:
        """Row of the statistics of ``channels``; raises ``HnasError`` for a width not in ``widths``."""
        try:
            return self.widths.index(channels)
        except ValueError:
            raise HnasError(f"per-width BN has statistics for {list(self.widths)} channels, got an input of "
                            f"{channels} (a subnet outside the space's width levels)") from None

    def width_statistics(self, channels: int) -> tuple[paddle.Tensor, paddle.Tensor]:
        """Copies of the running mean and variance of width ``channels`` (``[channels]`` each)."""
        row = self.width_index(channels)
        return self.width_mean[row, :channels].clone(), self.width_variance[row, :channels].clone()

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        channels = x.shape[1]
        row = self.width_index(channels)
        running_mean, running_var = self.width_statistics(channels)
        full = channels == self._num_features
        out = F.batch_norm(
            x, running_mean, running_var,
            weight=self.weight if full else self.weight[:channels],
            bias=self.bias if full else self.bias[:channels],
            training=self.training, momentum=self._momentum, epsilon=self._epsilon,
            data_format=self._data_format, use_global_stats=self._use_global_stats,
        )
        if self.training:
            with paddle.no_grad():  # F.batch_norm updated the copies in place
                self.width_mean[row, :channels] = running_mean
                self.width_variance[row, :channels] = running_var
        return out

    def running_statistics(self) -> list[paddle.Tensor]:
        """Every buffer the forward pass updates (what BN snapshots and resets must cover)."""
        return [self._mean, self._variance, self.width_mean, self.width_variance]

    @paddle.no_grad()
    def reset_width_statistics(self) -> None:
        """Mean 0 and variance 1 for every width."""
        self.width_mean.zero_()
        self.width_variance.fill_(1.0)


def bn_channel_counts(supernet: Any, levels: Iterable[Any]) -> dict[str, tuple[int, ...]]:
    """``{BN layer name: channel counts it sees across the subnets levels}`` from ``active_shapes``."""
    names = [name for name, layer in supernet.named_sublayers() if isinstance(layer, ElasticBatchNorm2D)]
    counts: dict[str, set[int]] = {name: set() for name in names}
    for spec in levels:
        shapes = supernet.active_shapes(spec)
        for name in names:
            shape = shapes.get(f"{name}.weight")
            if shape is not None:
                counts[name].add(int(shape[0]))
    return {name: tuple(sorted(values)) for name, values in counts.items() if values}


def use_per_width_bn(supernet: nn.Layer, levels: Sequence[Any]) -> nn.Layer:
    """Replace every elastic BN of ``supernet`` by a :class:`PerWidthBatchNorm2D` over the widths
    it sees across ``levels`` (its weights and statistics copied into every width); returns ``supernet``.

    Called by a family's ``build_supernet`` when its space has ``bn: per_width``.
    """
    for name, widths in bn_channel_counts(supernet, levels).items():
        parent_name, _, attribute = name.rpartition(".")
        parent = supernet if not parent_name else _sublayer(supernet, parent_name)
        old = getattr(parent, attribute)
        new = PerWidthBatchNorm2D(old.max_channels, widths, momentum=old._momentum, epsilon=old._epsilon)
        with paddle.no_grad():
            new.weight.set_value(old.weight)
            new.bias.set_value(old.bias)
            new._mean.set_value(old._mean)
            new._variance.set_value(old._variance)
            for row in range(len(widths)):
                new.width_mean[row] = old._mean
                new.width_variance[row] = old._variance
        setattr(parent, attribute, new)
    return supernet


def _sublayer(root: nn.Layer, dotted: str) -> nn.Layer:
    layer = root
    for part in dotted.split("."):
        layer = layer[int(part)] if part.isdigit() and isinstance(layer, (nn.LayerList, nn.Sequential)) \
            else getattr(layer, part)
    return layer


def per_width_layers(network: nn.Layer) -> dict[str, PerWidthBatchNorm2D]:
    """Every per-width BN of ``network`` by sublayer name."""
    return {name: layer for name, layer in network.named_sublayers() if isinstance(layer, PerWidthBatchNorm2D)}


@paddle.no_grad()
def export_width_statistics(supernet: nn.Layer, net: nn.Layer) -> nn.Layer:
    """Give the exported stand-alone ``net`` (same parameter names) each BN's statistics of its width."""
    state = net.state_dict()
    for name, layer in per_width_layers(supernet).items():
        target = state.get(f"{name}._mean")
        if target is None:
            continue
        mean, variance = layer.width_statistics(int(target.shape[0]))
        target.set_value(mean)
        state[f"{name}._variance"].set_value(variance)
    return net
