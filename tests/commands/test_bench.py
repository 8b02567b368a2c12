"""``hnas bench build`` and ``hnas bench noise`` on a tiny synthetic recipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hnas.cli import main

REPO = Path(__file__).resolve().parents[2]

TINY_ARGS = ["--data", "synthetic", "--data-arg", "num_images=16", "--data-arg", "in_channels=1",
             "--data-arg", "image_size=28", "--batch-size", "4", "--max-train-batches", "1"]


def test_build_then_noise(tmp_path: Path, capsys) -> None:
    out = tmp_path / "gt.json"
    build = ["bench", "build", "--n-archs", "3", "--seeds", "2", "--workers", "1", "--out", str(out), *TINY_ARGS]
    assert main([*build, "--max-runs", "2"]) == 0
    assert "unfinished" in capsys.readouterr().out and not out.exists()
    assert main(build) == 0
    assert "runs: 6/6" in capsys.readouterr().out
    assert len(json.loads(out.read_text())) == 3
    assert main(["bench", "noise", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "archs with all 2 seeds: 3/3" in printed and "Kendall tau" in printed
    assert "priors vs mean acc" in printed and all(f"{name} " in printed for name in ("flops", "depth", "width"))


def test_noise_without_a_build_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["bench", "noise", "--out", str(tmp_path / "none.json")]) == 2
    assert "no progress file" in capsys.readouterr().err


def test_report_writes_table_and_plots(tmp_path: Path, capsys) -> None:
    from tests.benchmark.report_fixtures import TINY_TRAINING, make_ground_truth

    truth = make_ground_truth(tmp_path / "gt")
    out = tmp_path / "report"
    sets = [part for item in TINY_TRAINING for part in ("--set", item)]
    command = ["bench", "report", "--ground-truth", str(truth), "--methods", "params,uniform", "--seeds", "1",
               "--val-images", "16", "--recal-batches", "1", "--recal-batch-size", "8",
               "--runs-dir", str(tmp_path / "runs"), "--out-dir", str(out), *sets]
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert "| `params` | prior |" in printed and "| `uniform` | supernet ×1 |" in printed
    assert sorted(p.name for p in out.iterdir()) == ["best_supernet.png", "report.json", "report.md", "tau.png",
                                                     "tau_vs_time.png"]
    assert "hnas bench report --ground-truth" in (out / "report.md").read_text()


def test_report_errors_are_usage_errors(tmp_path: Path, capsys) -> None:
    from tests.benchmark.report_fixtures import make_ground_truth

    assert main(["bench", "report", "--ground-truth", str(tmp_path / "none.json")]) == 2
    assert "none.meta.json: missing" in capsys.readouterr().err
    truth = make_ground_truth(tmp_path / "gt")
    assert main(["bench", "report", "--ground-truth", str(truth), "--methods", "flops,bogus"]) == 2
    assert "unknown method(s) ['bogus']" in capsys.readouterr().err
    assert main(["bench", "report", "--ground-truth", str(truth), "--seeds", "0"]) == 2


def _build_subprocess(out: Path, workers: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "hnas", "bench", "build", "--n-archs", "2", "--seeds", "2",
               "--workers", str(workers), "--out", str(out), *TINY_ARGS]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def test_parallel_build_equals_a_serial_one_and_its_workers_log_like_the_parent(tmp_path: Path) -> None:
    serial = _build_subprocess(tmp_path / "serial.json", workers=1)
    parallel = _build_subprocess(tmp_path / "parallel.json", workers=2)
    for result in (serial, parallel):
        assert result.returncode == 0, result.stderr
    # Every run depends only on its arch, seed and recipe, whichever process trains it.
    assert (tmp_path / "parallel.json").read_text() == (tmp_path / "serial.json").read_text()
    for line in parallel.stderr.splitlines():
        assert not line.startswith("["), f"a line in Paddle's log format: {line}"  # "[date] [INFO] file.py:N"
        assert "always track global mean" not in line and "warnings.warn" not in line, line
