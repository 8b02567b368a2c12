"""``hnas latency build``: measure a latency lookup table of a space on this machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from hnas.commands._args import add_output_arguments
from hnas.errors import HnasError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("latency", help="latency lookup tables (hnas latency build)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build", help="time every block configuration of a space on this machine and write a table",
        description="Time the stem, every residual block shape at its input size and the head that subnets of "
                    "SPACE use (eval mode, no gradients; warm-up runs, then the median of N), and write a JSON "
                    "table with device, batch, repeats and Paddle version in its header. The latency prior "
                    "(loss.rank_prior latency) and hnas search --max-latency sum it over a subnet's blocks.")
    build.add_argument("--space", default="resnet48_tiny", help="search space (default: resnet48_tiny)")
    build.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    build.add_argument("--batch-size", type=int, default=1, metavar="B", help="images per timed run (default: 1)")
    build.add_argument("--warmup", type=int, default=3, metavar="N", help="untimed runs per block (default: 3)")
    build.add_argument("--repeats", type=int, default=10, metavar="N", help="timed runs per block (default: 10)")
    add_output_arguments(build, "FILE", "table to write (JSON)", required=True, force_help="replace FILE if it exists")
    build.set_defaults(func=run, imports_paddle=True)


def run(args: argparse.Namespace) -> int:
    from hnas.evaluation.reporter import ProgressReporter
    from hnas.proxies.latency import build_table, write_table
    from hnas.search_spaces.spaces import SPACES

    space = SPACES.get(args.space)
    out: Path = args.out
    if out.exists() and not args.force:
        raise HnasError(f"{out} exists; pass --force to replace it")
    if out.is_dir() or not out.resolve().parent.is_dir():
        raise HnasError(f"cannot write {out}: not a file in an existing folder")
    try:
        total = len(space.all_latency_keys())
    except NotImplementedError as error:
        raise HnasError(str(error)) from None
    reporter = ProgressReporter(total, unit="blocks", label="latency")
    table = build_table(space, args.device, args.batch_size, args.warmup, args.repeats,
                        progress=lambda done, _: reporter.update())
    reporter.close()
    write_table(table, out)
    print(f"wrote {out}: {len(table['entries'])} blocks of {space.name} on {args.device}, batch {args.batch_size}")
    return 0
