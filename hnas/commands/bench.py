"""``hnas bench``: build the stand-alone ground-truth benchmark and report its noise ceiling."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from hnas.commands.standalone import add_recipe_arguments, recipe_from_arguments
from hnas.errors import HnasError

logger = logging.getLogger(__name__)

DEFAULT_OUT = Path("benchmarks/minibench/ground_truth.json")
#: ``--quick``: a few archs on a short recipe, to try the pipeline in a few minutes.
QUICK = {"n_archs": 6, "max_train_batches": 20, "max_val_images": 500}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="stand-alone ground truth: build it, or show its noise ceiling",
        description="Build and inspect the stand-alone ground-truth benchmark (benchmarks/minibench).",
    )
    actions = parser.add_subparsers(dest="bench_command", metavar="ACTION", required=True)

    build = actions.add_parser(
        "build",
        help="draw archs stratified over FLOPs and train each stand-alone with several seeds",
        description=("Draw M archs (seeded, spread over the FLOPs range), train each with S seeds "
                     "under the fixed recipe and write OUT in the competition format (acc = mean over "
                     "seeds) plus OUT's .meta.json (per-seed accs, FLOPs, params, recipe, versions, "
                     "noise ceiling). Every finished run is appended to OUT's .progress.jsonl; "
                     "running the same command again resumes a killed build."),
    )
    build.add_argument("--n-archs", type=int, default=50, metavar="M", help="archs (default: 50)")
    build.add_argument("--seeds", type=int, default=2, metavar="S",
                       help="training seeds per arch, 0 .. S-1 (default: 2)")
    build.add_argument("--seed", type=int, default=0, help="seed of the arch draw (default: 0)")
    build.add_argument("--distribution", default="uniform", help="arch distribution (default: uniform)")
    build.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                       help=f"ground-truth file (default: {DEFAULT_OUT})")
    build.add_argument("--workers", type=int, default=2,
                       help="parallel single-threaded training processes (default: 2)")
    build.add_argument("--restart", action="store_true", help="discard existing progress")
    build.add_argument("--max-runs", type=int, metavar="N",
                       help="stop after N new runs (resume later with the same command)")
    build.add_argument("--quick", action="store_true",
                       help=f"tiny build to try the pipeline ({QUICK['n_archs']} archs, "
                            f"{QUICK['max_train_batches']} batches, {QUICK['max_val_images']} val images)")
    add_recipe_arguments(build)
    build.set_defaults(func=run_build)

    noise = actions.add_parser(
        "noise",
        help="seed-vs-seed Kendall tau and accuracy spread of a (possibly unfinished) build",
        description="Noise ceiling from OUT's progress file: archs finished with every seed count.",
    )
    noise.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                       help=f"ground-truth file whose progress is read (default: {DEFAULT_OUT})")
    noise.set_defaults(func=run_noise)


def run_build(args: argparse.Namespace) -> int:
    import paddle

    from hnas.benchmark.groundtruth import build_ground_truth
    from hnas.benchmark.standalone import load_bench_data

    paddle.set_device("cpu")
    if args.n_archs < 2 or args.seeds < 1 or args.workers < 1:
        raise HnasError("--n-archs must be >= 2, --seeds and --workers >= 1")
    recipe = recipe_from_arguments(args)
    n_archs = args.n_archs
    if args.quick:
        n_archs = min(n_archs, QUICK["n_archs"])
        recipe = recipe.replace(max_train_batches=recipe.max_train_batches or QUICK["max_train_batches"],
                                max_val_images=recipe.max_val_images or QUICK["max_val_images"])
    space = load_bench_data(recipe.replace(max_val_images=1)).space
    summary = build_ground_truth(args.out, recipe, space, n_archs, list(range(args.seeds)),
                                 draw_seed=args.seed, distribution=args.distribution,
                                 workers=args.workers, restart=args.restart, max_runs=args.max_runs)
    print(f"runs: {summary.runs_done}/{summary.runs_total}")
    if summary.noise is not None:
        print(f"noise ceiling: {summary.noise.summary()}")
    if summary.complete:
        print(f"wrote {args.out} and its .meta.json")
    else:
        print(f"unfinished; run the same command again to resume ({args.out.stem}.progress.jsonl)")
    return 0


def run_noise(args: argparse.Namespace) -> int:
    from hnas.benchmark.groundtruth import sibling
    from hnas.benchmark.noise import noise_ceiling
    from hnas.benchmark.runlog import read_runlog

    path = sibling(args.out, ".progress.jsonl")
    if not path.is_file():
        raise HnasError(f"no progress file {path}; run 'hnas bench build --out {args.out}' first")
    header, records = read_runlog(path)
    if header is None:
        raise HnasError(f"{path}: no header line")
    seeds = header["seeds"]
    found: dict[str, dict[int, float]] = {}
    for record in records:
        found.setdefault(record.key, {})[record.seed] = record.acc
    accs = {key: [by_seed[s] for s in seeds] for key, by_seed in found.items() if all(s in by_seed for s in seeds)}
    total = len(header["archs"]) * len(seeds)
    print(f"runs: {len(records)}/{total}; archs with all {len(seeds)} seeds: {len(accs)}/{len(header['archs'])}")
    ceiling = noise_ceiling(accs)
    print(ceiling.summary())
    print(f"FLOPs prior: Kendall tau {flops_tau(header, accs):.3f} between FLOPs and mean acc")
    print(json.dumps(ceiling.to_dict()))
    return 0


def flops_tau(header: dict, accs: dict[str, list[float]]) -> float:
    """Kendall tau between analytic FLOPs and seed-mean accuracy of the finished archs."""
    from scipy import stats

    from hnas.proxies.flops import count_flops
    from hnas.search_spaces.spaces import resolve_space
    from hnas.search_spaces.spec import decode

    space = resolve_space(header["recipe"]["space"])
    keys = sorted(accs)
    flops = [count_flops(space, decode(header["archs"][key], space)) for key in keys]
    return float(stats.kendalltau(flops, [sum(accs[key]) / len(accs[key]) for key in keys])[0])
