"""``hnas prior NAME``: a training-free prior of every arch, as an arch file that ``hnas score`` reads.

The priors are the ``PROXIES`` registry (:mod:`hnas.proxies.registry`): ``flops``, ``params``,
``depth``, ``width``, ``zen``. With ``--out`` the result keeps the input's keys and arch
strings with ``acc`` = the prior's value, so any prior can be scored against an external
ground truth: ``hnas prior depth --json gt.json --out depth.json && hnas score depth.json gt.json``.
"""

from __future__ import annotations

import argparse
import json

from hnas.commands._args import add_arch_arguments, add_output_arguments, entries_from_arguments
from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text
from hnas.io.outputs import check_output_file
from hnas.search_spaces.spaces import SPACES

#: The priors offered (the PROXIES names; listed here so that the parser needs no Paddle).
PRIOR_NAMES: tuple[str, ...] = ("flops", "params", "depth", "width", "zen")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prior",
        help="a training-free prior (flops, params, depth, width, zen) of each arch, scorable with 'hnas score'",
        description=(
            "Compute the prior NAME of each arch (higher = expected more accurate) and print it; with --out write "
            'an arch file {"key": {"acc": <prior>, "arch": "..."}} in the input\'s key order, which '
            "'hnas score OUT GT' scores against any ground truth. zen builds a network per arch (slower)."
        ),
    )
    parser.add_argument("name", choices=PRIOR_NAMES, metavar="NAME", help=f"one of: {', '.join(PRIOR_NAMES)}")
    add_arch_arguments(parser)
    add_output_arguments(parser, "FILE", "write the arch file with acc = prior value")
    parser.set_defaults(func=run, imports_paddle=True)


def run(args: argparse.Namespace) -> int:
    from hnas.proxies.registry import PROXIES

    space = SPACES.get(args.space)
    if args.out is not None:
        check_output_file(args.out, [args.json_file], args.force, what="--out")
    entries = entries_from_arguments(args.archs, args.json_file, space)
    prior = PROXIES.get(args.name)
    values = {key: float(prior(space, entry.spec)) for key, entry in entries.items()}
    if len(set(values.values())) == 1 and len(values) > 1:
        raise HnasError(f"prior {args.name!r} gives every one of the {len(values)} archs the same value "
                        f"({next(iter(values.values()))!r}); it ranks nothing")
    key_width = max(len("key"), *(len(key) for key in entries))
    print(f"{'key':<{key_width}}  {'arch':<{space.code_length}}  {args.name:>16}")
    for key, entry in entries.items():
        print(f"{key:<{key_width}}  {entry.arch:<{space.code_length}}  {values[key]:>16.6g}")
    if args.out is not None:
        document = {key: {"acc": values[key], "arch": entry.arch} for key, entry in entries.items()}
        atomic_write_text(args.out, json.dumps(document, indent=1) + "\n")
        print(f"wrote {len(document)} entries to {args.out} (acc = {args.name})")
    return 0
