"""Shared-prefix evaluation: run the common first layers of a group of subnets once.

Subnets whose :meth:`~hnas.search_spaces.base.SearchSpace.prefix_key` is equal compute the
same prefix (for ResNet: stem and stage 1). With per-arch BN recalibration ("reset") the
prefix's recalibrated statistics, and its outputs on the recalibration and validation images,
depend only on the prefix and the fixed images, so :func:`measure_group` computes them once
per group and runs only the rest of each subnet (the suffix) per arch.

What it computes is exactly what :class:`~hnas.nn.scorer.SubnetScorer.measure` computes per
arch, operation for operation:

* recalibration runs the whole subnet in train mode, batch by batch, with momentum
  ``(t - 1) / t`` at batch ``t``; a prefix layer therefore normalises with the *batch's*
  statistics and its output in that pass does not depend on running statistics. The group
  runs the prefix once per recalibration batch in train mode (which leaves the prefix's
  running statistics recalibrated) and feeds each arch's suffix those outputs, batch by batch,
  after resetting the suffix's statistics;
* validation runs in eval mode: the prefix (with its recalibrated statistics) once per
  validation batch, each arch's suffix with its own recalibrated statistics;
* top-1 / top-5 / loss are summed per batch and reduced once, as
  :func:`~hnas.nn.accuracy.measure_accuracy` does.

Memory stays bounded: groups hold at most ``max_group`` archs, and prefix outputs are kept
for at most ``cache_bytes`` worth of batches at a time. When the recalibration and validation
outputs each fit, every arch of the group is finished in turn; otherwise the images are
processed chunk by chunk and each arch keeps its suffix statistics (a copy of the suffix's
BN buffers) and per-batch sums between chunks.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable, Iterable, Iterator, Sequence

import paddle
from paddle import nn

from hnas.nn.accuracy import Accuracy, Batch, accuracy_from_sums, batch_sums
from hnas.nn.bn_recal import batch_norm_layers, reset_layers, running_statistics

#: Prefix outputs held at once per group (bytes); larger image sets are processed in chunks.
DEFAULT_CACHE_BYTES = 512 * 1024**2

#: Archs evaluated together on one prefix computation. Bounds the per-arch state kept and the
#: work a killed run loses (results are written as a group finishes); on the competition's test
#: file it turns 1,080 prefix groups into 1,392 runs, still sharing 97 % of the prefix work.
DEFAULT_MAX_GROUP = 64


def prefix_groups(
    specs: Sequence[Any], key_of: Callable[[Any], Hashable | None], max_group: int = DEFAULT_MAX_GROUP
) -> list[list[int]]:
    """Indices of ``specs`` grouped by prefix key, in order of each key's first spec.

    A ``None`` key is a group of its own; groups longer than ``max_group`` are cut into runs.
    """
    if max_group < 1:
        raise ValueError(f"max_group must be >= 1, got {max_group}")
    groups: dict[Hashable, list[int]] = {}
    for index, spec in enumerate(specs):
        key = key_of(spec)
        groups.setdefault(("single", index) if key is None else ("key", key), []).append(index)
    return [group[start : start + max_group] for group in groups.values() for start in range(0, len(group), max_group)]


def supports_shared_prefix(supernet: nn.Layer) -> bool:
    """Whether ``supernet`` has a space and can run a cut forward pass (a space whose
    ``prefix_key`` is ``None`` then still evaluates every subnet whole)."""
    return getattr(supernet, "space", None) is not None and all(
        hasattr(supernet, name) for name in ("forward_prefix", "forward_suffix", "prefix_layers")
    )


def _chunks(items: Iterator[tuple[paddle.Tensor, Any]], cache_bytes: int) -> Iterator[list[tuple[paddle.Tensor, Any]]]:
    """Consecutive runs of ``(output, extra)`` items whose outputs total about ``cache_bytes`` (at least one)."""
    chunk: list[tuple[paddle.Tensor, Any]] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += int(item[0].numel()) * item[0].element_size()
        if size >= cache_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _set_momentum(layers: list[nn.Layer], step: int) -> None:
    """Momentum ``(step - 1) / step``: the running value becomes the mean of the ``step`` batch statistics."""
    for layer in layers:
        layer._momentum = (step - 1) / step


class _Group:
    """One group's supernet state: prefix and suffix batch norms, mode and momenta to restore."""

    def __init__(self, supernet: nn.Layer, first_spec: Any) -> None:
        self.net = supernet
        supernet.apply(first_spec)
        prefix_ids = {id(layer) for part in supernet.prefix_layers() for layer in batch_norm_layers(part)}
        every = batch_norm_layers(supernet)
        self.prefix_bns = [layer for layer in every if id(layer) in prefix_ids]
        self.suffix_bns = [layer for layer in every if id(layer) not in prefix_ids]
        self.suffix_statistics = [tensor for layer in self.suffix_bns for tensor in running_statistics(layer)]
        self.momenta = [(layer, layer._momentum) for layer in every]
        self.was_training = supernet.training

    def restore_modes(self) -> None:
        for layer, momentum in self.momenta:
            layer._momentum = momentum
        self.net.train() if self.was_training else self.net.eval()

    @staticmethod
    def reset(layers: list[nn.Layer]) -> None:
        reset_layers(layers)

    def save_suffix(self) -> list[paddle.Tensor]:
        return [tensor.clone() for tensor in self.suffix_statistics]

    def load_suffix(self, saved: list[paddle.Tensor]) -> None:
        for tensor, value in zip(self.suffix_statistics, saved):
            paddle.assign(value, output=tensor)

    def recal_prefix(self, batches: Iterable[paddle.Tensor]) -> Iterator[tuple[paddle.Tensor, int]]:
        """Prefix outputs of the recalibration batches (train mode), with their 1-based step."""
        for step, images in enumerate(batches, start=1):
            _set_momentum(self.prefix_bns, step)
            yield self.net.forward_prefix(images), step

    def val_prefix(self, batches: Iterable[Batch]) -> Iterator[tuple[paddle.Tensor, paddle.Tensor]]:
        for images, labels in batches:
            yield self.net.forward_prefix(images), labels

    def recal_suffix(self, chunk: list[tuple[paddle.Tensor, int]]) -> None:
        for output, step in chunk:
            _set_momentum(self.suffix_bns, step)
            self.net.forward_suffix(output)

    def val_suffix(self, chunk: list[tuple[paddle.Tensor, paddle.Tensor]], sums: list[paddle.Tensor]) -> None:
        for output, labels in chunk:
            sums.append(batch_sums(self.net.forward_suffix(output), labels))


def measure_group(
    supernet: nn.Layer,
    specs: Sequence[Any],
    val_batches: Iterable[Batch],
    recal_batches: Iterable[paddle.Tensor],
    recal_mode: str,
    cache_bytes: int = DEFAULT_CACHE_BYTES,
) -> list[Accuracy]:
    """Accuracy of every spec of a group sharing one prefix key, computing the prefix once.

    Leaves BN statistics recalibrated (the caller restores its snapshot) and the supernet in
    its original train/eval mode with the last spec applied.

    Raises:
        ValueError: empty group, ``"reset"`` without recalibration batches, or no validation batches.
    """
    if not specs:
        raise ValueError("an empty group has nothing to measure")
    group = _Group(supernet, specs[0])
    recal = recal_mode == "reset"
    sums: list[list[paddle.Tensor]] = [[] for _ in specs]
    try:
        with paddle.no_grad():
            recal_chunks: list[list[tuple[paddle.Tensor, int]]] = []
            rest_recal: Iterator[list[tuple[paddle.Tensor, int]]] = iter(())
            if recal:
                group.reset(group.prefix_bns)
                supernet.train()
                rest_recal = _chunks(group.recal_prefix(recal_batches), cache_bytes)
                recal_chunks = _peek_two(rest_recal)
                if not recal_chunks:
                    raise ValueError("BN recalibration 'reset' needs at least one training batch")
            saved: list[list[paddle.Tensor]] = []
            if len(recal_chunks) > 1:  # the prefix outputs do not fit at once: keep each arch's statistics
                saved = _recalibrate_in_chunks(group, specs, _chain(recal_chunks, rest_recal))
            supernet.eval()
            rest_val = _chunks(group.val_prefix(val_batches), cache_bytes)
            val_chunks = _peek_two(rest_val)
            if len(val_chunks) == 1 and not saved:
                # Everything fits: finish each arch in turn (no statistics to keep between archs).
                for index, spec in enumerate(specs):
                    supernet.apply(spec)
                    if recal:
                        group.reset(group.suffix_bns)
                        supernet.train()
                        group.recal_suffix(recal_chunks[0])
                        supernet.eval()
                    group.val_suffix(val_chunks[0], sums[index])
                images = _images(val_chunks[0])
            else:
                if recal and not saved:
                    supernet.train()
                    saved = _recalibrate_in_chunks(group, specs, iter(recal_chunks))
                    supernet.eval()
                images = 0
                for chunk in _chain(val_chunks, rest_val):
                    images += _images(chunk)
                    for index, spec in enumerate(specs):
                        supernet.apply(spec)
                        if recal:
                            group.load_suffix(saved[index])
                        group.val_suffix(chunk, sums[index])
    finally:
        group.restore_modes()
    return [accuracy_from_sums(arch_sums, images) for arch_sums in sums]


def _peek_two(chunks: Iterator[list[Any]]) -> list[list[Any]]:
    """The first one or two chunks (two tell that the outputs do not fit at once)."""
    return [chunk for _, chunk in zip(range(2), chunks)]  # range first: zip must not pull a third chunk


def _images(chunk: list[tuple[paddle.Tensor, Any]]) -> int:
    return sum(int(output.shape[0]) for output, _ in chunk)


def _chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


def _recalibrate_in_chunks(
    group: _Group, specs: Sequence[Any], chunks: Iterator[list[tuple[paddle.Tensor, int]]]
) -> list[list[paddle.Tensor]]:
    """Each spec's recalibrated suffix statistics, feeding the suffix one chunk of prefix outputs at a time."""
    saved: list[list[paddle.Tensor]] = []
    for number, chunk in enumerate(chunks):
        for index, spec in enumerate(specs):
            group.net.apply(spec)
            if number == 0:
                group.reset(group.suffix_bns)
            else:
                group.load_suffix(saved[index])
            group.recal_suffix(chunk)
            if number == 0:
                saved.append(group.save_suffix())
            else:
                saved[index] = group.save_suffix()
    return saved
