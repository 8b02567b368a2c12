"""The ``utils/`` scripts, run in-process with ``runpy``: thin wrappers over hnas functions."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import paddle
import pytest

from hnas.search_spaces.spaces import SPACES

UTILS = Path(__file__).resolve().parents[1] / "utils"
LARGEST = "1558511111111111111111111111111111111111111111111111"
SMALLEST = "1222277777000000777700000077770000000000007777000000"


def run_script(name: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> int | str | None:
    monkeypatch.setattr(sys, "argv", [str(UTILS / name), *args])
    try:
        runpy.run_path(str(UTILS / name), run_name="__main__")
    except SystemExit as done:
        return done.code
    return 0


def test_kendall_scores_two_files(tmp_path: Path, monkeypatch, capsys) -> None:
    truth = tmp_path / "gt.json"
    truth.write_text(json.dumps({"a": 0.1, "b": 0.2, "c": 0.3}))
    pred = tmp_path / "pred.json"
    scores = {"a": 1.0, "b": 2.0, "c": 3.0}
    pred.write_text(json.dumps({key: {"acc": acc, "arch": key * 3} for key, acc in scores.items()}))
    assert run_script("kendall.py", str(pred), str(truth), monkeypatch=monkeypatch) == 0
    assert "kendall_tau: 1.000000" in capsys.readouterr().out


def test_split_json_writes_parts(tmp_path: Path, monkeypatch) -> None:
    source = tmp_path / "t.json"
    source.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": LARGEST} for i in range(5)}))
    arguments = [str(source), "--parts", "2", "--out", str(tmp_path / "p")]
    assert run_script("split_json.py", *arguments, monkeypatch=monkeypatch) == 0
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["t_part0of2.json", "t_part1of2.json"]


def test_distance_calc_prints_the_distance_and_draws_a_histogram(tmp_path: Path, monkeypatch, capsys) -> None:
    assert run_script("distance_calc.py", LARGEST, SMALLEST, monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out.strip() == "47"
    out = tmp_path / "h.png"
    assert run_script("distance_calc.py", "--hist", "50", "--out", str(out), monkeypatch=monkeypatch) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_convert_model_converts_and_refuses_its_input(tmp_path: Path, monkeypatch, capsys) -> None:
    single = tmp_path / "single.pdparams"
    paddle.save(SPACES.get("resnet48_tiny").build_supernet().state_dict(), str(single))
    multi = tmp_path / "multi.pdparams"
    assert run_script("convert_model.py", str(single), str(multi), "--to", "multi", monkeypatch=monkeypatch) == 0
    assert "single -> multi-GPU" in capsys.readouterr().out
    assert all(key.startswith("_layers.") for key in paddle.load(str(multi)))
    before = multi.read_bytes()
    code = run_script("convert_model.py", str(multi), str(multi), "--to", "single", monkeypatch=monkeypatch)
    assert code == 2 and "refusing to overwrite the input" in capsys.readouterr().err
    assert multi.read_bytes() == before


def test_smoke_subnets_runs_the_largest_smallest_and_random_subnets(monkeypatch, capsys) -> None:
    assert run_script("smoke_subnets.py", "--space", "resnet48_tiny", "--n", "3", monkeypatch=monkeypatch) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "logits" in line]
    assert [line.split()[0] for line in lines[:2]] == [LARGEST, SMALLEST]
    assert len(lines) == 3 and all("logits [2, 10]" in line for line in lines)
