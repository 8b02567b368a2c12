"""A 2-process ``paddle.distributed.launch`` run on CPU (gloo) keeps the ranks identical."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle

from hnas.checkpoints.folder import LAST

WORKER = Path(__file__).with_name("distributed_worker.py")


def _launch(tmp_path: Path, *args: str) -> str:
    command = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
               "--log_dir", str(tmp_path / "logs"), str(WORKER), str(tmp_path), *args]
    completed = subprocess.run(command, env=dict(os.environ), capture_output=True, text=True, timeout=300)
    logs = "\n".join(path.read_text() for path in sorted((tmp_path / "logs").glob("workerlog.*")))
    assert completed.returncode == 0, completed.stdout[-2000:] + logs[-4000:]
    return logs


def _assert_same_weights(tmp_path: Path) -> dict:
    rank0 = paddle.load(str(tmp_path / "rank0.pdparams"))
    rank1 = paddle.load(str(tmp_path / "rank1.pdparams"))
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        np.testing.assert_array_equal(rank0[name].numpy(), rank1[name].numpy(), err_msg=name)
    return rank0


def test_an_adaptive_sampler_sees_the_same_losses_on_every_rank(tmp_path) -> None:
    """The ranks train on different batches, so their own losses differ; the sampler is fed the
    mean over ranks, hence a sampler whose draws depend on the losses stays in step."""
    _launch(tmp_path, "--adaptive")
    codes0 = json.loads((tmp_path / "codes0.json").read_text())
    codes1 = json.loads((tmp_path / "codes1.json").read_text())
    assert len(codes0) == 6 and codes0 == codes1
    assert len(set(codes0)) > 1
    _assert_same_weights(tmp_path)


def test_two_cpu_processes_end_with_identical_weights(tmp_path) -> None:
    logs = _launch(tmp_path)

    rank0 = _assert_same_weights(tmp_path)
    initial = paddle.load(str(tmp_path / "init0.pdparams"))
    moved = [name for name in rank0 if not np.array_equal(rank0[name].numpy(), initial[name].numpy())]
    assert "stem.conv.conv.weight" in moved and "fc.weight" in moved
    # Only rank 0 writes the checkpoint, after 3 steps.
    assert (tmp_path / "ckpt" / LAST / "model.pdparams").is_file()
    assert "rank 1 of 2" in logs
