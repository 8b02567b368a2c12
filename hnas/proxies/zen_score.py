"""ZenScore (Lin et al., "Zen-NAS", ICCV 2021): a training-free expressivity proxy.

For a network ``f`` with Gaussian weights, ZenScore measures how strongly its pre-pooling
features react to a small input perturbation, corrected for the scale that BatchNorm
removes::

    zen = log( mean_batch sum_CHW |f(x) - f(x + gamma * eps)| ) + sum_BN log sqrt(mean_c var_c)

with ``x, eps ~ N(0, 1)``, every conv weight ``~ N(0, 1)``, BN ``gamma = 1, beta = 0`` and BN
in train mode. The score is averaged over ``repeats`` fresh draws of weights and inputs.

As in the 3rd-place CVPR 2022 Track 1 solution (``model_zennas``), ``f`` is the subnet
without residual shortcuts and without the pooling/classifier head; each family builds that
network (:meth:`~hnas.search_spaces.base.SearchSpace.zen_network`; for ResNet the stem
followed by every block's ``conv1 -> conv2`` chain, :mod:`hnas.search_spaces.resnet.zen`).

``var_c`` is the batch variance of channel ``c`` at each BN input during the clean forward,
the quantity train-mode BN divides by, as in the Zen-NAS paper. The reference code instead
read ``BN._variance`` (the running estimate) after the forward; under Paddle's momentum 0.9
that value stays dominated by its initial 1, so the BN term would barely depend on the
architecture.

The score is computed on a freshly built stand-alone network of the spec
(``space.build_standalone``), never on a trained supernet: the
caller's weights and BN statistics are untouched. All randomness comes from a local NumPy
generator seeded by ``seed``, and Paddle's global RNG state (consumed by the layer
initialisers while building the network) is restored afterwards, so calling this from a
training loop does not change the loop's random sequence.
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

import numpy as np
import paddle

from hnas.errors import HnasError
from hnas.search_spaces.base import SearchSpace, ZenNetwork

#: Cached ZenScores kept in memory by :func:`zen_score`.
CACHE_SIZE = 4096


@dataclass(frozen=True)
class ZenResult:
    """ZenScore over ``repeats`` draws: mean, standard deviation and 95 % CI half-width."""

    mean: float
    std: float
    ci95: float


def _gaussian_init(layers: list[Any], rng: np.random.Generator) -> None:
    """Conv weights ``~ N(0, 1)``; BN ``gamma = 1``, ``beta = 0``."""
    for layer in layers:
        weight = layer.conv.weight
        weight.set_value(rng.standard_normal(weight.shape, dtype=np.float32))
        layer.bn.weight.set_value(np.ones(layer.bn.weight.shape, dtype=np.float32))
        layer.bn.bias.set_value(np.zeros(layer.bn.bias.shape, dtype=np.float32))


@contextmanager
def _preserved_paddle_rng() -> Iterator[None]:
    """Restore Paddle's global generator state (CPU and the current device) on exit."""
    cpu_state = paddle.get_rng_state("cpu")
    device_state = None if paddle.get_device().startswith("cpu") else paddle.get_rng_state()
    try:
        yield
    finally:
        paddle.set_rng_state(cpu_state, "cpu")
        if device_state is not None:
            paddle.set_rng_state(device_state)


def _check_settings(batch_size: int, resolution: int, repeats: int, gamma: float) -> None:
    if batch_size < 1:
        raise HnasError(f"zen score: batch size must be >= 1, got {batch_size}")
    if resolution < 1:
        raise HnasError(f"zen score: resolution must be >= 1, got {resolution}")
    if repeats < 1:
        raise HnasError(f"zen score: repeats must be >= 1, got {repeats}")
    if not gamma > 0:
        raise HnasError(f"zen score: gamma must be positive, got {gamma}")


def _one_repeat(
    net: ZenNetwork, layers: list[Any], shape: tuple[int, ...], gamma: float, rng: np.random.Generator
) -> float:
    _gaussian_init(layers, rng)
    x = paddle.to_tensor(rng.standard_normal(shape, dtype=np.float32))
    noise = paddle.to_tensor(rng.standard_normal(shape, dtype=np.float32))
    bn_variances: list[float] = []
    clean = net.features(x, bn_variances)
    perturbed = net.features(x + gamma * noise)
    delta = float(paddle.abs(clean - perturbed).sum(axis=[1, 2, 3]).mean())
    return _log(delta) + sum(0.5 * _log(variance) for variance in bn_variances)


def _log(value: float) -> float:
    """``log`` that maps 0 (dead features, a constant BN input) to ``-inf`` instead of raising."""
    return math.log(value) if value > 0 else -math.inf


def compute_zen_score(
    space: SearchSpace,
    spec: Any,
    batch_size: int = 16,
    resolution: int | None = None,
    repeats: int = 32,
    gamma: float = 1e-2,
    seed: int = 0,
) -> ZenResult:
    """ZenScore of ``spec`` on a fresh shortcut-free network; deterministic for ``seed``.

    Args:
        space: the search space.
        spec: the subnet.
        batch_size: Gaussian inputs per repeat.
        resolution: input size; ``None`` uses ``spec.resolution``.
        repeats: independent draws of weights and inputs.
        gamma: perturbation scale.
        seed: seed of the local NumPy generator behind every draw.

    Returns:
        Mean, standard deviation (over repeats) and ``1.96 * std / sqrt(repeats)``.
    """
    resolution = spec.resolution if resolution is None else resolution
    _check_settings(batch_size, resolution, repeats, gamma)
    rng = np.random.default_rng(seed)
    shape = (batch_size, space.in_channels, resolution, resolution)
    with _preserved_paddle_rng(), paddle.no_grad(), warnings.catch_warnings():
        # Train-mode BN is intended here; Paddle warns about it on every call otherwise.
        warnings.filterwarnings("ignore", message="When training, we now always track global mean")
        net = space.zen_network(spec)
        net.train()
        layers = net.conv_bns()
        scores = np.array([_one_repeat(net, layers, shape, gamma, rng) for _ in range(repeats)])
    std = float(scores.std())
    return ZenResult(mean=float(scores.mean()), std=std, ci95=1.96 * std / math.sqrt(repeats))


@lru_cache(maxsize=CACHE_SIZE)
def _cached_zen_score(
    space: SearchSpace, code: str, batch_size: int, resolution: int | None, repeats: int, gamma: float, seed: int
) -> ZenResult:
    return compute_zen_score(space, space.decode(code), batch_size, resolution, repeats, gamma, seed)


def zen_score(
    space: SearchSpace,
    spec: Any,
    batch_size: int = 16,
    resolution: int | None = None,
    repeats: int = 32,
    gamma: float = 1e-2,
    seed: int = 0,
) -> ZenResult:
    """:func:`compute_zen_score` behind an in-memory LRU cache keyed by arch code and settings.

    The score is deterministic per ``(space, spec, settings)``, so repeated calls (the rank
    loss meets the same archs again, the CLI scores duplicates) are free.
    """
    resolution = spec.resolution if resolution is None else resolution
    return _cached_zen_score(space, space.encode(spec), batch_size, resolution, repeats, float(gamma), seed)


def clear_zen_cache() -> None:
    """Forget every cached score."""
    _cached_zen_score.cache_clear()
