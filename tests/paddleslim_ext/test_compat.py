"""Tests of paddleslim_ext/compat.py: each deviation is needed, scoped, and enough for OFA and flops.

The failing cases run in a subprocess: PaddleSlim's tracer leaves Paddle in static mode when it
raises, which would spoil the rest of the session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import paddle
import pytest

from tests.paddleslim_ext.conftest import requires_paddleslim

requires_paddleslim()

from hnas.search_spaces import SPACES  # noqa: E402
from paddleslim_ext.baseline import BaselineResNet  # noqa: E402
from paddleslim_ext.compat import SUPPORTED_VERSION, paddleslim_compat, paddleslim_version, pir_enabled  # noqa: E402
from paddleslim_ext.ofa import build_ofa_supernet  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
_TRACE = """
import paddle
from hnas.search_spaces import SPACES
from paddleslim_ext.ofa import build_ofa_supernet
{setup}
ofa = build_ofa_supernet(SPACES.get("resnet48_tiny"))
{context}ofa(paddle.zeros([1, 1, 28, 28]))
print("traced")
"""


def _trace_in_subprocess(setup: str = "", context: str = "", env: dict[str, str] | None = None) -> str:
    script = textwrap.dedent(_TRACE).format(setup=setup, context=context)
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                            cwd=ROOT, timeout=300)
    return result.stdout + result.stderr


_ALIAS = "import paddle.base.dygraph.base as b; b._to_static_mode_guard_ = b.to_static_mode_guard"


def test_the_supported_version_is_installed() -> None:
    assert paddleslim_version() == SUPPORTED_VERSION


def test_without_the_shim_ofa_fails_on_the_removed_guard_name() -> None:
    output = _trace_in_subprocess()
    assert "traced" not in output and "_to_static_mode_guard_" in output


def test_the_alias_alone_fails_on_pir_values() -> None:
    output = _trace_in_subprocess(setup=_ALIAS)
    assert "traced" not in output and "Value(" in output


def test_the_pir_flag_as_environment_variable_works_too() -> None:
    assert "traced" in _trace_in_subprocess(setup=_ALIAS, env={"FLAGS_enable_pir_api": "0"})


def test_the_shim_is_scoped_and_restores_paddle() -> None:
    module = paddle.base.dygraph.base
    assert pir_enabled() and not hasattr(module, "_to_static_mode_guard_")
    static_program = paddle.static.Program
    with paddleslim_compat():
        assert not pir_enabled() and hasattr(module, "_to_static_mode_guard_")
    assert pir_enabled() and not hasattr(module, "_to_static_mode_guard_")
    assert paddle.static.Program is static_program and paddle.in_dynamic_mode()


def test_ofa_traces_inside_the_shim_and_trains_outside_it() -> None:
    paddle.seed(0)
    ofa = build_ofa_supernet(SPACES.get("resnet48_tiny"))
    images, labels = paddle.randn([4, 1, 28, 28]), paddle.to_tensor([0, 1, 2, 3])
    with paddleslim_compat():
        logits = ofa(images)
    assert ofa._broadcast, "OFA found the shortcut-tied layers in its trace"
    optimizer = paddle.optimizer.SGD(0.1, parameters=ofa.parameters())
    for _ in range(2):  # after the trace, training needs no shim
        loss = paddle.nn.functional.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        logits = ofa(images)
    assert bool(paddle.isfinite(logits).all())


@pytest.mark.parametrize(("space_name", "resolution"), [("resnet48_tiny", 28), ("resnet48", 224)])
def test_paddleslim_flops_run_in_the_shim_and_equal_hnas_conv_macs(space_name: str, resolution: int) -> None:
    import paddleslim.analysis

    space = SPACES.get(space_name)
    with paddleslim_compat():
        counted = paddleslim.analysis.flops(BaselineResNet(space), [1, space.in_channels, resolution, resolution])
    assert counted == space.flops(space.max_spec(), convention="macs")
