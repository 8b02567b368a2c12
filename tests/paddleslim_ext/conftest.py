"""PaddleSlim OFA supernets of the baseline's ResNet, built through the shim, for the interop tests.

These tests need PaddleSlim (hnas's ``paddleslim`` extra, which ``.ci/run`` installs); without it
every test here is skipped with that reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import paddle
import pytest

#: The competition's arch file (``HNAS_TEST_JSON`` overrides the default ``<repo>/../shared/data``).
TEST_JSON = Path(os.environ.get(
    "HNAS_TEST_JSON", Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "CVPR_2022_NAS_Track1_test.json"
))


def requires_paddleslim() -> None:
    """Skip the calling module unless PaddleSlim is installed."""
    pytest.importorskip("paddleslim", reason="PaddleSlim is not installed (pip install -e '.[paddleslim]')")


def real_codes(count: int, seed: int = 0) -> list[str]:
    """``count`` arch codes drawn (seeded) from the competition's test file; skips when it is absent."""
    if not TEST_JSON.is_file():
        pytest.skip(f"competition arch file not found at {TEST_JSON}")
    entries = json.loads(TEST_JSON.read_text())
    keys = sorted(entries, key=lambda key: int(key[len("arch"):]))
    picks = np.random.default_rng(seed).choice(len(keys), size=count, replace=False)
    return [entries[keys[index]]["arch"] for index in sorted(picks)]


@paddle.no_grad()
def randomize_bn(layer: paddle.nn.Layer, seed: int) -> None:
    """Give every BN non-trivial affine parameters and running statistics (so BN slicing matters)."""
    rng = np.random.default_rng(seed)
    for name, tensor in layer.state_dict().items():
        shape = tuple(tensor.shape)
        if name.endswith("_variance"):
            tensor.set_value(rng.uniform(0.5, 1.5, shape).astype("float32"))
        elif name.endswith("_mean"):
            tensor.set_value(rng.normal(0.0, 0.2, shape).astype("float32"))
        elif len(shape) == 1 and "fc" not in name:  # BN weight / bias
            base = 1.0 if name.endswith("weight") else 0.0
            tensor.set_value((base + rng.normal(0.0, 0.2, shape)).astype("float32"))


def traced_ofa(space: Any, seed: int, resolution: int) -> Any:
    """The baseline's OFA supernet of ``space`` with random BN state, traced once in eval mode."""
    from paddleslim_ext.compat import paddleslim_compat
    from paddleslim_ext.ofa import build_ofa_supernet

    paddle.seed(seed)
    ofa = build_ofa_supernet(space)
    randomize_bn(ofa, seed)
    ofa.eval()
    with paddleslim_compat(), paddle.no_grad():
        ofa(paddle.zeros([1, space.in_channels, resolution, resolution]))  # OFA's shortcut analysis
    return ofa
