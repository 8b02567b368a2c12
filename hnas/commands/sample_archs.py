"""``hnas sample-archs``: write random arch codes as a competition-format arch file."""

from __future__ import annotations

import argparse
from pathlib import Path

from hnas.commands._args import add_output_arguments
from hnas.errors import HnasError
from hnas.io.arch_space import space_of_file
from hnas.io.archs import entries_from_codes, load_arch_file, sample_entries, write_arch_file
from hnas.io.outputs import check_output_file
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import DEFAULT_SPACE, SPACES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample-archs",
        help="write N random archs as a test.json-format file",
        description=(
            'Draw N distinct random archs and write {"arch1": {"acc": 0.0, "arch": "..."}, ...}, '
            "or with --from FILE draw N entries of an existing arch file (keys kept). "
            "The same seed gives the same file."
        ),
    )
    parser.add_argument("--n", type=int, required=True, help="number of archs")
    add_output_arguments(parser, "FILE", "arch file to write", required=True,
                         force_help="replace FILE if it exists (never the --from file)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--distribution", default="uniform",
                        help="a distribution of the space: uniform (all codes); for resnet spaces also "
                             "competition, like the Track 1 test.json (default: uniform)")
    parser.add_argument("--from", dest="source", type=Path, metavar="FILE",
                        help="draw the archs from this arch file instead of sampling new codes")
    parser.add_argument("--space", default=None,
                        help=f"search space name (default: {DEFAULT_SPACE}; with --from, the registered space "
                             "the file's codes fit)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise HnasError(f"--n must be at least 1, got {args.n}")
    check_output_file(args.out, [args.source], args.force, what="--out")
    note = None
    if args.source is not None:
        found = space_of_file(args.source, args.space)
        found.space.distribution(args.distribution)  # an unknown name fails here, before anything is written
        entries = sample_entries(load_arch_file(args.source, found.space), args.n, seed=args.seed)
        origin, note = f"{found.space.name} archs drawn from {args.source}", found.note()
    else:
        space = SPACES.get(args.space or DEFAULT_SPACE)
        space.distribution(args.distribution)  # an unknown name fails here, before anything is sampled
        codes = sample_codes(space, args.n, seed=args.seed, distribution=args.distribution)
        entries = entries_from_codes(codes, space)
        origin = f"{args.distribution} archs of {space.name}"
    write_arch_file(args.out, entries, accs={key: 0.0 for key in entries})
    print(f"wrote {len(entries)} {origin} (seed {args.seed}) to {args.out}")
    if note:
        print(note)
    return 0
