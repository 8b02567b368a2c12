"""Arguments shared by several commands: arch codes or an arch file (``flops``, ``zen``), ``--force``, ``--weights``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from hnas.errors import HnasError
from hnas.io.archs import ArchEntry, entries_from_codes, load_arch_file
from hnas.search_spaces.base import SearchSpace


def add_force_argument(parser: argparse.ArgumentParser) -> None:
    """``--force``: replace existing output files (never an input; see :mod:`hnas.io.outputs`)."""
    parser.add_argument("--force", action="store_true", help="replace existing output files (never an input)")


def add_weights_argument(parser: argparse.ArgumentParser) -> None:
    """``--weights model|ema``: which weights of a checkpoint folder to use (:func:`hnas.checkpoints.source.locate`)."""
    parser.add_argument("--weights", choices=("model", "ema"), default="model",
                        help="the checkpoint's weights (model, default) or their moving average (ema: runs "
                             "trained with loss.teacher ema, DS-Net's bootstrapped teacher)")


def add_arch_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``ARCH ...``, ``--json FILE`` and ``--space NAME``; read them with :func:`entries_from_arguments`."""
    parser.add_argument("archs", nargs="*", metavar="ARCH", help="arch codes, keyed arch1, arch2, ... in order")
    parser.add_argument("--json", dest="json_file", type=Path, metavar="FILE",
                        help='arch file {"arch1": {"acc": ..., "arch": "..."}, ...} (instead of ARCH codes)')
    parser.add_argument("--space", default="resnet48", help="search space name (default: resnet48)")


def entries_from_arguments(codes: Sequence[str], json_path: Path | None, space: SearchSpace) -> dict[str, ArchEntry]:
    """The archs named on the command line: the codes (keyed ``arch1`` ...) or the arch file's entries.

    Raises:
        HnasError: both or neither given; every bad code or bad file entry (all listed at once).
    """
    if json_path is not None and codes:
        raise HnasError("give arch codes or --json FILE, not both")
    if json_path is not None:
        return load_arch_file(json_path, space)
    if not codes:
        raise HnasError("no archs given: pass arch codes or --json FILE")
    return entries_from_codes(codes, space, source="command-line arch codes")
