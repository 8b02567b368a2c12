"""A 2-process ``paddle.distributed.launch`` run on CPU (gloo) keeps the ranks identical."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle

from hnas.engine.checkpoint import LAST

WORKER = Path(__file__).with_name("distributed_worker.py")


def test_two_cpu_processes_end_with_identical_weights(tmp_path) -> None:
    env = dict(os.environ)
    command = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
               "--log_dir", str(tmp_path / "logs"), str(WORKER), str(tmp_path)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    logs = "\n".join(path.read_text() for path in sorted((tmp_path / "logs").glob("workerlog.*")))
    assert completed.returncode == 0, completed.stdout[-2000:] + logs[-4000:]

    rank0 = paddle.load(str(tmp_path / "rank0.pdparams"))
    rank1 = paddle.load(str(tmp_path / "rank1.pdparams"))
    initial = paddle.load(str(tmp_path / "init0.pdparams"))
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        np.testing.assert_array_equal(rank0[name].numpy(), rank1[name].numpy(), err_msg=name)
    moved = [name for name in rank0 if not np.array_equal(rank0[name].numpy(), initial[name].numpy())]
    assert "stem.conv.conv.weight" in moved and "fc.weight" in moved
    # Only rank 0 writes the checkpoint, after 3 steps.
    assert (tmp_path / "ckpt" / LAST / "model.pdparams").is_file()
    assert "rank 1 of 2" in logs
