"""Data-parallel training across processes started by ``paddle.distributed.launch``.

Gradients are averaged by hand instead of through ``paddle.DataParallel``: a supernet step
runs several forward/backward passes whose parameter sets differ (subnets skip blocks),
and DataParallel's reducer fires on every backward. Averaging once, after the last
backward of the step, over exactly the parameters whose gradient is not ``None``, keeps
the ranks identical with one collective per bucket and no unused-parameter bookkeeping.
Every rank samples the same subnets (the sampler's RNG depends on seed, epoch and step
only), so the set of parameters with a gradient is the same on every rank.

BatchNorm running statistics are local to each rank; :func:`average_buffers` averages
them before evaluation and checkpointing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Sequence

import paddle
import paddle.distributed as dist
from paddle import nn

logger = logging.getLogger(__name__)

#: Gradients are concatenated into buckets of about this many elements per all-reduce.
BUCKET_ELEMENTS = 8 * 1024 * 1024


@dataclass(frozen=True)
class DistInfo:
    """Rank of this process and number of processes."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints and logs."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed() -> DistInfo:
    """Initialise the process group when launched with more than one process."""
    env = dist.ParallelEnv()
    if env.world_size <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_parallel_env()
    info = DistInfo(rank=dist.get_rank(), world_size=dist.get_world_size())
    logger.info("distributed training: rank %d of %d", info.rank, info.world_size)
    return info


def _buckets(tensors: list[paddle.Tensor], limit: int) -> Iterable[list[paddle.Tensor]]:
    bucket: list[paddle.Tensor] = []
    size = 0
    for tensor in tensors:
        if bucket and size + tensor.size > limit:
            yield bucket
            bucket, size = [], 0
        bucket.append(tensor)
        size += tensor.size
    if bucket:
        yield bucket


@paddle.no_grad()
def allreduce_gradients(parameters: Iterable[paddle.Tensor], info: DistInfo) -> None:
    """Average the gradients of ``parameters`` that have one over all ranks (in place)."""
    if not info.enabled:
        return
    grads = [param.grad for param in parameters if param.grad is not None]
    for bucket in _buckets(grads, BUCKET_ELEMENTS):
        flat = paddle.concat([grad.flatten() for grad in bucket])
        dist.all_reduce(flat)
        flat = flat / info.world_size
        offset = 0
        for grad in bucket:
            grad.set_value(flat[offset:offset + grad.size].reshape(grad.shape))
            offset += grad.size


@paddle.no_grad()
def broadcast_state(network: nn.Layer, info: DistInfo) -> None:
    """Copy rank 0's parameters and buffers to every rank."""
    if not info.enabled:
        return
    for tensor in network.state_dict().values():
        dist.broadcast(tensor, src=0)


@paddle.no_grad()
def average_buffers(network: nn.Layer, info: DistInfo) -> None:
    """Average non-trainable floating-point state (BN running mean / variance) over all ranks.

    Paddle keeps BN statistics as parameters with ``stop_gradient=True``, not as buffers, so
    the state dict is scanned for every floating tensor that receives no gradient.
    """
    if not info.enabled:
        return
    for tensor in network.state_dict().values():
        if tensor.stop_gradient and tensor.dtype in (paddle.float32, paddle.float64, paddle.float16):
            dist.all_reduce(tensor)
            tensor.set_value(tensor / info.world_size)


def any_rank(flag: bool, info: DistInfo) -> bool:
    """True if ``flag`` is true on at least one rank (e.g. "my loss is not finite")."""
    if not info.enabled:
        return flag
    value = paddle.to_tensor([1.0 if flag else 0.0])
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def mean_over_ranks(values: Sequence[float], info: DistInfo) -> list[float]:
    """The element-wise mean of ``values`` over all ranks (unchanged when not distributed).

    Sampler feedback goes through this, so adaptive samplers (pools, scores) see the same
    numbers on every rank and keep sampling the same subnets. float64 keeps the single-process
    values exact.
    """
    values = [float(value) for value in values]
    if not info.enabled or not values:
        return values
    tensor = paddle.to_tensor(values, dtype="float64")
    dist.all_reduce(tensor)
    return [float(value) / info.world_size for value in tensor.numpy()]
