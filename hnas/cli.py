"""``hnas`` command line: each subcommand lives in ``hnas/commands/<name>.py``.

A command module defines ``register(subparsers)``, which adds its parser and sets
``func=run`` where ``run(args) -> int`` loads what it needs and calls one library function.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

from hnas import __version__
from hnas.errors import USAGE_EXIT_CODE, HnasError

#: Command modules, in the order ``hnas --help`` lists them.
COMMANDS: tuple[str, ...] = (
    "train",
    "flops",
    "sample_archs",
    "validate",
    "zen",
    "eval",
    "score",
    "split",
    "merge",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hnas",
        description="One-shot NAS supernets on PaddlePaddle: train, evaluate and rank architectures.",
    )
    parser.add_argument("--version", action="version", version=f"hnas {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"hnas.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # Commands that set ``accepts_overrides`` (``hnas train``) receive the arguments argparse
    # does not know (``--optim.lr 0.1``, ``epochs=3``) as ``args.overrides``; for every other
    # command they are an error, exactly as with ``parse_args``.
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if not getattr(args, "accepts_overrides", False):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.overrides = [*args.overrides, *unknown]
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        return int(args.func(args) or 0)
    except HnasError as error:
        print(f"hnas: error: {error}", file=sys.stderr)
        return USAGE_EXIT_CODE
    except KeyboardInterrupt:
        print("hnas: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """Console-script entry point: exit with :func:`main`'s return code."""
    sys.exit(main())
