"""``hnas merge``: join part files (from ``hnas split`` or ``hnas eval --shard``) into one file."""

from __future__ import annotations

import argparse
from pathlib import Path

from hnas.commands._args import add_output_arguments
from hnas.evaluation.shards import merge_files
from hnas.io.outputs import check_output_file
from hnas.search_spaces.spaces import DEFAULT_SPACE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "merge",
        help="merge part files into one arch file, checking every key appears once",
        description=(
            "Concatenate part files into one arch file (written atomically). Every key must appear in exactly "
            "one part; parts named *_part{i}of{N}.json are ordered by i and must all be present. With "
            "--against ORIGINAL the keys must be exactly the original's, arch strings must match it, and "
            "the output follows its key order."
        ),
    )
    parser.add_argument("parts", type=Path, nargs="+", metavar="PART", help="part files")
    add_output_arguments(parser, "FILE", "merged file", required=True,
                         force_help="replace FILE if it exists (never one of the parts)")
    parser.add_argument("--against", type=Path, metavar="ORIGINAL", help="the file that was split")
    parser.add_argument("--space", default=DEFAULT_SPACE, help=f"search space of the codes (default: {DEFAULT_SPACE})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output_file(args.out, [*args.parts, args.against], args.force, what="--out")
    merged = merge_files(args.parts, args.out, args.space, against=args.against)
    print(f"merged {len(merged)} entries from {len(args.parts)} part(s) into {args.out}")
    return 0
