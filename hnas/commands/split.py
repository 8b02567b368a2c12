"""``hnas split``: cut an arch file into contiguous parts for parallel evaluation."""

from __future__ import annotations

import argparse
from pathlib import Path

from hnas.commands._args import add_output_arguments
from hnas.evaluation.shards import split_file
from hnas.search_spaces.spaces import DEFAULT_SPACE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "split",
        help="split an arch file into N contiguous parts",
        description=(
            "Validate an arch file and write DIR/<stem>_part{i}of{N}.json, i = 0..N-1: contiguous runs of the "
            "input in its order, sizes differing by at most one. Part i holds the archs that "
            "'hnas eval --shard i/N' evaluates. Existing part files are kept unless --force."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="arch file to split")
    parser.add_argument("--parts", type=int, required=True, metavar="N", help="number of parts")
    add_output_arguments(parser, "DIR", "folder for the part files", required=True,
                         force_help="overwrite existing part files")
    parser.add_argument("--space", default=DEFAULT_SPACE, help=f"search space of the codes (default: {DEFAULT_SPACE})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for path in split_file(args.file, args.parts, args.out, args.space, force=args.force):
        print(path)
    return 0
