"""Test-wide settings: Paddle on CPU and a fixed seed before every test (if Paddle is installed)."""

from __future__ import annotations

import importlib.util
import random
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pytest

from hnas.search_spaces.resnet import ResNetSpace
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import SPACES

if TYPE_CHECKING:
    import paddle

    from hnas.search_spaces.resnet.supernet import ResNetSupernet

SEED = 0
HAS_PADDLE = importlib.util.find_spec("paddle") is not None


def pytest_configure(config: pytest.Config) -> None:
    if HAS_PADDLE:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
            import paddle

        paddle.set_device("cpu")


@pytest.fixture(autouse=True)
def _fixed_seed() -> None:
    """Every test starts from the same random state, whatever ran before it."""
    random.seed(SEED)
    np.random.seed(SEED)
    if HAS_PADDLE:
        import paddle

        paddle.seed(SEED)


# Tiny supernets and images shared by the evaluation and nn tests (tests/engine overrides tiny_space).


@pytest.fixture
def tiny_space() -> ResNetSpace:
    return SPACES.get("resnet48_tiny")


@pytest.fixture
def supernet(tiny_space: ResNetSpace) -> ResNetSupernet:
    """A seeded tiny supernet whose BN statistics are not the defaults (as after training)."""
    import paddle

    paddle.seed(1)
    net = tiny_space.build_supernet()
    rng = np.random.default_rng(1)
    with paddle.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith("_mean"):
                tensor.set_value(rng.normal(0, 0.1, tensor.shape).astype("float32"))
            elif name.endswith("_variance"):
                tensor.set_value(rng.uniform(0.5, 2.0, tensor.shape).astype("float32"))
    net.eval()
    return net


@pytest.fixture
def images() -> list[tuple[paddle.Tensor, paddle.Tensor]]:
    """Two validation batches of 1x28x28 images with labels 0..9."""
    import paddle

    rng = np.random.default_rng(2)
    return [
        (paddle.to_tensor(rng.normal(size=(size, 1, 28, 28)).astype("float32")),
         paddle.to_tensor(rng.integers(0, 10, size).astype("int64")))
        for size in (6, 4)
    ]


@pytest.fixture
def recal_images() -> list[paddle.Tensor]:
    import paddle

    rng = np.random.default_rng(3)
    return [paddle.to_tensor(rng.normal(0.3, 1.2, size=(8, 1, 28, 28)).astype("float32")) for _ in range(3)]


@pytest.fixture
def tiny_archs(tiny_space: ResNetSpace) -> dict[str, tuple[str, object]]:
    codes = sample_codes(tiny_space, 6, seed=5, distribution="competition")
    return {f"arch{i}": (code, tiny_space.decode(code)) for i, code in enumerate(codes, start=1)}
