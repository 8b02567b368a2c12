"""``hnas search``: evolutionary or random search of a trained supernet under FLOPs / params limits."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from hnas.commands._args import add_weights_argument
from hnas.errors import HnasError

#: Files a search folder holds.
STATE_FILE, HISTORY_FILE, BEST_FILE, BUCKETS_FILE = "state.json", "history.json", "best.json", "best_per_bucket.json"
CANDIDATES_FILE = "candidates.json"
PROGRESS_PLOT, PARETO_PLOT, PARETO_LATENCY_PLOT = "best_per_generation.png", "pareto_flops.png", "pareto_latency.png"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search",
        help="evolutionary (or random) search for the best subnet of a supernet under FLOPs/params limits",
        description=(
            "Score candidates with the supernet (BN recalibrated per candidate by default) on a fixed validation "
            "subset and keep the best under the limits. Defaults follow SPOS: population 50, top-k 10, 25 mutations "
            "(p 0.1), 25 crossovers, 20 generations. OUT gets state.json (resumable: rerun the same command after a "
            "kill), history.json (every candidate in the competition arch-file format, acc = supernet top-1: a valid "
            "submission for hnas validate), candidates.json (the same keys with generation and costs), "
            "best.json and plots. An infeasible limit is refused before anything is loaded."
        ),
    )
    parser.add_argument("--ckpt", type=Path, metavar="DIR_OR_FILE", help="supernet checkpoint (as for hnas eval)")
    add_weights_argument(parser)
    parser.add_argument("--config", type=Path, metavar="YAML", help="train config overriding the checkpoint's")
    parser.add_argument("--search-config", type=Path, metavar="YAML", help="search settings (SearchCfg field names)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="search folder")
    parser.add_argument("--strategy", choices=("evolution", "random"))
    for name in ("population", "top-k", "mutations", "crossovers", "generations", "seed"):
        parser.add_argument(f"--{name}", type=int, metavar="N")
    parser.add_argument("--mutation-prob", type=float, metavar="P")
    for metric in ("flops", "params"):
        parser.add_argument(f"--max-{metric}", type=float, metavar="X", help=f"upper limit on {metric}")
        parser.add_argument(f"--min-{metric}", type=float, metavar="X", help=f"lower limit on {metric}")
    parser.add_argument("--max-latency", type=float, metavar="MS", help="upper limit on the table's latency (ms)")
    parser.add_argument("--min-latency", type=float, metavar="MS", help="lower limit on the table's latency (ms)")
    parser.add_argument("--latency-table", type=Path, metavar="FILE",
                        help="table from 'hnas latency build' (needed for the latency limits; recorded per candidate)")
    parser.add_argument("--buckets", metavar="METRIC:LOW:HIGH:STEP",
                        help="multi-target mode: keep the best subnet per bucket, e.g. flops:8e6:30e6:2e6 "
                             "(writes best_per_bucket.json)")
    parser.add_argument("--distribution", default="uniform",
                        help="distribution of the space to search (default: uniform)")
    parser.add_argument("--val-images", type=int, default=500, metavar="K", help="validation images (default: 500)")
    parser.add_argument("--recal-batches", type=int, default=4, metavar="N",
                        help="BN recalibration batches per candidate; 0 = the supernet's statistics (default: 4)")
    parser.add_argument("--recal-batch-size", type=int, default=64, metavar="B")
    parser.add_argument("--batch-size", type=int, default=256, metavar="B")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="another search folder to draw in the progress plot")
    parser.add_argument("--force", action="store_true", help="discard a search in OUT and start again")
    parser.set_defaults(func=run, imports_paddle=True,
                        resume_hint="finished generations are kept: run the same command again to resume")


def search_cfg(args: argparse.Namespace):  # -> SearchCfg
    """The search settings: ``--search-config`` (strictly typed, unknown keys refused), then the flags.

    Raises:
        HnasError: unreadable or malformed YAML, an unknown key or a value of the wrong type (naming it).
    """
    from hnas.config import ConfigError, config_from_dict, parse_yaml
    from hnas.search.evolution import SearchCfg

    values = {}
    if args.search_config is not None:
        try:
            text = args.search_config.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise HnasError(f"--search-config {args.search_config}: cannot read ({error})") from None
        values = parse_yaml(text, source=str(args.search_config)) or {}
        if not isinstance(values, dict):
            raise HnasError(f"--search-config {args.search_config}: expected a mapping of settings")
        known = {f.name for f in dataclasses.fields(SearchCfg)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise HnasError(f"--search-config {args.search_config}: unknown key(s) {unknown}; known: {sorted(known)}")
    for name in ("strategy", "population", "top_k", "mutations", "crossovers", "generations", "seed", "mutation_prob"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    try:
        return config_from_dict(values, SearchCfg)
    except ConfigError as error:
        source = "search settings" if args.search_config is None else f"--search-config {args.search_config}"
        raise HnasError(f"{source}: {error}") from None


def _check_compare(compare: Path | None) -> None:
    """``--compare DIR`` must hold a search state (checked before any work, not after the search)."""
    if compare is not None and not (compare / STATE_FILE).is_file():
        raise HnasError(f"--compare {compare}: no {STATE_FILE} there (not a search folder)")


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise HnasError(f"--out {out} exists and is not a folder")
    if out.exists() and not force:
        ours = (STATE_FILE, HISTORY_FILE, CANDIDATES_FILE, BEST_FILE, BUCKETS_FILE, PROGRESS_PLOT, PARETO_PLOT,
                PARETO_LATENCY_PLOT)
        foreign = [p.name for p in out.iterdir() if not p.name.startswith(".") and p.name not in ours]
        if foreign:
            raise HnasError(f"--out {out} holds other files ({', '.join(sorted(foreign)[:3])}); choose another folder")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise HnasError(f"--out {out}: folder {parent} does not exist")


def run(args: argparse.Namespace) -> int:
    import json

    from hnas.checkpoints.source import config_space, load_supernet, locate
    from hnas.data.datasets import build_split
    from hnas.evaluation.eval_data import load_eval_data
    from hnas.io.atomic import atomic_write_text
    from hnas.nn.scorer import SubnetScorer
    from hnas.search.evolution import Buckets, SearchState, run_search
    from hnas.search.plots import plot_pareto, plot_progress
    from hnas.search_spaces.distributions import ConstrainedDistribution, Constraint, cost_function

    cfg = search_cfg(args)
    buckets = None if args.buckets is None else Buckets.parse(args.buckets)
    out: Path = args.out
    _check_out(out, args.force)
    _check_compare(args.compare)
    source = locate(args.ckpt, args.config, weights=args.weights)
    space = source.space or config_space(source.config)
    base = space.distribution(args.distribution)
    costs = {"flops": cost_function(space, "flops"), "params": cost_function(space, "params")}
    if args.latency_table is not None:
        from hnas.proxies.latency import LatencyTable

        costs["latency"] = LatencyTable.load(args.latency_table, space).predict
    elif args.max_latency is not None or args.min_latency is not None:
        raise HnasError("--max-latency / --min-latency need --latency-table FILE (hnas latency build)")
    constraints = [Constraint(m, costs[m], getattr(args, f"min_{m}"), getattr(args, f"max_{m}"))
                   for m in costs if getattr(args, f"min_{m}") is not None or getattr(args, f"max_{m}") is not None]
    dist = ConstrainedDistribution(base, constraints, cfg.max_draws) if constraints else base
    if buckets is not None and buckets.metric not in costs:
        raise HnasError(f"--buckets metric {buckets.metric!r}: known {', '.join(costs)}")
    settings = {"search": dataclasses.asdict(cfg), "buckets": args.buckets, "space": space.name,
                "distribution": args.distribution,
                "constraints": [c.describe() for c in constraints], "val_images": args.val_images,
                "recal_batches": args.recal_batches, "recal_batch_size": args.recal_batch_size,
                "weights": str(source.weights),
                "latency_table": None if args.latency_table is None else str(args.latency_table)}
    state_path = out / STATE_FILE
    if args.force and state_path.exists():
        state_path.unlink()
    state = SearchState.load(state_path, settings)
    data_cfg = source.config.data
    val = build_split(data_cfg, "val")
    train = build_split(data_cfg, "train") if args.recal_batches else None
    data = load_eval_data(val, train, args.val_images, args.recal_batches, args.recal_batch_size, args.batch_size, 0)
    supernet = load_supernet(source.weights, space)
    scorer = SubnetScorer(supernet, data.val, data.recal, "reset" if args.recal_batches else "none")
    out.mkdir(exist_ok=True)
    state = run_search(space, dist, lambda spec: scorer.score(spec)[0], costs, cfg, state, state_path, buckets)
    # history.json is exactly the competition format (a valid submission); candidates.json adds the rest.
    keys = [f"arch{i}" for i in range(1, len(state.history) + 1)]
    history = {key: {"acc": c.score, "arch": c.arch} for key, c in zip(keys, state.history)}
    candidates = {key: {"acc": c.score, "arch": c.arch, "generation": c.generation, **c.costs}
                  for key, c in zip(keys, state.history)}
    atomic_write_text(out / HISTORY_FILE, json.dumps(history, indent=1) + "\n")
    atomic_write_text(out / CANDIDATES_FILE, json.dumps(candidates, indent=1) + "\n")
    best = state.best()
    atomic_write_text(out / BEST_FILE, json.dumps({"arch": best.arch, "acc": best.score, "generation": best.generation,
                                                   **best.costs, "constraints": settings["constraints"],
                                                   "strategy": cfg.strategy}, indent=1) + "\n")
    if buckets is not None:
        per_bucket = {buckets.label(i): {"arch": group[0].arch, "acc": group[0].score, **group[0].costs}
                      for i, group in buckets.best(state.history).items()}
        atomic_write_text(out / BUCKETS_FILE, json.dumps(per_bucket, indent=1) + "\n")
    states = {cfg.strategy: state}
    if args.compare is not None:
        other = json.loads((args.compare / STATE_FILE).read_text(encoding="utf-8"))
        states[f"{other['settings']['search']['strategy']} ({args.compare.name})"] = SearchState.load(
            args.compare / STATE_FILE, other["settings"])
    plot_progress(states, out / PROGRESS_PLOT)
    plot_pareto(state, "flops", out / PARETO_PLOT)
    if "latency" in costs:
        plot_pareto(state, "latency", out / PARETO_LATENCY_PLOT)
    print(f"best of {len(state.history)} candidates: {best.arch} supernet top-1 {best.score:.4f}, "
          f"{best.costs['flops']:,.0f} FLOPs; wrote {out}")
    return 0
