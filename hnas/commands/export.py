"""``hnas export``: one subnet of a trained supernet as a stand-alone network with its inherited weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from hnas.commands._args import add_weights_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write one subnet of a supernet as a stand-alone network (.pdparams + jit inference model)",
        description=(
            "Load the checkpoint, activate ARCH, optionally re-estimate its BN statistics on training images, "
            "and write OUT/model.pdparams (the stand-alone network's weights), OUT/subnet.json (arch, space, "
            "source) and OUT/inference/model.* (paddle.jit.save). Retrain or fine-tune it with "
            "'hnas standalone ARCH --init-from OUT'."
        ),
    )
    parser.add_argument("arch", help="arch code of the checkpoint's space")
    parser.add_argument("--ckpt", type=Path, metavar="DIR_OR_FILE", help="checkpoint (as for hnas eval)")
    parser.add_argument("--config", type=Path, metavar="YAML", help="config overriding the checkpoint's")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="export folder to create")
    parser.add_argument("--bn-recal", type=int, default=0, metavar="N",
                        help="re-estimate BN statistics on N training batches first (default: 0, keep the supernet's)")
    parser.add_argument("--recal-batch-size", type=int, default=64, metavar="B")
    parser.add_argument("--seed", type=int, default=0, help="selects the recalibration images (default: 0)")
    parser.add_argument("--force", action="store_true", help="replace an existing export folder")
    add_weights_argument(parser)
    parser.set_defaults(func=run, imports_paddle=True)


def run(args: argparse.Namespace) -> int:
    from hnas.export import export_subnet  # imports Paddle

    out = export_subnet(args.arch, args.ckpt, args.out, args.config, args.bn_recal, args.recal_batch_size,
                        args.seed, args.force, args.weights)
    print(f"exported {args.arch} to {out} (model.pdparams, subnet.json, inference/model.*)")
    return 0
