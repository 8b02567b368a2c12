"""``hnas bn-reset``: DS-Net's BN reset, every width level's private BN statistics re-estimated."""

from __future__ import annotations

import argparse
from pathlib import Path

from hnas.commands._args import add_output_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bn-reset",
        help="reset and re-estimate the per-width BN statistics of a supernet (DS-Net, before stage II)",
        description=(
            "Load a supernet checkpoint of a space with width levels (dsnet_mbv1, dsnet_mbv1_tiny), reset every "
            "BN statistic, re-estimate each width level's (and the largest subnet's) private statistics on "
            "training batches, and write OUT as a checkpoint folder for hnas eval / export and for stage II's "
            "checkpoint.init_from. A checkpoint with bn: shared is converted to bn: per_width."
        ),
    )
    parser.add_argument("--ckpt", type=Path, required=True, metavar="DIR", help="stage I checkpoint folder")
    add_output_arguments(parser, "DIR", "checkpoint folder to create", required=True,
                         force_help="replace an existing OUT")
    parser.add_argument("--batches", type=int, default=20, metavar="N", help="training batches (default: 20)")
    parser.add_argument("--batch-size", type=int, default=64, metavar="B", help="images per batch (default: 64)")
    parser.add_argument("--seed", type=int, default=0, help="selects the training images (default: 0)")
    parser.set_defaults(func=run, imports_paddle=True)


def run(args: argparse.Namespace) -> int:
    from hnas.dynamic.bn_reset import bn_reset_checkpoint

    out = bn_reset_checkpoint(args.ckpt, args.out, args.batches, args.batch_size, args.seed, args.force)
    print(f"BN statistics of every width level re-estimated on {args.batches} x {args.batch_size} training images: "
          f"{out}")
    return 0
