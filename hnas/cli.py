"""``hnas`` command line: each subcommand lives in ``hnas/commands/<name>.py``.

A command module defines ``register(subparsers)``, which adds its parser and sets
``func=run`` where ``run(args) -> int`` loads what it needs and calls one library function.
A command that uses Paddle also sets ``imports_paddle=True``: :func:`main` then imports Paddle
before the command runs, so that SIGTERM can be turned into a clean stop (see
:mod:`hnas.termination`); the other commands stay free of the import. ``resume_hint``, if set,
tells the user after such a stop what was kept and how to continue.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

from hnas import __version__
from hnas.errors import USAGE_EXIT_CODE, HnasError, WriteError
from hnas.logs import configure_logging, quiet_paddle_notices
from hnas.termination import (
    INTERRUPTED_EXIT_CODE,
    TERMINATED_EXIT_CODE,
    Terminated,
    clear_received,
    exit_process,
    raise_on_sigint,
    raise_on_sigterm,
)

#: Command modules, in the order ``hnas --help`` lists them.
COMMANDS: tuple[str, ...] = (
    "train",
    "flops",
    "sample_archs",
    "validate",
    "zen",
    "prior",
    "eval",
    "score",
    "split",
    "merge",
    "convert_ckpt",
    "standalone",
    "bench",
    "export",
    "search",
    "pools",
    "latency",
    "fewshot",
    "bn_reset",
    "dynamic_eval",
    "dynamic_export",
    "predictor",
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
    quiet_paddle_notices()
    parser = build_parser()
    # Commands that set ``accepts_overrides`` (``hnas train``) receive the arguments argparse
    # does not know (``--optim.lr 0.1``, ``epochs=3``) as ``args.overrides``; for every other
    # command they are an error, exactly as with ``parse_args``.
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if not getattr(args, "accepts_overrides", False):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.overrides = [*args.overrides, *unknown]
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for commands that record their command line
    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    if getattr(args, "imports_paddle", False):
        import paddle  # noqa: F401 - installs Paddle's C++ signal handlers, whose SIGTERM one we replace

    raise_on_sigterm()
    raise_on_sigint()
    try:
        return int(args.func(args) or 0)
    except WriteError as error:  # a write refused midway: what is intact, then how to continue
        hint = _hint(args)
        print(f"hnas: error: {error}" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return USAGE_EXIT_CODE
    except HnasError as error:
        print(f"hnas: error: {error}", file=sys.stderr)
        return USAGE_EXIT_CODE
    except KeyboardInterrupt:
        _stopped("interrupted", args)
        return INTERRUPTED_EXIT_CODE
    except Terminated:
        clear_received()
        _stopped("terminated (SIGTERM)", args)
        return TERMINATED_EXIT_CODE


def _stopped(how: str, args: argparse.Namespace) -> None:
    """Say that the command was stopped and, if it keeps finished work, how to continue."""
    hint = _hint(args)
    print(f"hnas: {how}" + (f"; {hint}" if hint else ""), file=sys.stderr)


def _hint(args: argparse.Namespace) -> str | None:
    """The command's ``resume_hint``: what it keeps and how to continue."""
    hint = getattr(args, "resume_hint", None)
    return hint() if callable(hint) else hint


def run() -> None:
    """Console-script and ``python -m hnas`` entry point: exit with :func:`main`'s return code.

    A stopped run (Ctrl-C, SIGTERM) leaves without interpreter shutdown, see
    :func:`hnas.termination.exit_process`.
    """
    exit_process(main())
