"""``hnas bench build`` and ``hnas bench noise`` on a tiny synthetic recipe."""

from __future__ import annotations

import json
from pathlib import Path

from hnas.cli import main

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


def test_noise_without_a_build_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["bench", "noise", "--out", str(tmp_path / "none.json")]) == 2
    assert "no progress file" in capsys.readouterr().err
