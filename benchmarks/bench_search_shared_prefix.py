"""Search wall time with and without shared prefixes at equal candidates, side by side in one run.

Run from the repository root (single-threaded)::

    OMP_NUM_THREADS=1 python benchmarks/bench_search_shared_prefix.py --ckpt DIR [--generations 5]
        [--population 20 --top-k 5 --mutations 10 --crossovers 10] [--max-flops 15e6]
        [--val-images 1000 --recal-batches 4] [--out FILE]

Defaults are the demo supernet's search of docs/search.md (``resnet48_tiny`` on ``multi_mnist``,
100 candidates, limit 15 MFLOPs, 1,000 validation images, BN recalibrated on 4 batches of 64).
The checkpoint's ``last`` folder is copied to a temporary folder and read from there (the
original is never opened for writing).

Two searches with the same settings run generation by generation, taking turns (which goes first
alternates), on one loaded supernet and the same images: ``per_candidate`` scores every candidate
whole with :meth:`SubnetScorer.score` one at a time (the path of ``--no-shared-prefix``),
``shared`` scores each generation in one :meth:`SubnetScorer.score_all` call (the default). Both
histories (candidates, generations, scores) must be identical after every generation. Each
generation records its candidates, how many prefix groups they formed (how much they share
depends on the population: generation 0 is random, later ones are mostly mutants and children
of the best), and each path's wall time.

What bounds the gain: a group of ``n`` candidates saves ``n - 1`` prefix computations, so with
``G`` groups for ``N`` candidates and a prefix taking the share ``p`` of a candidate's forward time,
the time falls to at most ``(N - (N - G) p) / N``. ``p`` is measured at the end (eval-mode forward
over the validation images, prefix alone against the whole subnet, best of 3, median over
``--share-archs`` candidates of the search), and each generation's bound is recorded next to its
measured speed-up.

Writes a JSON summary (default ``benchmarks/results/bench_search_shared_prefix.json``), rewritten
after every generation.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import paddle  # noqa: E402

from hnas.evaluation.options import ScoringOptions  # noqa: E402
from hnas.evaluation.scorer_builder import build_scorer, open_trained  # noqa: E402
from hnas.io.atomic import atomic_write_text  # noqa: E402
from hnas.nn.scorer import SubnetScorer  # noqa: E402
from hnas.search.evolution import SearchCfg, SearchState, run_search  # noqa: E402
from hnas.search.scoring import ScoreMany, by_supernet, one_at_a_time  # noqa: E402
from hnas.search_spaces.distributions import ConstrainedDistribution, Constraint, cost_function  # noqa: E402

DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_search_shared_prefix.json"
PATHS = ("per_candidate", "shared")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, required=True,
                        help="a trained checkpoint folder (or a root holding last/)")
    parser.add_argument("--strategy", choices=("evolution", "random"), default="evolution")
    parser.add_argument("--population", type=int, default=20)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--mutations", type=int, default=10)
    parser.add_argument("--crossovers", type=int, default=10)
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-flops", type=float, default=15e6, help="FLOPs limit (0: none)")
    parser.add_argument("--val-images", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--recal-batches", type=int, default=4, help="0: no BN recalibration")
    parser.add_argument("--recal-batch-size", type=int, default=64)
    parser.add_argument("--share-archs", type=int, default=8, help="candidates timed for the prefix's share")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args(argv)


def copy_checkpoint(source: Path, temp: Path) -> Path:
    """The checkpoint's weights, config and metadata copied under ``temp`` (no optimizer state)."""
    folder = source / "last" if (source / "last").is_dir() else source
    target = temp / "supernet"
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("*.pdopt", "visualdl"))
    return target


def load_average() -> list[float]:
    return [float(value) for value in Path("/proc/loadavg").read_text().split()[:3]]


def scorers(args: argparse.Namespace, checkpoint: Path) -> tuple[Any, dict[str, SubnetScorer]]:
    """The space and one scorer per path over the same supernet and images."""
    options = ScoringOptions(val_images=args.val_images, batch_size=args.batch_size,
                             bn_recal="reset" if args.recal_batches else "none", recal_batches=args.recal_batches,
                             recal_batch_size=args.recal_batch_size)
    trained = open_trained(checkpoint, None)
    ready = build_scorer(trained, options)
    per_candidate = SubnetScorer(ready.supernet, ready.data.val, ready.data.recal, ready.scorer.recal_mode,
                                 shared_prefix=False)
    return trained.space, {"per_candidate": per_candidate, "shared": ready.scorer}


def prefix_share(supernet: Any, specs: list[Any], val: list[Any]) -> list[float]:
    """Per spec: eval-mode forward time of the prefix alone over ``val`` / of the whole subnet (best of 3 each)."""
    shares = []
    supernet.eval()
    with paddle.no_grad():
        for spec in specs:
            supernet.apply(spec)
            best = {"prefix": float("inf"), "whole": float("inf")}
            for _ in range(3):
                for part, forward in (("prefix", supernet.forward_prefix), ("whole", supernet)):
                    started = time.perf_counter()
                    for images, _ in val:
                        forward(images)
                    best[part] = min(best[part], time.perf_counter() - started)
            shares.append(best["prefix"] / best["whole"])
    return shares


def bound(candidates: int, groups: int, share: float) -> float:
    """Largest speed-up from sharing: ``candidates - groups`` prefix computations of ``share`` each saved."""
    return candidates / (candidates - (candidates - groups) * share)


def main() -> None:
    args = parse_args()
    paddle.set_device("cpu")
    cfg = SearchCfg(strategy=args.strategy, population=args.population, top_k=args.top_k, mutations=args.mutations,
                    crossovers=args.crossovers, generations=args.generations, seed=args.seed)
    with tempfile.TemporaryDirectory() as temp:
        space, by_path = scorers(args, copy_checkpoint(args.ckpt, Path(temp)))
    assert by_path["shared"].shared_prefix, "the space names no prefix: nothing to compare"
    flops = cost_function(space, "flops")
    dist = space.distribution("uniform")
    if args.max_flops:
        dist = ConstrainedDistribution(dist, [Constraint("flops", flops, None, args.max_flops)])
    score: dict[str, ScoreMany] = {
        "per_candidate": one_at_a_time(lambda spec: by_path["per_candidate"].score(spec)[0]),
        "shared": by_supernet(by_path["shared"]),
    }
    states = {name: SearchState({}) for name in PATHS}
    summary: dict[str, Any] = {
        "command": "OMP_NUM_THREADS=1 python benchmarks/bench_search_shared_prefix.py " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                    "paddle": paddle.__version__, "load_average_start": load_average(),
                    "note": "2-core shared CPU, no GPU; other jobs running"},
        "space": space.name, "search": dataclasses.asdict(cfg), "max_flops": args.max_flops or None,
        "scoring": {"val_images": args.val_images, "batch_size": args.batch_size,
                    "recal_batches": args.recal_batches, "recal_batch_size": args.recal_batch_size},
        "generations": [],
    }
    for generation in range(cfg.generations):
        order = PATHS if generation % 2 == 0 else PATHS[::-1]
        seconds: dict[str, float] = {}
        for name in order:
            started = time.perf_counter()
            run_search(space, dist, score[name], {"flops": flops}, dataclasses.replace(cfg, generations=generation + 1),
                       states[name])
            seconds[name] = time.perf_counter() - started
        specs = [space.decode(c.arch) for c in states["shared"].history if c.generation == generation]
        groups = by_path["shared"].groups(specs)
        row = {"generation": generation, "candidates": len(specs), "prefix_groups": len(groups),
               "groups_of_2_or_more": sum(len(group) > 1 for group in groups),
               "largest_group": max(len(group) for group in groups), "first": order[0],
               **{f"{name}_s": round(seconds[name], 2) for name in PATHS},
               "speedup": round(seconds["per_candidate"] / seconds["shared"], 3),
               "identical_so_far": states["shared"].history == states["per_candidate"].history}
        summary["generations"].append(row)
        rows = summary["generations"]
        total = {name: sum(r[f"{name}_s"] for r in rows) for name in PATHS}
        summary["total"] = {"candidates": sum(r["candidates"] for r in rows),
                            "prefix_groups": sum(r["prefix_groups"] for r in rows),
                            **{f"{name}_s": round(total[name], 2) for name in PATHS},
                            "speedup": round(total["per_candidate"] / total["shared"], 3),
                            "identical": all(r["identical_so_far"] for r in rows),
                            "best_arch": states["shared"].best().arch, "best_score": states["shared"].best().score}
        summary["machine"]["load_average_end"] = load_average()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out, json.dumps(summary, indent=1) + "\n")
        print(json.dumps(row), flush=True)
        if not row["identical_so_far"]:
            sys.exit("bench_search_shared_prefix: error: the two paths' histories differ")
    shared = by_path["shared"]
    history = states["shared"].history
    step = max(1, len(history) // args.share_archs)
    shares = prefix_share(shared.supernet, [space.decode(c.arch) for c in history[::step][: args.share_archs]],
                          list(shared.val_batches))
    share = sorted(shares)[len(shares) // 2]
    summary["prefix_share"] = {"median": round(share, 3), "per_candidate": [round(x, 3) for x in shares]}
    for row in summary["generations"]:
        row["bound_speedup"] = round(bound(row["candidates"], row["prefix_groups"], share), 3)
    total = summary["total"]
    total["bound_speedup"] = round(bound(total["candidates"], total["prefix_groups"], share), 3)
    summary["machine"]["load_average_end"] = load_average()
    atomic_write_text(args.out, json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary["prefix_share"]), flush=True)
    print(json.dumps(summary["total"]), flush=True)


if __name__ == "__main__":
    main()
