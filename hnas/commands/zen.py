"""``hnas zen``: ZenScore of arch codes or of a whole arch file (training-free proxy)."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from hnas.errors import ArchCodeError, HnasError
from hnas.io.archs import load_arch_file
from hnas.io.atomic import atomic_write_text
from hnas.proxies.zen_score import zen_score
from hnas.search_spaces.spaces import SPACES
from hnas.search_spaces.spec import SpaceDef, SubnetSpec, decode

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
    parser.add_argument("archs", nargs="*", metavar="ARCH", help="arch codes, keyed arch1, arch2, ... in order")
    parser.add_argument("--json", dest="json_file", type=Path, metavar="FILE",
                        help='arch file {"arch1": {"acc": ..., "arch": "..."}, ...} (instead of ARCH codes)')
    parser.add_argument("--space", default="resnet48", help="search space name (default: resnet48)")
    parser.add_argument("--repeats", type=int, default=32, metavar="N",
                        help="draws of weights and inputs per arch (default: 32)")
    parser.add_argument("--batch-size", type=int, default=16, metavar="B",
                        help="Gaussian inputs per draw (default: 16)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of every draw (default: 0)")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help='also write {key: {"arch": ..., "zen": ..., "std": ..., "ci95": ...}} as JSON')
    parser.set_defaults(func=run)


def _decode_arguments(codes: list[str], space: SpaceDef) -> dict[str, tuple[str, SubnetSpec]]:
    """Decode every command-line code, reporting all bad ones at once."""
    archs: dict[str, tuple[str, SubnetSpec]] = {}
    problems: list[str] = []
    for index, code in enumerate(codes, start=1):
        try:
            archs[f"arch{index}"] = (code, decode(code, space))
        except ArchCodeError as error:
            problems.append(f"  arch{index} (argument {index}): {error}")
    if problems:
        raise HnasError("\n".join([f"{len(problems)} bad arch code(s) on the command line:", *problems]))
    return archs


def _load_archs(args: argparse.Namespace, space: SpaceDef) -> dict[str, tuple[str, SubnetSpec]]:
    if args.json_file is not None and args.archs:
        raise HnasError("give arch codes or --json FILE, not both")
    if args.json_file is not None:
        return {key: (entry.arch, entry.spec) for key, entry in load_arch_file(args.json_file, space).items()}
    if not args.archs:
        raise HnasError("nothing to score: give arch codes or --json FILE")
    return _decode_arguments(args.archs, space)


def run(args: argparse.Namespace) -> int:
    space = SPACES.get(args.space)
    archs = _load_archs(args, space)
    start = time.perf_counter()
    rows: dict[str, dict[str, object]] = {}
    key_width = max(len("key"), *(len(key) for key in archs))
    for done, (key, (code, spec)) in enumerate(archs.items(), start=1):
        result = zen_score(space, spec, batch_size=args.batch_size, repeats=args.repeats, seed=args.seed)
        if done == 1:  # after the first score, so bad settings fail before any output
            print(f"{'key':<{key_width}}  {'arch':<{space.code_length}}  {'zen':>10}  {'std':>8}  {'ci95':>8}")
        rows[key] = {"arch": code, "zen": result.mean, "std": result.std, "ci95": result.ci95}
        print(f"{key:<{key_width}}  {code:<{space.code_length}}  {result.mean:>10.4f}  "
              f"{result.std:>8.4f}  {result.ci95:>8.4f}", flush=True)
        if done % _LOG_EVERY == 0:
            logger.info("scored %d / %d archs in %.1f s", done, len(archs), time.perf_counter() - start)
    if args.out is not None:
        atomic_write_text(args.out, json.dumps(rows, indent=1) + "\n")
        print(f"wrote {len(rows)} entries to {args.out}")
    return 0
