"""``hnas validate FILE``: check an arch file, or a submission, before using it.

Exit code 0 prints ``OK: N archs``; exit code 2 lists every bad entry on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hnas.errors import USAGE_EXIT_CODE
from hnas.io.archs import check_arch_file, format_problems, load_arch_file, reference_problems, submission_problems
from hnas.search_spaces import SPACES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check an arch file or a submission",
        description=(
            "Check every entry of a competition-format arch file "
            '({"arch1": {"acc": 0.0, "arch": "<code>"}, ...}) and list all problems at once.'
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="arch JSON file to check")
    parser.add_argument(
        "--space",
        default="resnet48",
        choices=SPACES.names(),
        help="search space the arch codes belong to (default: %(default)s)",
    )
    parser.add_argument(
        "--submission",
        action="store_true",
        help="also require finite accuracies that are not all equal",
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="TEST_JSON",
        help="also require the same keys and arch codes as this file (the competition test file)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check = check_arch_file(args.file, args.space)
    problems = list(check.problems)
    if args.submission:
        problems += submission_problems(check.entries)
    if args.against is not None:
        reference = load_arch_file(args.against, args.space)
        problems += reference_problems(check.keys, check.entries, reference, str(args.against))
    if problems:
        print(f"hnas: error: {format_problems(str(args.file), problems, check.total)}", file=sys.stderr)
        return USAGE_EXIT_CODE
    checks = [f"space {args.space}"]
    if args.submission:
        checks.append("submission checks passed")
    if args.against is not None:
        checks.append(f"same keys and archs as {args.against}")
    print(f"OK: {len(check.entries)} archs ({'; '.join(checks)})")
    return 0
