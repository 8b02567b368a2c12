"""Ground-truth build: stratified draw, resumable runs, output format."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from hnas.benchmark.groundtruth import (
    build_ground_truth,
    draw_archs,
    sibling,
    stratified_pick,
)
from hnas.benchmark.recipe import Recipe
from hnas.errors import HnasError
from hnas.io.archs import load_arch_file
from hnas.proxies.flops import count_flops
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import SPACES, resolve_space

#: 2 batches of 4 synthetic 28 px images per run: the tiny net trains in well under a second.
TINY = Recipe(space="resnet48_tiny", data="synthetic",
              data_args={"num_images": 16, "num_classes": 3, "in_channels": 1, "image_size": 28},
              batch_size=4, max_train_batches=2, eval_batch_size=8)
SPACE = resolve_space("resnet48_tiny", {"num_classes": 3, "in_channels": 1})


def test_stratified_pick_hits_both_ends_and_every_bin() -> None:
    flops = [1, 2, 2, 3, 50, 51, 98, 99, 100, 100]
    picked = stratified_pick(flops, 4, random.Random(0))
    assert len(set(picked)) == 4
    values = sorted(flops[i] for i in picked)
    assert values[0] <= 3 and values[-1] >= 98
    assert any(40 <= v <= 60 for v in values)  # the empty bin 26-50 falls back to its nearest


def test_draw_archs_covers_the_flops_range_and_is_seeded() -> None:
    space = SPACES.get("resnet48_tiny")
    archs = draw_archs(space, 10, seed=3)
    assert archs == draw_archs(space, 10, seed=3)
    assert [a.key for a in archs] == [f"arch{i}" for i in range(1, 11)]
    assert len({a.arch for a in archs}) == 10
    pool = sorted(count_flops(space, space.decode(c)) for c in sample_codes(space, 200, seed=3))
    flops = sorted(a.flops for a in archs)
    width = (pool[-1] - pool[0]) / 10
    assert flops[0] <= pool[0] + width and flops[-1] >= pool[-1] - width  # one from each end bin
    # A plain random draw of 10 would cluster in the middle; stratified gaps stay below 2 bins.
    assert max(b - a for a, b in zip(flops, flops[1:])) < 2 * width


def _build(out: Path, **kwargs: object) -> object:
    return build_ground_truth(out, TINY, SPACE, n_archs=2, seeds=[0, 1], **kwargs)


def test_build_writes_competition_file_and_meta(tmp_path: Path) -> None:
    out = tmp_path / "gt.json"
    summary = _build(out)
    assert summary.complete and summary.runs_done == 4
    entries = load_arch_file(out, SPACE)  # the strict hnas arch-file loader accepts it
    assert list(entries) == ["arch1", "arch2"]
    meta = json.loads(sibling(out, ".meta.json").read_text())
    assert meta["seeds"] == [0, 1] and meta["recipe"] == TINY.to_dict()
    for key, entry in entries.items():
        accs = meta["archs"][key]["accs"]
        assert len(accs) == 2 and entry.acc == pytest.approx(sum(accs) / 2)
        assert meta["archs"][key]["flops"] == count_flops(SPACE, entry.spec)
    assert set(meta["noise"]) >= {"kendall_tau", "spread", "seed_std"}
    assert set(meta["versions"]) >= {"hnas", "paddle"}


def test_interrupted_build_resumes_to_the_same_file(tmp_path: Path) -> None:
    whole = tmp_path / "whole" / "gt.json"
    _build(whole)
    parts = tmp_path / "parts" / "gt.json"
    first = _build(parts, max_runs=1)
    assert not first.complete and first.runs_done == 1 and not parts.exists()
    with open(sibling(parts, ".progress.jsonl"), "a") as stream:
        stream.write('{"key": "arch2", "ar')  # a run killed mid-write
    second = _build(parts)
    assert second.complete and second.runs_done == 4
    assert parts.read_bytes() == whole.read_bytes()
    runs = sibling(parts, ".progress.jsonl").read_text().splitlines()
    assert len(runs) == 1 + 4  # header + one line per run, the cut line dropped


def test_resume_with_another_recipe_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "gt.json"
    _build(out, max_runs=1)
    with pytest.raises(HnasError, match="another build"):
        build_ground_truth(out, TINY.replace(lr=0.07), SPACE, n_archs=2, seeds=[0, 1])


def test_more_seeds_extend_a_finished_build(tmp_path: Path) -> None:
    out = tmp_path / "gt.json"
    _build(out)
    before = json.loads(sibling(out, ".meta.json").read_text())["archs"]
    summary = build_ground_truth(out, TINY, SPACE, n_archs=2, seeds=[0, 1, 2], max_runs=None)
    assert summary.complete and summary.runs_done == 6 and summary.noise.seeds == 3
    after = json.loads(sibling(out, ".meta.json").read_text())["archs"]
    assert all(after[key]["accs"][:2] == before[key]["accs"] for key in before)
    with pytest.raises(HnasError, match="another build"):
        build_ground_truth(out, TINY, SPACE, n_archs=2, seeds=[1, 0])


def test_a_log_from_before_a_recipe_option_resumes_when_the_option_keeps_its_default(tmp_path: Path) -> None:
    out = tmp_path / "gt.json"
    _build(out, max_runs=1)
    progress = sibling(out, ".progress.jsonl")
    lines = progress.read_text().splitlines()
    header = json.loads(lines[0])
    del header["header"]["recipe"]["zero_init_residual"]  # as written before the option existed
    progress.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    assert _build(out).runs_done == 4
    with pytest.raises(HnasError, match=r"another build \(differs in \['recipe'\]\)"):
        build_ground_truth(out, TINY.replace(zero_init_residual=True), SPACE, n_archs=2, seeds=[0, 1])
