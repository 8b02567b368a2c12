"""``hnas zen``: ZenScore of arch codes or of a whole arch file (training-free proxy)."""

from __future__ import annotations

import argparse
import json
import logging
import time

from hnas.commands._args import add_arch_arguments, add_output_arguments, entries_from_arguments
from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text
from hnas.io.outputs import check_output_file
from hnas.search_spaces.spaces import SPACES

logger = logging.getLogger(__name__)

#: Progress is logged every this many archs.
_LOG_EVERY = 100


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "zen",
        help="ZenScore of arch codes (training-free proxy, Zen-NAS)",
        description=(
            "Print the ZenScore of each arch: mean, standard deviation and 95% CI half-width "
            "over --repeats draws of Gaussian weights and inputs, on a fresh network without "
            "residual shortcuts. Give arch codes, or an arch file with --json."
        ),
    )
    add_arch_arguments(parser)
    parser.add_argument("--repeats", type=int, default=32, metavar="N",
                        help="draws of weights and inputs per arch (default: 32)")
    parser.add_argument("--batch-size", type=int, default=16, metavar="B",
                        help="Gaussian inputs per draw (default: 16)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of every draw (default: 0)")
    parser.add_argument("--resolution", type=int, metavar="R",
                        help="input size in pixels (default: the resolution the code encodes)")
    add_output_arguments(parser, "FILE", 'also write {key: {"arch": ..., "zen": ..., "std": ..., "ci95": ...}} as JSON')
    parser.set_defaults(func=run, imports_paddle=True)


def run(args: argparse.Namespace) -> int:
    from hnas.proxies.zen_score import zen_score  # imports Paddle

    space = SPACES.get(args.space)
    for name in ("repeats", "batch_size", "resolution"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise HnasError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.seed < 0:
        raise HnasError(f"--seed must be >= 0, got {args.seed}")
    if args.out is not None:
        check_output_file(args.out, [args.json_file], args.force, what="--out")
    entries = entries_from_arguments(args.archs, args.json_file, space)
    start = time.perf_counter()
    rows: dict[str, dict[str, object]] = {}
    key_width = max(len("key"), *(len(key) for key in entries))
    for done, (key, entry) in enumerate(entries.items(), start=1):
        result = zen_score(space, entry.spec, batch_size=args.batch_size, repeats=args.repeats, seed=args.seed,
                            resolution=args.resolution)
        if done == 1:  # after the first score, so bad settings fail before any output
            print(f"{'key':<{key_width}}  {'arch':<{space.code_length}}  {'zen':>10}  {'std':>8}  {'ci95':>8}")
        rows[key] = {"arch": entry.arch, "zen": result.mean, "std": result.std, "ci95": result.ci95}
        print(f"{key:<{key_width}}  {entry.arch:<{space.code_length}}  {result.mean:>10.4f}  "
              f"{result.std:>8.4f}  {result.ci95:>8.4f}", flush=True)
        if done % _LOG_EVERY == 0:
            logger.info("scored %d / %d archs in %.1f s", done, len(entries), time.perf_counter() - start)
    if args.out is not None:
        atomic_write_text(args.out, json.dumps(rows, indent=1) + "\n")
        print(f"wrote {len(rows)} entries to {args.out}")
    return 0
