"""Building a ground-truth benchmark: draw archs stratified over FLOPs, train each stand-alone.

Outputs, next to each other (``OUT`` = e.g. ``benchmarks/minibench/ground_truth.json``):

* ``OUT``: the competition format ``{"arch1": {"acc": mean over seeds, "arch": code}, ...}``,
  readable by every hnas command that reads arch files (they reject unknown fields).
* ``OUT.meta.json`` (``ground_truth.meta.json``): per-seed accuracies, FLOPs, params, the
  recipe, the seeds, the draw, package versions, timing and the noise ceiling.
* ``OUT.progress.jsonl``: one line per finished ``(arch, seed)`` run; a killed build resumes
  from it, and ``hnas bench noise`` reads it while a build is still running.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from hnas.benchmark.noise import NoiseCeiling, noise_ceiling
from hnas.benchmark.recipe import Recipe
from hnas.benchmark.runlog import RunLog, RunRecord
from hnas.errors import HnasError
from hnas.evaluation.reporter import ProgressReporter
from hnas.io.atomic import atomic_write_text
from hnas.proxies.flops import count_flops, count_params
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.sampling import sample_codes
from hnas.workers import run_in_processes

logger = logging.getLogger(__name__)

META_FORMAT = "hnas-ground-truth/1"
#: Candidate codes drawn per requested arch before stratifying over FLOPs.
POOL_FACTOR = 20


@dataclass(frozen=True)
class BenchArch:
    """One architecture of a benchmark: key, code and its analytic cost."""

    key: str
    arch: str
    flops: int
    params: int


def sibling(out: str | os.PathLike[str], suffix: str) -> Path:
    """``ground_truth.json`` -> ``ground_truth<suffix>`` in the same folder."""
    path = Path(out)
    return path.with_name(path.stem + suffix)


def stratified_pick(flops: Sequence[int], n: int, rng: random.Random) -> list[int]:
    """Indices of ``n`` items spread evenly over the FLOPs range of ``flops``.

    The range ``[min, max]`` is cut into ``n`` equal-width bins; each bin contributes one
    random member, and a bin with no unused member takes the unused item closest to its
    centre. Both ends of the range are therefore always represented.
    """
    if not 0 < n <= len(flops):
        raise HnasError(f"cannot pick {n} archs from a pool of {len(flops)}")
    low, high = min(flops), max(flops)
    width = (high - low) / n or 1.0
    bins: list[list[int]] = [[] for _ in range(n)]
    for index, value in enumerate(flops):
        bins[min(n - 1, int((value - low) / width))].append(index)
    chosen: list[int] = []
    used: set[int] = set()
    for number, members in enumerate(bins):
        free = [index for index in members if index not in used]
        if free:
            pick = rng.choice(free)
        else:
            centre = low + (number + 0.5) * width
            pick = min((index for index in range(len(flops)) if index not in used),
                       key=lambda index: (abs(flops[index] - centre), index))
        used.add(pick)
        chosen.append(pick)
    return chosen


def draw_archs(space: SearchSpace, n: int, seed: int, distribution: str = "uniform") -> list[BenchArch]:
    """``n`` distinct archs covering the FLOPs range of ``space``, keyed ``arch1 .. archN``.

    A pool of ``POOL_FACTOR * n`` codes is drawn with :func:`sample_codes` (``distribution``,
    ``seed``), :func:`stratified_pick` chooses ``n`` spread over the pool's FLOPs range, and the
    keys are assigned in a seeded random order, so any prefix of the keys (what a partial build
    has finished first) still covers the range.
    """
    pool = sample_codes(space, POOL_FACTOR * n, seed=seed, distribution=distribution)
    flops = [count_flops(space, space.decode(code)) for code in pool]
    rng = random.Random(seed)
    chosen = stratified_pick(flops, n, rng)
    rng.shuffle(chosen)
    return [BenchArch(key=f"arch{number}", arch=pool[index], flops=flops[index],
                      params=count_params(space, space.decode(pool[index])))
            for number, index in enumerate(chosen, start=1)]


# --- running the jobs -------------------------------------------------------------------

_WORKER_STATE: dict[str, Any] = {}


def _init_worker(recipe_values: Mapping[str, Any]) -> None:
    import paddle

    from hnas.benchmark.standalone import load_bench_data

    paddle.set_device("cpu")
    recipe = Recipe.from_dict(recipe_values)
    _WORKER_STATE["recipe"] = recipe
    _WORKER_STATE["data"] = load_bench_data(recipe)


def _run_job(key: str, arch: str, seed: int) -> RunRecord:
    from hnas.benchmark.standalone import train_standalone

    data = _WORKER_STATE["data"]
    result = train_standalone(data.space.decode(arch), _WORKER_STATE["recipe"], seed, data)
    return RunRecord(key=key, arch=arch, seed=seed, acc=result.acc, val_loss=result.val_loss,
                     train_loss=result.train_loss, seconds=round(result.seconds, 2))


def run_jobs(jobs: Sequence[tuple[str, str, int]], recipe: Recipe, workers: int) -> Iterable[RunRecord]:
    """Train every ``(key, arch, seed)`` job; yields records as they finish.

    With ``workers > 1`` the jobs run in that many spawned processes, each single-threaded
    (``OMP_NUM_THREADS=1``) and each loading the data once (:func:`hnas.workers.run_in_processes`).
    A run depends only on its arch, seed, recipe and the number of CPU threads, so the results
    equal a serial run's under Paddle's default of one thread (``OMP_NUM_THREADS`` unset or 1);
    a serial run with more threads differs as much as another seed would.
    """
    if workers <= 1:
        _init_worker(recipe.to_dict())
        for job in jobs:
            yield _run_job(*job)
        return
    yield from run_in_processes(_run_job, jobs, workers, initializer=_init_worker, initargs=(recipe.to_dict(),))


# --- the build --------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSummary:
    """What :func:`build_ground_truth` did.

    Attributes:
        complete: every run finished and the output files were written.
        runs_done: finished runs (including those resumed from the progress file).
        runs_total: archs times seeds.
        noise: the noise ceiling over the archs finished with every seed (``None`` if < 2).
    """

    complete: bool
    runs_done: int
    runs_total: int
    noise: NoiseCeiling | None


def versions() -> dict[str, str]:
    import paddle
    import scipy

    from hnas import __version__

    return {"hnas": __version__, "paddle": paddle.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__, "python": platform.python_version()}


def build_header(recipe: Recipe, archs: Sequence[BenchArch], seeds: Sequence[int],
                 draw_seed: int, distribution: str) -> dict[str, Any]:
    """What identifies a build; a progress file resumes only under an equal header."""
    return {"recipe": recipe.to_dict(), "seeds": list(seeds),
            "draw": {"n_archs": len(archs), "seed": draw_seed, "distribution": distribution,
                     "pool_factor": POOL_FACTOR},
            "archs": {arch.key: arch.arch for arch in archs}}


def per_seed_accs(archs: Sequence[BenchArch], seeds: Sequence[int],
                  records: Iterable[RunRecord]) -> dict[str, list[float]]:
    """``{key: [acc per seed, in seed order]}`` for the archs finished with every seed."""
    found: dict[tuple[str, int], float] = {(r.key, r.seed): r.acc for r in records}
    return {arch.key: [found[(arch.key, seed)] for seed in seeds]
            for arch in archs if all((arch.key, seed) in found for seed in seeds)}


def write_outputs(out: Path, header: Mapping[str, Any], archs: Sequence[BenchArch],
                  seeds: Sequence[int], records: Sequence[RunRecord], wall_seconds: float) -> NoiseCeiling:
    """Write ``out`` (competition format) and its ``.meta.json`` sibling, atomically."""
    accs = per_seed_accs(archs, seeds, records)
    truth = {arch.key: {"acc": float(np.mean(accs[arch.key])), "arch": arch.arch} for arch in archs}
    noise = noise_ceiling(accs)
    run_seconds = [record.seconds for record in records]
    meta = {
        "format": META_FORMAT,
        "ground_truth": out.name,
        "space": header["recipe"]["space"],
        "recipe": header["recipe"],
        "seeds": list(seeds),
        "draw": header["draw"],
        "versions": versions(),
        "timing": {"run_seconds_total": round(sum(run_seconds), 1),
                   "run_seconds_mean": round(float(np.mean(run_seconds)), 2),
                   "wall_seconds_last_session": round(wall_seconds, 1)},
        "noise": noise.to_dict(),
        "archs": {arch.key: {"arch": arch.arch, "acc": truth[arch.key]["acc"], "accs": accs[arch.key],
                             "flops": arch.flops, "params": arch.params} for arch in archs},
    }
    atomic_write_text(out, json.dumps(truth, indent=1) + "\n")
    atomic_write_text(sibling(out, ".meta.json"), json.dumps(meta, indent=1) + "\n")
    return noise


def build_ground_truth(out: str | os.PathLike[str], recipe: Recipe, space: SearchSpace, n_archs: int,
                       seeds: Sequence[int], draw_seed: int = 0, distribution: str = "uniform",
                       workers: int = 1, restart: bool = False, max_runs: int | None = None) -> BuildSummary:
    """Draw ``n_archs`` archs, train each with every seed, write the benchmark files.

    Args:
        out: the competition-format output file; its siblings hold the meta data and progress.
        recipe: the stand-alone training recipe.
        space: the search space the codes are drawn from (``recipe.space`` resolved for the data).
        n_archs: number of archs.
        seeds: training seeds; each arch is trained once per seed.
        draw_seed: seed of the arch draw.
        distribution: arch distribution of :func:`~hnas.search_spaces.sampling.sample_codes`.
        workers: parallel single-threaded training processes.
        restart: discard an existing progress file instead of resuming it.
        max_runs: stop after this many new runs (the build stays resumable); ``None``: all.
    """
    if len(set(seeds)) != len(seeds) or len(seeds) < 1:
        raise HnasError(f"seeds must be distinct and at least one: {list(seeds)}")
    out = Path(out)
    start = time.monotonic()
    archs = draw_archs(space, n_archs, draw_seed, distribution)
    header = build_header(recipe, archs, seeds, draw_seed, distribution)
    with RunLog(sibling(out, ".progress.jsonl"), header) as log:
        records = log.open(restart=restart)
        done = {(record.key, record.seed) for record in records}
        todo = [(arch.key, arch.arch, seed) for arch in archs for seed in seeds if (arch.key, seed) not in done]
        if max_runs is not None:
            todo = todo[:max_runs]
        total = len(archs) * len(seeds)
        logger.info("ground truth: %d archs x %d seeds = %d runs, %d already done, %d to run now with %d worker(s)",
                    len(archs), len(seeds), total, len(done), len(todo), workers)
        reporter = ProgressReporter(len(todo), unit="runs", log_every=1, label="bench build")
        for record in run_jobs(todo, recipe, workers):
            log.append(record)
            records.append(record)
            logger.info("%s seed %d: acc %.4f (%.1f s)", record.key, record.seed, record.acc, record.seconds)
            reporter.update()
        reporter.close()
    accs = per_seed_accs(archs, seeds, records)
    noise = noise_ceiling(accs) if len(accs) >= 2 and len(seeds) >= 2 else None
    complete = len(records) == total
    if complete:
        noise = write_outputs(out, header, archs, seeds, records, time.monotonic() - start)
    return BuildSummary(complete=complete, runs_done=len(records), runs_total=total, noise=noise)
