"""Every sampler in a 2-process gloo run on CPU: identical subnets, sampler state and weights on both ranks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest

from hnas.samplers import SAMPLERS

WORKER = Path(__file__).with_name("distributed_worker.py")
NAMES = SAMPLERS.names()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """One launch trains every sampler on both ranks (process start-up paid once)."""
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
               "--log_dir", str(out / "logs"), str(WORKER), str(out), *NAMES]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    logs = "\n".join(path.read_text() for path in sorted((out / "logs").glob("workerlog.*")))
    assert completed.returncode == 0, completed.stdout[-2000:] + logs[-4000:]
    assert "rank 1 of 2" in logs
    return out


@pytest.mark.parametrize("name", NAMES)
def test_both_ranks_train_the_same_subnets_to_the_same_weights(runs: Path, name: str) -> None:
    from tests.samplers.distributed_worker import STEPS

    folder = runs / name
    record0, record1 = (json.loads((folder / f"rank{r}.json").read_text()) for r in (0, 1))
    assert len(record0["drawn"]) == STEPS
    # observe() gets the losses averaged over the ranks (engine/step.py), so adaptive state agrees too
    assert record0["observed"] == record1["observed"]
    assert record0["drawn"] == record1["drawn"]
    assert record0["state"] == record1["state"]
    rank0, rank1 = (paddle.load(str(folder / f"rank{r}.pdparams")) for r in (0, 1))
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        np.testing.assert_array_equal(rank0[key].numpy(), rank1[key].numpy(), err_msg=key)
