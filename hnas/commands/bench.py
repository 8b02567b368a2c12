"""``hnas bench``: build the stand-alone ground-truth benchmark and report its noise ceiling."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from hnas.commands._args import DeprecatedSetOverride, add_overrides
from hnas.commands.standalone import add_recipe_arguments, recipe_from_arguments
from hnas.errors import HnasError

logger = logging.getLogger(__name__)

DEFAULT_OUT = Path("benchmarks/minibench/ground_truth.json")
#: ``--quick``: a few archs on a short recipe, to try the pipeline in a few minutes.
QUICK = {"n_archs": 6, "max_train_batches": 20, "max_val_images": 500}
#: ``hnas bench report`` defaults.
REPORT_SEEDS = 2
REPORT_RUNS = Path("checkpoints/minibench")
#: Val images per arch in the report: evaluating 50 archs on all 2,500 takes longer than
#: training a supernet on 2 CPU cores; 1,000 keep the per-arch binomial noise near 1.3 points.
REPORT_VAL_IMAGES = 1000


def method_names() -> list[str]:
    from hnas.benchmark.methods import METHODS

    return [method.name for method in METHODS]


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
    build.add_argument("--force", action="store_true",
                       help="replace an existing FILE that has no progress file of this build next to it")
    build.add_argument("--max-runs", type=int, metavar="N",
                       help="stop after N new runs (resume later with the same command)")
    build.add_argument("--quick", action="store_true",
                       help=f"tiny build to try the pipeline ({QUICK['n_archs']} archs, "
                            f"{QUICK['max_train_batches']} batches, {QUICK['max_val_images']} val images)")
    add_recipe_arguments(build)
    build.set_defaults(func=run_build, imports_paddle=True,
                       resume_hint="finished runs are kept: run the same command again to resume")

    noise = actions.add_parser(
        "noise",
        help="seed-vs-seed Kendall tau and accuracy spread of a (possibly unfinished) build",
        description="Noise ceiling from OUT's progress file: archs finished with every seed count.",
    )
    noise.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                       help=f"ground-truth file whose progress is read (default: {DEFAULT_OUT})")
    noise.set_defaults(func=run_noise)

    report = actions.add_parser(
        "report",
        help="score the priors and supernet recipes against the ground truth, side by side",
        description=("Score the FLOPs, params, depth, width and ZenScore priors and supernets trained with each "
                     "recipe (uniform single path, sandwich, sandwich + FLOPs / ZenScore rank loss, "
                     "sandwich + AlphaNet) against the ground truth: Kendall tau, Pearson, Spearman, "
                     "top-k precision and wall time. Supernets train on the ground truth's data from "
                     "the base config with each method's overrides, one run per seed; runs are kept in "
                     "--runs-dir and reused or resumed when the command is run again. Config overrides for "
                     "every supernet are given as in hnas train (epochs=1 or --epochs 1). Writes report.md, "
                     "report.json, tau.png, tau_vs_time.png and best_supernet.png to --out-dir."),
    )
    report.add_argument("--ground-truth", type=Path, default=DEFAULT_OUT, metavar="FILE",
                        help=f"ground-truth file with its .meta.json (default: {DEFAULT_OUT})")
    report.add_argument("--config", type=Path, metavar="YAML",
                        help="base training config of the supernets (default: the embedded default)")
    report.add_argument("--methods", metavar="A,B,...",
                        help=f"comma-separated subset of: {', '.join(method_names())} (default: all)")
    report.add_argument("--seeds", type=int, default=REPORT_SEEDS, metavar="S",
                        help=f"training seeds 0 .. S-1 per supernet method (default: {REPORT_SEEDS})")
    add_overrides(report)  # for every supernet, as in hnas train: epochs=1 or --epochs 1
    report.add_argument("--set", dest="overrides", action=DeprecatedSetOverride, metavar="KEY=VALUE",
                        help=argparse.SUPPRESS)
    report.add_argument("--val-images", type=int, default=REPORT_VAL_IMAGES, metavar="K",
                        help=f"evaluate each arch on a seeded subset of K val images (default: {REPORT_VAL_IMAGES}; "
                             "0: all of them, as the ground truth was measured)")
    report.add_argument("--recal-batches", type=int, default=4, metavar="N",
                        help="BN recalibration batches per arch (default: 4)")
    report.add_argument("--recal-batch-size", type=int, default=64, metavar="B",
                        help="images per recalibration batch (default: 64)")
    report.add_argument("--out-dir", type=Path, metavar="DIR",
                        help=f"where the table and plots go (default: {DEFAULT_OUT.parent}; with --quick "
                             "the runs dir)")
    report.add_argument("--runs-dir", type=Path, metavar="DIR",
                        help=f"supernet checkpoints and predictions (default: {REPORT_RUNS}; with --quick "
                             f"{REPORT_RUNS}_quick)")
    report.add_argument("--workers", type=int, default=2,
                        help="supernet runs trained at a time, each in a single-threaded CPU process; 1: one "
                             "after the other in this process (same results; default: 2)")
    report.add_argument("--restart", action="store_true",
                        help="retrain the selected methods instead of reusing or resuming earlier runs")
    report.add_argument("--finished-only", action="store_true",
                        help="train nothing: render the runs already finished in --runs-dir and list the "
                             "missing ones (a report built across sessions, while its last runs train)")
    report.add_argument("--force", action="store_true",
                        help="replace existing report.md, report.json, tau.png, tau_vs_time.png, "
                             "best_supernet.png in --out-dir")
    report.add_argument("--quick", action="store_true",
                        help="smaller budget to try it: 1 seed, 1 epoch, 500 val images, 2 recalibration "
                             "batches; outputs stay in the runs dir")
    report.set_defaults(func=run_report, imports_paddle=True,
                        resume_hint="trained runs are kept in --runs-dir: run the same command again to reuse them")


def check_build_outputs(out: Path, inputs: list[Path | None], force: bool) -> None:
    """The ground-truth file and its siblings, checked before any training starts.

    An existing file whose progress file is next to it is this build's own result (it is
    resumed); any other existing file needs ``--force``.
    """
    from hnas.benchmark.groundtruth import sibling
    from hnas.io.outputs import check_output_file

    progress = sibling(out, ".progress.jsonl")
    own = progress.is_file()
    check_output_file(out, inputs, force, what="--out", own_result=own)
    check_output_file(sibling(out, ".meta.json"), inputs, force, what="meta file", own_result=own)
    check_output_file(progress, inputs, True, what="progress file")


def check_report_outputs(out_dir: Path, runs_dir: Path, inputs: list[Path | None], force: bool) -> None:
    """The report's folders and files, checked before any supernet is trained."""
    from hnas.benchmark.render import OUTPUT_FILES
    from hnas.io.outputs import check_output_dir, check_output_file

    check_output_dir(runs_dir, inputs, what="--runs-dir")
    check_output_dir(out_dir, inputs, what="--out-dir")
    for name in OUTPUT_FILES:
        if out_dir.is_dir():
            check_output_file(out_dir / name, inputs, force, what="report file")


def run_build(args: argparse.Namespace) -> int:
    import paddle

    from hnas.benchmark.groundtruth import build_ground_truth
    from hnas.benchmark.standalone import load_bench_data

    paddle.set_device("cpu")
    if args.n_archs < 2 or args.seeds < 1 or args.workers < 1:
        raise HnasError("--n-archs must be >= 2, --seeds and --workers >= 1")
    if args.max_runs is not None and args.max_runs < 1:
        raise HnasError(f"--max-runs must be >= 1, got {args.max_runs}")
    check_build_outputs(args.out, [args.recipe], args.force)
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
    taus = ", ".join(f"{name} {tau:+.3f}" for name, tau in prior_taus(header, accs).items())
    print(f"priors vs mean acc (Kendall tau; + means more of it ranks higher): {taus}")
    print(json.dumps(ceiling.to_dict()))
    return 0


#: The training-free priors ``hnas bench noise`` scores against the finished archs' mean accuracy.
NOISE_PRIORS: tuple[str, ...] = ("flops", "params", "depth", "width")


def prior_taus(header: dict, accs: dict[str, list[float]]) -> dict[str, float]:
    """Kendall tau between each of :data:`NOISE_PRIORS` and the seed-mean accuracy of the finished archs.

    They show what the recipe rewards (e.g. a strongly negative ``depth``: shallow archs train
    faster in a short schedule).
    """
    from scipy import stats

    from hnas.proxies.registry import PROXIES
    from hnas.search_spaces.spaces import resolve_space

    space = resolve_space(header["recipe"]["space"])
    keys = sorted(accs)
    specs = [space.decode(header["archs"][key]) for key in keys]
    means = [sum(accs[key]) / len(accs[key]) for key in keys]
    return {name: float(stats.kendalltau([PROXIES.get(name)(space, spec) for spec in specs], means)[0])
            for name in NOISE_PRIORS}


def run_report(args: argparse.Namespace) -> int:
    import shlex

    import paddle

    from hnas.benchmark.methods import select_methods
    from hnas.benchmark.render import markdown_table, verdict, write_report
    from hnas.benchmark.report import ReportSettings, build_report
    from hnas.benchmark.truth import read_ground_truth

    paddle.set_device("cpu")
    if args.seeds < 1:
        raise HnasError(f"--seeds must be >= 1, got {args.seeds}")
    names = None if args.methods is None else [name.strip() for name in args.methods.split(",") if name.strip()]
    methods = select_methods(names)
    truth = read_ground_truth(args.ground_truth)
    runs_dir = args.runs_dir or (Path(f"{REPORT_RUNS}_quick") if args.quick else REPORT_RUNS)
    out_dir = args.out_dir or (runs_dir if args.quick else args.ground_truth.parent)
    seeds, overrides, recal = args.seeds, list(args.overrides), args.recal_batches
    if args.val_images < 0:
        raise HnasError(f"--val-images must be >= 0, got {args.val_images}")
    val_images = args.val_images or None
    if args.quick:
        seeds, overrides = 1, ["epochs=1", *overrides]
        val_images = min(val_images or 500, 500)
        recal = min(recal, 2)
    settings = ReportSettings(config=args.config, runs_dir=runs_dir, seeds=tuple(range(seeds)),
                              overrides=tuple(overrides), val_images=val_images, recal_batches=recal,
                              recal_batch_size=args.recal_batch_size,
                              restart=args.restart, workers=args.workers, finished_only=args.finished_only)
    check_report_outputs(out_dir, runs_dir, [args.ground_truth, args.config], args.force)
    report = build_report(truth, methods, settings)
    command = "hnas " + " ".join(shlex.quote(part) for part in args.argv)
    for path in write_report(report, out_dir, command):
        print(f"wrote {path}")
    print(markdown_table(report))
    print(verdict(report))
    return 0
