"""``hnas fewshot train`` on 2 CPU processes (gloo): one manifest, every part trained, routed eval works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hnas.checkpoints.fewshot import read_manifest
from hnas.checkpoints.folder import LAST
from hnas.cli import main
from hnas.engine.trainer import train
from hnas.search_spaces.sampling import sample_codes
from tests.engine.tiny import tiny_config

WORKER = Path(__file__).with_name("distributed_worker.py")


def test_two_ranks_train_every_part_and_the_folder_evaluates(tmp_path: Path, capsys) -> None:
    parent = tmp_path / "parent"
    train(tiny_config(parent))
    out = tmp_path / "few"
    command = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
               "--log_dir", str(tmp_path / "logs"), str(WORKER), str(parent), str(out)]
    completed = subprocess.run(command, env=dict(os.environ), capture_output=True, text=True, timeout=300)
    logs = "\n".join(path.read_text() for path in sorted((tmp_path / "logs").glob("workerlog.*")))
    assert completed.returncode == 0, completed.stdout[-2000:] + logs[-4000:]
    assert "rank 1 of 2" in logs
    manifest = read_manifest(out)
    assert [path.name for path in sorted(out.iterdir())] == ["fewshot.json", *manifest.parts]  # no stray temp files
    for index in range(len(manifest.parts)):
        assert (manifest.part_dir(index) / LAST / "model.pdparams").is_file()
    capsys.readouterr()
    again = main(["fewshot", "train", str(parent), "--split", "depth1", "--out", str(out), "--epochs", "1"])
    assert again == 0 and "finished earlier" in capsys.readouterr().err
    space = manifest.space
    archs = tmp_path / "archs.json"
    archs.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": code}
                                 for i, code in enumerate(sample_codes(space, 4, seed=0), 1)}))
    pred = tmp_path / "pred.json"
    assert main(["eval", str(archs), "--ckpt", str(out), "--out", str(pred), "--val-images", "16",
                 "--batch-size", "8", "--recal-batches", "1", "--recal-batch-size", "8"]) == 0
    assert set(json.loads(pred.read_text())) == {"arch1", "arch2", "arch3", "arch4"}
