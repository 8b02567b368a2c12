"""Corrupt and truncated images, in both loader modes, and signals while loading.

Each run is a subprocess with a timeout: on the old code a bad image with ``num_workers 0``
hung for ever (Paddle's loader thread died, the main thread waited in C++ ignoring SIGTERM).
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from tests.faults.helpers import corrupt, make_imagefolder, run_hnas, start_hnas, train_args, wait_for


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_imagefolder(tmp_path / "data")


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_a_bad_image_stops_training_at_once_naming_the_file(folder: Path, tmp_path: Path, workers: int,
                                                            how: str) -> None:
    bad = corrupt(folder / "train" / "b" / "003.png", how)
    done = run_hnas(train_args(folder, tmp_path / "ckpt", f"data.num_workers={workers}"), timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("hnas: error: image ") and str(bad) in last and "Traceback" not in done.stderr
    assert not (tmp_path / "ckpt" / "last").exists()  # the bad image is met in epoch 1: nothing to save


def test_finished_epochs_are_kept_when_a_later_image_breaks(folder: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    assert run_hnas(train_args(folder, ckpt, "epochs=1"), timeout=60).returncode == 0
    saved = (ckpt / "last" / "model.pdparams").read_bytes()
    corrupt(folder / "train" / "a" / "000.png", "garbage")
    done = run_hnas(train_args(folder, ckpt, "epochs=2", "--resume", "--allow-config-change"), timeout=60)
    assert done.returncode == 2 and "000.png" in done.stderr
    assert (ckpt / "last" / "model.pdparams").read_bytes() == saved
    assert (ckpt / "epoch_0001").is_dir()


@pytest.mark.parametrize("workers", [0, 2])
def test_skip_policy_drops_bad_images_with_a_warning(folder: Path, tmp_path: Path, workers: int) -> None:
    bad = corrupt(folder / "train" / "c" / "001.png", "truncated")
    done = run_hnas(train_args(folder, tmp_path / "ckpt", f"data.num_workers={workers}", "epochs=1",
                               "data.on_bad_image=skip"), timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    warnings = [line for line in done.stderr.splitlines() if "skipping unreadable" in line and str(bad) in line]
    assert warnings and "(1 skipped so far)" in warnings[0]
    assert (tmp_path / "ckpt" / "last" / "model.pdparams").is_file()


def test_eval_names_a_bad_validation_image(folder: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    assert run_hnas(train_args(folder, ckpt, "epochs=1"), timeout=60).returncode == 0
    meta = json.loads((ckpt / "last" / "meta.json").read_text())
    assert meta["space_name"]
    bad = corrupt(folder / "val" / "d" / "001.png", "garbage")
    codes = tmp_path / "archs.json"
    codes.write_text(json.dumps({"arch1": {"acc": 0.0, "arch": "122111111111"},
                                 "arch2": {"acc": 0.0, "arch": "111111001100"}}))
    done = run_hnas(["eval", str(codes), "--ckpt", str(ckpt), "--out", str(tmp_path / "sub.json"),
                     "--bn-recal", "none"], timeout=60)
    assert done.returncode == 2 and str(bad) in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "sub.json").exists()


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_work_while_loading(folder: Path, tmp_path: Path, workers: int, sig: int) -> None:
    log = tmp_path / "log.txt"
    process = start_hnas(train_args(folder, tmp_path / "ckpt", f"data.num_workers={workers}", "epochs=1000"), log)
    try:
        assert wait_for(lambda: "training 1000 epochs" in log.read_text(errors="replace"), timeout=60)
        if sig == signal.SIGTERM:
            process.send_signal(sig)  # kill PID, a scheduler
        else:
            os.killpg(process.pid, sig)  # Ctrl-C reaches the whole process group, workers included
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert code == (143 if sig == signal.SIGTERM else 130), log.read_text()[-2000:]
    # (Paddle's worker iterator, interrupted while it starts, may add an "Exception ignored" note)
    stopped = "hnas: terminated (SIGTERM)" if sig == signal.SIGTERM else "hnas: interrupted"
    assert any(line.startswith(stopped) for line in log.read_text().splitlines())
