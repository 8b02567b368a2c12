"""``hnas export``: one subnet of a trained supernet as a stand-alone network with its inherited weights."""

from __future__ import annotations

import argparse

from hnas.commands._args import (
    add_checkpoint_arguments,
    add_output_arguments,
    add_recalibration_arguments,
    warn_deprecated,
)
from hnas.nn import BN_RECAL_MODES


def _bn_recal(text: str) -> str | int:
    """A mode (``none``, ``reset``), or the older spelling ``--bn-recal N`` (a number of batches)."""
    if text in BN_RECAL_MODES:
        return text
    try:
        return int(text)
    except ValueError:
        choices = ", ".join(BN_RECAL_MODES)
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {choices})") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write one subnet of a supernet as a stand-alone network (.pdparams + jit inference model)",
        description=(
            "Load the checkpoint, activate ARCH, optionally re-estimate its BN statistics on training images "
            "(--bn-recal reset), and write OUT/model.pdparams (the stand-alone network's weights), OUT/subnet.json "
            "(arch, space, source) and OUT/inference/model.* (paddle.jit.save). Retrain or fine-tune it with "
            "'hnas standalone ARCH --init-from OUT'."
        ),
    )
    parser.add_argument("arch", help="arch code of the checkpoint's space")
    add_checkpoint_arguments(parser)
    add_output_arguments(parser, "DIR", "export folder to create", required=True,
                         force_help="replace an existing export folder")
    # Export keeps the supernet's statistics unless asked: the exported weights are the trained ones.
    add_recalibration_arguments(parser, bn_recal="none", bn_recal_type=_bn_recal)
    parser.add_argument("--seed", type=int, default=0, help="selects the recalibration images (default: 0)")
    parser.set_defaults(func=run, imports_paddle=True)


def recal_batches(args: argparse.Namespace) -> int:
    """Training batches to recalibrate on (0: none); ``--bn-recal N`` is the deprecated spelling of
    ``--bn-recal reset --recal-batches N``."""
    if isinstance(args.bn_recal, int):
        warn_deprecated(f"--bn-recal {args.bn_recal} (a number of batches)",
                        f"--bn-recal reset --recal-batches {args.bn_recal}")
        return args.bn_recal
    return args.recal_batches if args.bn_recal == "reset" else 0


def run(args: argparse.Namespace) -> int:
    from hnas.export import export_subnet  # imports Paddle

    out = export_subnet(args.arch, args.ckpt, args.out, args.config, recal_batches(args), args.recal_batch_size,
                        args.seed, args.force, args.weights)
    print(f"exported {args.arch} to {out} (model.pdparams, subnet.json, inference/model.*)")
    return 0
