"""``hnas validate FILE``: check an arch file, or a submission, before using it.

Exit code 0 prints ``OK: N archs`` and the space read (found from the codes unless ``--space``
names it; :mod:`hnas.io.arch_space`); exit code 2 lists every bad entry on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hnas.errors import USAGE_EXIT_CODE
from hnas.io.arch_space import misfit_hint, space_of_file
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
        default=None,
        choices=SPACES.names(),
        help="search space the arch codes belong to (default: the registered space they fit)",
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
    found = space_of_file(args.file, args.space)
    space = found.space
    check = check_arch_file(args.file, space)
    problems = list(check.problems)
    if args.submission:
        problems += submission_problems(check.entries)
    if args.against is not None:
        reference = load_arch_file(args.against, space)
        problems += reference_problems(check.keys, check.entries, reference, str(args.against))
    if problems:
        message = format_problems(str(args.file), problems, check.total)
        if args.space is not None and len(check.entries) < len(check.keys):
            message += "\n" + misfit_hint(args.file, space)
        print(f"hnas: error: {message}", file=sys.stderr)
        return USAGE_EXIT_CODE
    checks = [f"space {space.name}"]
    if args.submission:
        checks.append("submission checks passed")
    if args.against is not None:
        checks.append(f"same keys and archs as {args.against}")
    print(f"OK: {len(check.entries)} archs ({'; '.join(checks)})")
    if found.note():
        print(found.note())
    return 0
