"""``hnas dynamic-eval``: a gated (DS-Net stage II) network next to its static width levels."""

from __future__ import annotations

import argparse
from pathlib import Path

from hnas.commands._args import add_output_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dynamic-eval",
        help="accuracy and MAdds of a gated network's dynamic forward vs its static width levels",
        description=(
            "Load a stage II checkpoint (hnas train with a gate section), measure the top-1 and MAdds per image "
            "of every static width level and of the dynamic network (each image routed by the gate, the batch "
            "grouped by width) on the whole validation split, and write OUT/results.json, OUT/table.md and "
            "OUT/curve.png (accuracy vs MAdds)."
        ),
    )
    parser.add_argument("--ckpt", type=Path, required=True, metavar="DIR", help="stage II checkpoint folder")
    add_output_arguments(parser, "DIR", "report folder", required=True,
                         force_help="replace the files of an existing OUT")
    parser.add_argument("--batch-size", type=int, default=250, metavar="B", help="validation batch (default: 250)")
    parser.set_defaults(func=run, imports_paddle=True)


def run(args: argparse.Namespace) -> int:
    from hnas.dynamic.report import dynamic_results, markdown_table, write_dynamic_report
    from hnas.errors import HnasError
    from hnas.export import check_output_folder

    if args.batch_size < 1:
        raise HnasError(f"--batch-size must be >= 1, got {args.batch_size}")
    check_output_folder(args.out, args.force)
    results = dynamic_results(args.ckpt, args.batch_size)
    write_dynamic_report(results, args.out)
    print(markdown_table(results), end="")
    print(f"written: {args.out}/results.json, table.md, curve.png")
    return 0
