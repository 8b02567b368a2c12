"""``hnas dynamic-export``: a stage II (gated) network as one ``paddle.jit.save`` inference model."""

from __future__ import annotations

import argparse
from pathlib import Path

from hnas.commands._args import add_output_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dynamic-export",
        help="write a gated (DS-Net stage II) network as a paddle.jit.save model that routes each image",
        description=(
            "Load a stage II checkpoint and write OUT/inference/model.* (paddle.jit.save: the shared layers, "
            "the gate, each image through its routed width's layers, any batch size) and OUT/dynamic.json. "
            "A static width is exported with 'hnas export ARCH' from the BN-reset checkpoint."
        ),
    )
    parser.add_argument("--ckpt", type=Path, required=True, metavar="DIR", help="stage II checkpoint folder")
    add_output_arguments(parser, "DIR", "export folder to create", required=True,
                         force_help="replace an existing export folder")
    parser.set_defaults(func=run, imports_paddle=True)


def run(args: argparse.Namespace) -> int:
    from hnas.dynamic.export import export_dynamic

    out = export_dynamic(args.ckpt, args.out, args.force)
    print(f"exported the dynamic network to {out} (inference/model.*, dynamic.json)")
    return 0
