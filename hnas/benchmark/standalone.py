"""Stand-alone training of one architecture with a fixed recipe: one ground-truth measurement.

The network is the plain ResNet of the spec (``space.build_standalone(spec)``),
not a supernet slice. The seed fixes the weight initialisation, the batch order and the
augmentation; the validation images are fixed by the recipe, so two seeds of one arch differ
only in training randomness.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import paddle
import paddle.nn.functional as F

import hnas.data.multimnist  # noqa: F401  (registers "multi_mnist")
from hnas.benchmark.recipe import Recipe
from hnas.data import SeededDataset, build_dataset, make_loader, set_epoch, to_arrays
from hnas.data.subset import Subset
from hnas.errors import HnasError
from hnas.evaluation.eval_data import batched
from hnas.nn.accuracy import Batch, measure_accuracy
from hnas.nn.optim import WarmupCosine, build_optimizer
from hnas.nn.resize import at_resolution, resize_images
from hnas.nn.state_dict import load_into
from hnas.search_spaces.base import SearchSpace, Spec
from hnas.search_spaces.spaces import resolve_space

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StandaloneResult:
    """One stand-alone training run.

    Attributes:
        acc: top-1 accuracy on the recipe's val images, in [0, 1].
        val_loss: mean val cross-entropy in nats.
        train_loss: mean training loss over the last epoch.
        steps: optimizer steps taken.
        seconds: wall time of training plus evaluation.
    """

    acc: float
    val_loss: float
    train_loss: float
    steps: int
    seconds: float


@dataclass(frozen=True)
class BenchData:
    """The datasets of a recipe, built once and shared by many runs.

    Attributes:
        space: the search space adapted to the data (classes, input channels).
        train: the training split.
        val_batches: the fixed validation images as tensor batches.
    """

    space: SearchSpace
    train: SeededDataset
    val_batches: Sequence[Batch]


def load_bench_data(recipe: Recipe) -> BenchData:
    """Build the space and the train / val data of ``recipe`` (val decoded into tensors once).

    A ``root`` entry of ``recipe.data_args`` is the dataset's folder (``--data-arg root=DIR``, e.g. an
    ``imagefolder``); the other entries are the dataset's options.
    """
    args = dict(recipe.data_args)
    root = args.pop("root", None)
    train = build_dataset(recipe.data, root, "train", **args)
    val = build_dataset(recipe.data, root, "val", **args)
    if recipe.max_val_images is not None and recipe.max_val_images < len(val):
        val = Subset(val, np.arange(recipe.max_val_images))
    space = resolve_space(recipe.space, train.info.space_overrides())
    images, labels = to_arrays(val)
    if images.shape[-1] not in space.resolutions:
        raise HnasError(f"recipe: data {recipe.data!r} gives {images.shape[-1]} px images but space "
                        f"{recipe.space!r} expects {list(space.resolutions)}")
    return BenchData(space=space, train=train, val_batches=batched(images, labels, recipe.eval_batch_size))


def steps_per_epoch(recipe: Recipe, train_size: int) -> int:
    """Optimizer steps in one epoch (incomplete last batches are dropped)."""
    steps = train_size // recipe.batch_size
    if recipe.max_train_batches is not None:
        steps = min(steps, recipe.max_train_batches)
    if steps < 1:
        raise HnasError(f"recipe: {train_size} training images give no batch of {recipe.batch_size}")
    return steps


def initial_network(space: SearchSpace, spec: Spec, recipe: Recipe,
                    init_state: Mapping[str, Any] | None = None) -> paddle.nn.Layer:
    """The network training starts from: freshly initialised, or holding ``init_state`` (an export's
    weights, ``hnas export``), checked key by key and shape by shape."""
    network = space.build_standalone(spec, zero_init_residual=recipe.zero_init_residual)
    if init_state is not None:
        load_into(network, init_state, source="--init-from")
    return network


def train_standalone(
    spec: Spec, recipe: Recipe, seed: int, data: BenchData, init_state: Mapping[str, Any] | None = None
) -> StandaloneResult:
    """Train ``spec`` from scratch with ``recipe`` and ``seed``, then measure val top-1.

    Args:
        spec: the architecture (a member of ``data.space``).
        recipe: the fixed training recipe.
        seed: non-negative seed of initialisation, batch order and augmentation.
        data: from :func:`load_bench_data` with the same recipe.
        init_state: start from these weights (an export's) instead of a fresh initialisation.
    """
    if seed < 0:
        raise HnasError(f"seed must be >= 0, got {seed}")
    start = time.monotonic()
    paddle.seed(seed)
    network = initial_network(data.space, spec, recipe, init_state)
    per_epoch = steps_per_epoch(recipe, len(data.train))
    total = per_epoch * recipe.epochs
    schedule = WarmupCosine(recipe.lr, int(recipe.warmup_fraction * total), total)
    # SGD with Nesterov momentum, weight decay on kernels only, optional global-norm clipping.
    optimizer = build_optimizer(network, schedule, recipe.momentum, recipe.weight_decay, nesterov=True,
                                grad_clip_norm=recipe.grad_clip)
    loader = make_loader(data.train, recipe.batch_size, shuffle=True, drop_last=True, seed=seed)
    network.train()
    train_loss = math.nan
    for epoch in range(recipe.epochs):
        set_epoch(loader, epoch)
        losses = []
        for step, (images, labels) in enumerate(loader):
            if step >= per_epoch:
                break
            loss = F.cross_entropy(network(resize_images(images, spec.resolution)), labels.reshape([-1, 1]))
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            schedule.step()
            losses.append(loss)
        train_loss = float(paddle.stack(losses).mean())
        logger.debug("epoch %d: train loss %.4f", epoch, train_loss)
    accuracy = measure_accuracy(network, at_resolution(data.val_batches, spec.resolution))
    return StandaloneResult(acc=accuracy.top1, val_loss=accuracy.loss, train_loss=train_loss,
                            steps=total, seconds=time.monotonic() - start)
