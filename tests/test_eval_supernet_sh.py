"""``eval_supernet.sh`` with 2 CPU workers, and ``hnas eval`` surviving ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import paddle
import pytest

from hnas.cli import main
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import SPACES

REPO = Path(__file__).resolve().parents[1]
FAST = ["--val-images", "32", "--batch-size", "32", "--bn-recal", "none"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("sh")
    paddle.seed(0)
    space = SPACES.get("resnet48_tiny")
    weights = folder / "supernet.pdparams"
    paddle.save(space.build_supernet().state_dict(), str(weights))
    codes = sample_codes(space, 16, seed=2, distribution="competition")
    arch_file = folder / "test.json"
    arch_file.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": c} for i, c in enumerate(codes, start=1)}))
    reference = folder / "reference.json"
    assert main(["eval", str(arch_file), "--ckpt", str(weights), "--out", str(reference), *FAST]) == 0
    return weights, arch_file, reference


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHON": sys.executable, **extra}
    env.pop("PADDLE_TRAINER_ID", None)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def test_two_workers_produce_the_single_process_submission(setup, tmp_path: Path) -> None:
    weights, arch_file, reference = setup
    out = tmp_path / "results" / "submit.json"
    out.parent.mkdir()
    done = subprocess.run(
        ["bash", str(REPO / "eval_supernet.sh"), str(arch_file), "--ckpt", str(weights), "--out", str(out), *FAST],
        env=environment(HNAS_WORKERS="2"), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "2 worker(s) on CPU" in done.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert (tmp_path / "results" / "submit_part1of2.progress.jsonl").is_file()


def test_bad_input_stops_the_script_before_anything_is_written(setup, tmp_path: Path) -> None:
    weights, _, _ = setup
    bad = tmp_path / "bad.json"
    bad.write_text('{"arch1": {"acc": 0.0, "arch": "12')
    out = tmp_path / "results" / "submit.json"
    out.parent.mkdir()
    done = subprocess.run(
        ["bash", str(REPO / "eval_supernet.sh"), str(bad), "--ckpt", str(weights), "--out", str(out), *FAST],
        env=environment(HNAS_WORKERS="2"), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "invalid JSON" in done.stderr
    assert list(out.parent.iterdir()) == []


def _children(parent: int) -> list[int]:
    """Every descendant process of ``parent``."""
    found, todo = [], [parent]
    while todo:
        pid = todo.pop()
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        found += [int(child) for child in children]
        todo += [int(child) for child in children]
    return found


def test_a_killed_worker_ends_the_script_with_one_line_naming_its_shard(setup, tmp_path: Path) -> None:
    weights, arch_file, reference = setup
    out = tmp_path / "submit.json"
    command = ["bash", str(REPO / "eval_supernet.sh"), str(arch_file), "--ckpt", str(weights), "--out", str(out),
               *FAST, "--batch-size", "8"]
    script = subprocess.Popen(command, env=environment(HNAS_WORKERS="2"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    progress = tmp_path / "submit_part1of2.progress.jsonl"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and script.poll() is None:
            if progress.exists() and progress.read_text().count("\n") >= 2:  # header + 1 arch
                break
            time.sleep(0.02)
        workers = [pid for pid in _children(script.pid)
                   if "--shard\x001/2" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]
        assert script.poll() is None and len(workers) == 1, "the shard finished before it could be killed"
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = script.communicate(timeout=120)
    finally:
        if script.poll() is None:
            script.kill()
    assert script.returncode == 137
    errors = [line for line in stderr.splitlines() if line.startswith("hnas: error")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    assert errors[0].startswith("hnas: error: shard 1/2 stopped (exit 137, killed by SIGKILL; log ")
    assert f"kept in {progress}: continue with: bash {REPO / 'eval_supernet.sh'} {arch_file}" in errors[0]
    assert not out.exists()
    rerun = subprocess.run(command, env=environment(HNAS_WORKERS="2"), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert out.read_bytes() == reference.read_bytes()


def test_without_an_install_the_script_says_how_to_install(setup, tmp_path: Path) -> None:
    weights, arch_file, _ = setup
    bare = tmp_path / "python"  # a Python that sees no installed packages, as before `make venv`
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
    bare.chmod(0o755)
    done = subprocess.run(["bash", str(REPO / "eval_supernet.sh"), str(arch_file), "--ckpt", str(weights),
                           "--out", str(tmp_path / "submit.json")],
                          env=environment(PYTHON=str(bare)), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"eval_supernet.sh: hnas and its dependencies are not installed for {bare}: run 'make venv' in {REPO} "
        f"(or pip install -e {REPO}) first"]


def test_kill_9_mid_run_then_rerun_gives_an_identical_submission(setup, tmp_path: Path) -> None:
    weights, arch_file, reference = setup
    out = tmp_path / "submit.json"
    command = [sys.executable, "-m", "hnas", "eval", str(arch_file), "--ckpt", str(weights), "--out", str(out), *FAST]
    progress = tmp_path / "submit.progress.jsonl"
    process = subprocess.Popen(command, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if progress.exists() and progress.read_text().count("\n") >= 4:  # header + 3 archs
                break
            time.sleep(0.02)
        assert process.poll() is None, "the run finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    done_before = progress.read_text().count("\n") - 1
    assert 3 <= done_before < 16 and not out.exists()
    rerun = subprocess.run(command, env=environment(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{done_before} resumed" in rerun.stdout
    assert out.read_bytes() == reference.read_bytes()


def test_kill_9_inside_shared_prefix_groups_resumes_to_the_per_arch_submission(setup, tmp_path: Path) -> None:
    """Groups of archs sharing stem + stage 1, BN recalibrated: killed after its first groups, rerun,
    the submission equals a --no-shared-prefix run byte for byte."""
    from tests.prefix_archs import prefix_sharing_codes

    weights, _, _ = setup
    codes = prefix_sharing_codes(SPACES.get("resnet48_tiny"), groups=4, per_group=5, singles=2)
    arch_file = tmp_path / "shared.json"
    arch_file.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": c} for i, c in enumerate(codes, start=1)}))
    settings = ["--val-images", "32", "--batch-size", "16", "--recal-batches", "2", "--recal-batch-size", "16"]
    reference = tmp_path / "reference.json"
    assert main(["eval", str(arch_file), "--ckpt", str(weights), "--out", str(reference), *settings,
                 "--no-shared-prefix"]) == 0
    out = tmp_path / "submit.json"
    command = [sys.executable, "-m", "hnas", "eval", str(arch_file), "--ckpt", str(weights), "--out", str(out),
               *settings]
    progress = tmp_path / "submit.progress.jsonl"
    process = subprocess.Popen(command, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if progress.exists() and progress.read_text().count("\n") >= 6:  # header + the first group
                break
            time.sleep(0.02)
        assert process.poll() is None, "the run finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    done_before = progress.read_text().count("\n") - 1
    assert done_before in (5, 10, 15, 20, 21) and not out.exists()  # whole groups only
    rerun = subprocess.run(command, env=environment(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{done_before} resumed" in rerun.stdout
    assert out.read_bytes() == reference.read_bytes()
