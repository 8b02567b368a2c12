"""A supernet with trained-like BN statistics and fixed random data, for the shared-prefix tests
(:mod:`hnas.nn.shared_prefix`, :mod:`hnas.search.scoring`)."""

from __future__ import annotations

import numpy as np
import paddle

from hnas.nn.bn_recal import batch_norm_layers
from hnas.search_spaces.spaces import SPACES


def trained_like(space_name: str) -> paddle.nn.Layer:
    """A supernet of the space with non-default BN statistics (as after training), in eval mode."""
    paddle.seed(1)
    net = SPACES.get(space_name).build_supernet()
    rng = np.random.default_rng(1)
    with paddle.no_grad():
        for layer in batch_norm_layers(net):
            layer._mean.set_value(rng.normal(0, 0.1, layer._mean.shape).astype("float32"))
            layer._variance.set_value(rng.uniform(0.5, 2.0, layer._variance.shape).astype("float32"))
    net.eval()
    return net


def random_data(in_channels: int) -> tuple[list, list]:
    """Validation batches of 8, 8 and 5 labelled 28 px images and 3 recalibration batches of 8."""
    rng = np.random.default_rng(2)
    val = [(paddle.to_tensor(rng.normal(size=(size, in_channels, 28, 28)).astype("float32")),
            paddle.to_tensor(rng.integers(0, 10, size).astype("int64"))) for size in (8, 8, 5)]
    recal = [paddle.to_tensor(rng.normal(0.3, 1.2, size=(8, in_channels, 28, 28)).astype("float32")) for _ in range(3)]
    return val, recal
