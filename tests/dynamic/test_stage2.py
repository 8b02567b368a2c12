"""Stage I -> BN reset -> stage II -> dynamic evaluation on dsnet_mbv1_tiny; exact resume after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import paddle
import pytest

from hnas.checkpoints.folder import LAST, MODEL_FILE, read_meta
from hnas.cli import main

REPO = Path(__file__).resolve().parents[2]
DATA = ["data.name=synthetic", "data.args={in_channels: 1, image_size: 28, num_classes: 10, num_images: 96}",
        "data.batch_size=16", "log.visualdl=false", "--space.name", "dsnet_mbv1_tiny",
        "space.overrides={bn: per_width}", "device=cpu"]
GATE = ["gate={block: s4.b1, options: 4, madds_lambda: 1.0e+6}", "--epochs", "3", "eval.every_epochs=0"]


@pytest.fixture(scope="module")
def reset_checkpoint(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dsnet")
    assert main(["train", *DATA, "--checkpoint.dir", str(root / "stage1"), "--epochs", "1",
                 "--sampler.args.distribution", "dsnet", "eval.every_epochs=0"]) == 0
    assert main(["bn-reset", "--ckpt", str(root / "stage1"), "--out", str(root / "reset"), "--batches", "2",
                 "--batch-size", "16"]) == 0
    return root / "reset"


def _gate_run(out: Path, init: Path, *extra: str) -> list[str]:
    return ["train", *DATA, *GATE, "--checkpoint.dir", str(out), f"checkpoint.init_from={init}", *extra]


def _weights(folder: Path) -> dict[str, np.ndarray]:
    return {name: np.asarray(value) for name, value in paddle.load(str(folder / MODEL_FILE)).items()}


def test_the_bn_reset_writes_per_width_statistics(reset_checkpoint: Path) -> None:
    meta = read_meta(reset_checkpoint)
    assert meta["space"]["bn"] == "per_width" and meta["bn_reset"]["batches"] == 2
    weights = _weights(reset_checkpoint)
    rows = weights["stages.3.0.pw.bn.width_mean"]
    assert rows.shape == (4, 48) and all(np.abs(rows[r, :24 + 8 * r]).sum() > 0 for r in range(4))


def test_stage_two_trains_the_gate_only_and_evaluates(tmp_path, capsys, reset_checkpoint: Path) -> None:
    assert main(_gate_run(tmp_path / "gate", reset_checkpoint)) == 0
    assert "trained to epoch 3, step 18" in capsys.readouterr().out
    trained, start = _weights(tmp_path / "gate" / LAST), _weights(reset_checkpoint)
    for name, value in start.items():
        np.testing.assert_array_equal(trained[f"supernet.{name}"], value, err_msg=name)
    assert set(trained) - {f"supernet.{name}" for name in start} == {"gate.conv.weight", "gate.conv.bias"}
    assert main(["dynamic-eval", "--ckpt", str(tmp_path / "gate"), "--out", str(tmp_path / "report")]) == 0
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert [row["level"] for row in results["static"]] == [0, 1, 2, 3]
    assert abs(sum(results["dynamic"]["route_share"]) - 1) < 1e-9 and results["val_images"] == 96
    assert (tmp_path / "report" / "curve.png").stat().st_size > 0
    assert "**dynamic** (arg-max routing)" in (tmp_path / "report" / "table.md").read_text()
    assert abs(sum(results["dynamic_gumbel"]["route_share"]) - 1) < 1e-9


def test_exports_static_widths_and_the_dynamic_network(tmp_path, reset_checkpoint: Path) -> None:
    gate = tmp_path / "gate"
    assert main(_gate_run(gate, reset_checkpoint, "--epochs", "1")) == 0
    assert main(["export", "1111122", "--ckpt", str(reset_checkpoint), "--out", str(tmp_path / "static")]) == 0
    assert (tmp_path / "static" / "inference" / "model.json").is_file() or \
        (tmp_path / "static" / "inference" / "model.pdmodel").is_file()
    assert main(["dynamic-export", "--ckpt", str(gate), "--out", str(tmp_path / "dynamic")]) == 0
    meta = json.loads((tmp_path / "dynamic" / "dynamic.json").read_text())
    assert meta["routed_levels"] == ["1111111", "1111122", "1111133", "1111144"]
    from hnas.dynamic.network import ExportedDynamicNetwork
    from hnas.dynamic.report import load_gated

    expected = ExportedDynamicNetwork(load_gated(gate)[0])
    images = paddle.to_tensor(np.random.default_rng(0).normal(size=(7, 1, 28, 28)).astype("float32"))
    loaded = paddle.jit.load(str(tmp_path / "dynamic" / "inference" / "model"))
    np.testing.assert_allclose(loaded(images).numpy(), expected(images).numpy(), rtol=1e-5, atol=1e-5)
    assert main(["dynamic-export", "--ckpt", str(gate), "--out", str(tmp_path / "dynamic")]) == 2  # no --force


def test_a_gate_block_that_does_not_exist(tmp_path, capsys, reset_checkpoint: Path) -> None:
    run = _gate_run(tmp_path / "run", reset_checkpoint, "gate={block: s9.b1}")
    assert main(run) == 2
    assert "gate.block 's9.b1' is not a gate point of space 'dsnet_mbv1_tiny'; known: s4.b1" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_stage_two_resumes_exactly_after_kill_9(tmp_path, reset_checkpoint: Path) -> None:
    assert main(_gate_run(tmp_path / "whole", reset_checkpoint)) == 0
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "hnas", *_gate_run(tmp_path / "split", reset_checkpoint,
                                                        "checkpoint.every_steps=1")]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            meta = tmp_path / "split" / LAST / "meta.json"
            if meta.is_file() and json.loads(meta.read_text())["progress"]["global_step"] >= 5:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the run finished before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    killed_at = read_meta(tmp_path / "split" / LAST)["progress"]["global_step"]
    assert 5 <= killed_at < 18
    assert main(_gate_run(tmp_path / "split", reset_checkpoint, "checkpoint.every_steps=1", "--resume")) == 0
    expected, resumed = _weights(tmp_path / "whole" / LAST), _weights(tmp_path / "split" / LAST)
    for name in ("gate.conv.weight", "gate.conv.bias"):
        np.testing.assert_array_equal(resumed[name], expected[name], err_msg=name)
