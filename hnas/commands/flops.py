"""``hnas flops``: analytic FLOPs and parameters of arch codes or of a whole arch file."""

from __future__ import annotations

import argparse
import json
import statistics
import textwrap
import time
from pathlib import Path
from typing import Any, Mapping

from hnas.commands._args import add_arch_arguments, add_output_arguments, entries_from_arguments
from hnas.config import load_config
from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text
from hnas.io.outputs import check_output_file
from hnas.proxies.flops import CONVENTIONS, count_flops, count_params
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.spaces import DEFAULT_SPACE, SPACES, resolve_space


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "flops",
        help="FLOPs and parameters of arch codes, computed from the codes alone",
        description=textwrap.fill(
            "Print FLOPs and parameters of each arch, computed analytically (no model is built). "
            "Give arch codes, or an arch file with --json. The 'paddle' convention equals "
            "paddle.flops on the stand-alone network; 'macs' counts conv and linear "
            "multiply-accumulates only; 'pss' is PSS-Net's count (the MACs plus every average pool), "
            "the unit of its FLOPs bucket ranges.",
            width=79,
        ),
        epilog=reachable_ranges(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arch_arguments(parser)
    parser.add_argument("--resolution", type=int, metavar="R",
                        help="input size in pixels (default: the resolution the code encodes)")
    parser.add_argument("--convention", choices=CONVENTIONS, default="paddle",
                        help="what is counted (default: paddle)")
    add_output_arguments(parser, "FILE", 'also write {key: {"arch": ..., "flops": ..., "params": ...}} as JSON')
    parser.add_argument("--config", type=Path, metavar="YAML",
                        help="take the space from this train config (its name and space.overrides, e.g. "
                             "outer_activation: prelu, whose slopes count as parameters) instead of --space")
    parser.set_defaults(func=run)


def _millions(value: int) -> str:
    """``278.6M``, or ``444.8K`` below a million."""
    return f"{value / 1e6:,.1f}M" if value >= 1_000_000 else f"{value / 1e3:,.1f}K"


def reachable_ranges() -> str:
    """The FLOPs of every registered space's smallest and largest subnet, in both conventions."""
    lines = ["reachable FLOPs per space, smallest..largest subnet (paddle convention; macs):"]
    width = max(len(name) for name in SPACES.names())
    for name in SPACES.names():
        space = SPACES.get(name)
        low, high = space.min_spec(), space.max_spec()
        paddle, macs = (f"{_millions(space.flops(low, convention=c))}..{_millions(space.flops(high, convention=c))}"
                        for c in ("paddle", "macs"))
        lines.append(f"  {name:<{width}}  {paddle}  ({macs})")
    return "\n".join(lines)


def resolve_flops_space(space_name: str, config: Path | None) -> SearchSpace:
    """The space to count in: ``--config``'s (name and overrides), else the registered ``--space``.

    Raises:
        HnasError: a bad config, or ``--space`` other than the default contradicting the config.
    """
    if config is None:
        return SPACES.get(space_name)
    from hnas.train_config import TrainConfig

    cfg = load_config(config, schema=TrainConfig)
    if space_name not in (DEFAULT_SPACE, cfg.space.name):
        raise HnasError(f"--space {space_name} contradicts space.name {cfg.space.name!r} of {config}")
    return resolve_space(cfg.space.name, dict(cfg.space.overrides))


def _format_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _print_table(rows: Mapping[str, dict[str, Any]]) -> None:
    key_width = max(len("key"), *(len(key) for key in rows))
    arch_width = max(len("arch"), *(len(row["arch"]) for row in rows.values()))
    print(f"{'key':<{key_width}}  {'arch':<{arch_width}}  {'flops':>15}  {'params':>12}")
    for key, row in rows.items():
        print(f"{key:<{key_width}}  {row['arch']:<{arch_width}}  {row['flops']:>15,}  {row['params']:>12,}")


def _print_summary(rows: Mapping[str, dict[str, Any]], seconds: float) -> None:
    print(f"n: {len(rows)}")
    for column in ("flops", "params"):
        values = [row[column] for row in rows.values()]
        print(
            f"{column} min / median / max: {min(values):,} / "
            f"{_format_number(statistics.median(values))} / {max(values):,}"
        )
    rate = len(rows) / seconds if seconds > 0 else float("inf")
    print(f"time: {seconds:.3f} s ({rate:,.0f} archs/s)")


def run(args: argparse.Namespace) -> int:
    space = resolve_flops_space(args.space, args.config)
    if args.out is not None:
        check_output_file(args.out, [args.json_file], args.force, what="--out")
    entries = entries_from_arguments(args.archs, args.json_file, space)
    start = time.perf_counter()
    rows = {
        key: {
            "arch": entry.arch,
            "flops": count_flops(space, entry.spec, args.resolution, args.convention),
            "params": count_params(space, entry.spec),
        }
        for key, entry in entries.items()
    }
    seconds = time.perf_counter() - start
    _print_table(rows)
    if args.json_file is not None:
        _print_summary(rows, seconds)
    if args.out is not None:
        atomic_write_text(args.out, json.dumps(rows, indent=1) + "\n")
        print(f"wrote {len(rows)} entries to {args.out}")
    return 0
