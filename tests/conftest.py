"""Test-wide settings: Paddle on CPU and a fixed seed before every test (if Paddle is installed)."""

from __future__ import annotations

import importlib.util
import random
import warnings

import numpy as np
import pytest

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
