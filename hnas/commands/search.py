"""``hnas search``: evolutionary or random search of a trained supernet under FLOPs / params limits."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from hnas.commands._args import (
    add_checkpoint_arguments,
    add_output_arguments,
    add_scoring_arguments,
    add_shared_prefix_argument,
    scoring_options,
)
from hnas.errors import HnasError
from hnas.search_spaces.counting import FLOPS_CONVENTIONS

#: ``--val-images`` default: candidates are scored on a subset.
VAL_IMAGES = 500


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
    add_checkpoint_arguments(parser)
    parser.add_argument("--search-config", type=Path, metavar="YAML", help="search settings (SearchCfg field names)")
    add_output_arguments(parser, "DIR", "search folder", required=True,
                         force_help="discard a search in OUT and start again")
    parser.add_argument("--strategy", choices=("evolution", "random"))
    for name in ("population", "top-k", "mutations", "crossovers", "generations", "seed"):
        parser.add_argument(f"--{name}", type=int, metavar="N")
    parser.add_argument("--mutation-prob", type=float, metavar="P")
    for metric in ("flops", "params"):
        parser.add_argument(f"--max-{metric}", type=float, metavar="X", help=f"upper limit on {metric}")
        parser.add_argument(f"--min-{metric}", type=float, metavar="X", help=f"lower limit on {metric}")
    parser.add_argument("--flops-convention", choices=FLOPS_CONVENTIONS, default="paddle",
                        help="what --max/--min-flops, --buckets flops:... and the recorded FLOPs count (hnas flops "
                             "--convention; 'pss': PSS-Net's, the unit of its bucket ranges; default: paddle)")
    parser.add_argument("--max-latency", type=float, metavar="MS", help="upper limit on the table's latency (ms)")
    parser.add_argument("--min-latency", type=float, metavar="MS", help="lower limit on the table's latency (ms)")
    parser.add_argument("--latency-table", type=Path, metavar="FILE",
                        help="table from 'hnas latency build' (needed for the latency limits; recorded per candidate)")
    parser.add_argument("--buckets", metavar="METRIC:LOW:HIGH:STEP",
                        help="multi-target mode: keep the best subnet per bucket, e.g. flops:8e6:30e6:2e6 "
                             "(writes best_per_bucket.json)")
    parser.add_argument("--distribution", default="uniform",
                        help="distribution of the space to search (default: uniform)")
    add_scoring_arguments(parser, val_images=VAL_IMAGES)
    add_shared_prefix_argument(parser, "candidates")
    parser.add_argument("--predictor", type=Path, metavar="FILE",
                        help="score candidates with this accuracy predictor (hnas predictor fit) instead of the "
                             "supernet, as OFA does; no checkpoint needed unless --rescore-top is given")
    parser.add_argument("--rescore-top", type=int, default=0, metavar="K",
                        help="with --predictor: score the K best predicted candidates with the supernet after the "
                             "search (writes rescored.json; best.json is the best of them). Default: 0")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="another search folder to draw in the progress plot")
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


def run(args: argparse.Namespace) -> int:
    from hnas.search.run import SearchRun, run_search_folder

    limits = {metric: (getattr(args, f"min_{metric}"), getattr(args, f"max_{metric}"))
              for metric in ("flops", "params", "latency")}
    request = SearchRun(out=args.out, search=search_cfg(args), checkpoint=args.ckpt, config=args.config,
                        weights=args.weights, scoring=scoring_options(args), limits=limits,
                        latency_table=args.latency_table, buckets=args.buckets, distribution=args.distribution,
                        compare=args.compare, force=args.force, flops_convention=args.flops_convention,
                        predictor=args.predictor, rescore_top=args.rescore_top, shared_prefix=args.shared_prefix)
    state = run_search_folder(request)
    if args.rescore_top:
        import json

        best = json.loads((args.out / "best.json").read_text(encoding="utf-8"))
        print(f"best of {len(state.history)} candidates (top {args.rescore_top} by the predictor re-scored by the "
              f"supernet): {best['arch']} supernet top-1 {best['acc']:.4f} (predicted {best['predicted']:.4f}), "
              f"{best['flops']:,.0f} FLOPs; wrote {args.out}")
        return 0
    best = state.best()
    scorer = "supernet top-1" if args.predictor is None else "predicted top-1"
    print(f"best of {len(state.history)} candidates: {best.arch} {scorer} {best.score:.4f}, "
          f"{best.costs['flops']:,.0f} FLOPs; wrote {args.out}")
    return 0
