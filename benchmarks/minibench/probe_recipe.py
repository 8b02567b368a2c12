"""Probe a stand-alone recipe variant on a subset of the shipped ground truth's archs.

Run from the repository root::

    python benchmarks/minibench/probe_recipe.py OUT.jsonl [--n-archs 12] [--workers 2]
        [--recipe '{"epochs": 4}'] [--space '{"base_channels": [10, 20, 40, 80]}']
    python benchmarks/minibench/probe_recipe.py OUT.jsonl --summary

Picks every (50 // n)-th arch of ``ground_truth.meta.json`` by mean accuracy, trains each with
both seeds of the benchmark under the shipped recipe with ``--recipe`` fields replaced
(``data_args`` entries merge) and, with ``--space``, fields of the search space replaced (for
what the recipe cannot express, e.g. narrower stages: the same arch codes decode to narrower
networks). Every run goes through :func:`hnas.benchmark.standalone.train_standalone`, so with no
changes it reproduces the shipped per-seed accuracies exactly. One JSON line per run is appended
to OUT (a rerun skips finished runs). ``--summary`` prints, for the probe and for the shipped
accuracies of the same archs: seed-vs-seed Kendall tau, mean accuracy, the per-run seed noise,
the std of the arch means and their ratio (the arch std with the seed noise taken out, over the
seed noise: about 2 is needed for a seed-vs-seed tau of 0.6).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

META = Path(__file__).resolve().parent / "ground_truth.meta.json"
_STATE: dict[str, Any] = {}


def _run(key: str, arch: str, seed: int, recipe_values: dict[str, Any], space_changes: dict[str, Any]) -> dict:
    import paddle

    from hnas.benchmark.recipe import Recipe
    from hnas.benchmark.standalone import load_bench_data, train_standalone

    paddle.set_device("cpu")
    recipe = Recipe.from_dict(recipe_values)
    if "data" not in _STATE:
        data = load_bench_data(recipe)
        if space_changes:
            changes = {name: tuple(v) if isinstance(v, list) else v for name, v in space_changes.items()}
            data = dataclasses.replace(data, space=dataclasses.replace(data.space, **changes))
        _STATE["data"] = data
    data = _STATE["data"]
    result = train_standalone(data.space.decode(arch), recipe, seed, data)
    return {"key": key, "seed": seed, "acc": result.acc, "train_loss": result.train_loss,
            "seconds": round(result.seconds, 1)}


def picked_archs(meta: dict[str, Any], n_archs: int) -> list[tuple[str, dict[str, Any]]]:
    ranked = sorted(meta["archs"].items(), key=lambda item: item[1]["acc"])
    return ranked[:: max(1, len(ranked) // n_archs)][:n_archs]


def run_probe(out: Path, n_archs: int, workers: int, recipe_changes: dict, space_changes: dict) -> None:
    meta = json.loads(META.read_text())
    recipe = {**meta["recipe"], **{k: v for k, v in recipe_changes.items() if k != "data_args"}}
    recipe["data_args"] = {**meta["recipe"]["data_args"], **recipe_changes.get("data_args", {})}
    done = {(r["key"], r["seed"]) for r in map(json.loads, out.open())} if out.exists() else set()
    jobs = [(key, entry["arch"], seed, recipe, space_changes)
            for key, entry in picked_archs(meta, n_archs) for seed in meta["seeds"] if (key, seed) not in done]
    print(f"{len(jobs)} runs to do ({len(done)} done) with {workers} worker(s)", flush=True)
    os.environ["OMP_NUM_THREADS"] = "1"
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        for future in concurrent.futures.as_completed([pool.submit(_run, *job) for job in jobs]):
            record = future.result()
            record["shipped"] = meta["archs"][record["key"]]["accs"][meta["seeds"].index(record["seed"])]
            with out.open("a") as stream:
                stream.write(json.dumps(record) + "\n")
            print(record, flush=True)


def summary(out: Path) -> None:
    from scipy import stats

    runs: dict[str, dict[int, dict]] = defaultdict(dict)
    for record in map(json.loads, out.open()):
        runs[record["key"]][record["seed"]] = record
    complete = [pair for pair in runs.values() if len(pair) == 2]
    for field in ("acc", "shipped"):
        first, second = (np.array([100 * sorted(p.items())[i][1][field] for p in complete]) for i in (0, 1))
        seed_std = float(np.sqrt(np.mean((first - second) ** 2) / 2))
        arch_std = float(np.std((first + second) / 2, ddof=1))
        ratio = np.sqrt(max(arch_std ** 2 - seed_std ** 2 / 2, 0.0)) / seed_std
        label = "probe" if field == "acc" else "shipped recipe, same archs"
        print(f"{label:28s} archs {len(complete):2d}  tau {stats.kendalltau(first, second)[0]:+.3f}  "
              f"mean {np.mean(first + second) / 2:.2f} %  seed std {seed_std:.2f}  arch std {arch_std:.2f}  "
              f"ratio {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="JSON-lines file of the runs (appended to)")
    parser.add_argument("--n-archs", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--recipe", type=json.loads, default={}, help="recipe fields to replace, as JSON")
    parser.add_argument("--space", type=json.loads, default={}, help="search-space fields to replace, as JSON")
    parser.add_argument("--summary", action="store_true", help="only summarise OUT")
    args = parser.parse_args()
    if not args.summary:
        run_probe(args.out, args.n_archs, args.workers, args.recipe, args.space)
    summary(args.out)


if __name__ == "__main__":
    main()
