"""Option groups shared by the commands: one spelling, one meaning and one default per flag.

* output: ``--out`` and ``--force`` (:func:`add_output_arguments`; the rule of :mod:`hnas.io.outputs`);
* checkpoint: ``--ckpt``, ``--config``, ``--weights`` (:func:`add_checkpoint_arguments`; read by
  :func:`hnas.checkpoints.source.locate`);
* scoring data: ``--val-images``, ``--batch-size``, ``--bn-recal``, ``--recal-batches``,
  ``--recal-batch-size`` (:func:`add_scoring_arguments`, read back with :func:`scoring_options`);
* shared prefixes: ``--no-shared-prefix`` (:func:`add_shared_prefix_argument`);
* archs: ``ARCH ...``, ``--json FILE``, ``--space NAME`` (:func:`add_arch_arguments`);
* config overrides: ``section.key=value`` or ``--section.key value`` (:func:`add_overrides`), the
  one syntax of ``train``, ``fewshot train`` and ``bench report``.

A renamed flag keeps its old spelling for one release as a hidden alias that warns
(:func:`deprecated_alias`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from hnas.errors import HnasError
from hnas.evaluation.options import ScoringOptions
from hnas.io.archs import ArchEntry, entries_from_codes, load_arch_file
from hnas.nn import BN_RECAL_MODES
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.spaces import DEFAULT_SPACE

#: The scoring group's defaults, the same in every command.
SCORING_DEFAULTS = ScoringOptions()


def warn_deprecated(old: str, new: str) -> None:
    print(f"hnas: warning: {old} is deprecated and will be removed; use {new}", file=sys.stderr)


def deprecated_alias(new: str) -> type[argparse.Action]:
    """An argparse action for an old flag spelling: warns naming ``new``, then stores like it."""

    class Alias(argparse.Action):
        def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                     option_string: str | None = None) -> None:
            warn_deprecated(option_string or self.dest, new)
            setattr(namespace, self.dest, values)

    return Alias


class DeprecatedSetOverride(argparse.Action):
    """``--set KEY=VALUE``, the older override spelling of ``hnas bench report``: warns, then appends."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        warn_deprecated(f"--set {values}", f"{values} (overrides are given as in hnas train)")
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest, None) or []), values])


def add_overrides(parser: argparse.ArgumentParser) -> None:
    """Config overrides as ``hnas train`` takes them: ``section.key=value`` or ``--section.key value``
    (collected by :func:`hnas.cli.main` from the arguments the parser does not know)."""
    parser.set_defaults(accepts_overrides=True, overrides=[])


def add_force_argument(parser: argparse.ArgumentParser, help: str = "replace existing output files (never an input)",
                       ) -> None:
    """``--force``: replace existing output files (never an input; see :mod:`hnas.io.outputs`)."""
    parser.add_argument("--force", action="store_true", help=help)


def add_output_arguments(parser: argparse.ArgumentParser, metavar: str, help: str, required: bool = False,
                         default: Path | None = None, force_help: str | None = None) -> None:
    """``--out FILE|DIR`` and ``--force`` (replace an existing output, never an input)."""
    parser.add_argument("--out", type=Path, required=required, default=default, metavar=metavar, help=help)
    add_force_argument(parser, force_help or f"replace an existing --out {metavar} (never an input)")


def add_weights_argument(parser: argparse.ArgumentParser) -> None:
    """``--weights model|ema``: which weights of a checkpoint folder to use (:func:`hnas.checkpoints.source.locate`)."""
    parser.add_argument("--weights", choices=("model", "ema"), default="model",
                        help="the checkpoint's weights (model, default) or their moving average (ema: runs "
                             "trained with loss.teacher ema, DS-Net's bootstrapped teacher)")


def add_checkpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """``--ckpt``, ``--config`` and ``--weights``: the trained supernet a command reads."""
    parser.add_argument("--ckpt", type=Path, metavar="DIR_OR_FILE",
                        help="checkpoint directory (or a root holding last/) or a state-dict file "
                             "(default: checkpoint.dir of --config, else checkpoints/embedded)")
    parser.add_argument("--config", type=Path, metavar="YAML",
                        help="hnas train config overriding the checkpoint's (data section; space for state-dict files)")
    add_weights_argument(parser)


def add_scoring_arguments(parser: argparse.ArgumentParser, val_images: int | None = None) -> None:
    """The validation subset and the BN recalibration a subnet is scored with.

    ``val_images`` is the one per-command default: every arch of a file (``eval``, the whole
    split) versus thousands of candidates (``search``, a subset).
    """
    whole = "the whole validation split" if val_images is None else str(val_images)
    parser.add_argument("--val-images", type=int, default=val_images, metavar="K",
                        help=f"seeded validation subset size (default: {whole})")
    parser.add_argument("--batch-size", type=int, default=SCORING_DEFAULTS.batch_size, metavar="B",
                        help=f"images per validation batch (default: {SCORING_DEFAULTS.batch_size})")
    add_recalibration_arguments(parser)


def add_recalibration_arguments(parser: argparse.ArgumentParser, bn_recal: str = SCORING_DEFAULTS.bn_recal,
                                bn_recal_type: Any = None) -> None:
    """``--bn-recal MODE``, ``--recal-batches N``, ``--recal-batch-size B``."""
    parser.add_argument("--bn-recal", default=bn_recal, metavar="MODE", type=bn_recal_type or _mode,
                        help=f"BN statistics per subnet: reset (re-estimate on --recal-batches training batches) "
                             f"or none (the supernet's) (default: {bn_recal})")
    parser.add_argument("--recal-batches", type=int, default=SCORING_DEFAULTS.recal_batches, metavar="N",
                        help=f"training batches for --bn-recal reset; 0 = none (default: "
                             f"{SCORING_DEFAULTS.recal_batches})")
    parser.add_argument("--recal-batch-size", type=int, default=SCORING_DEFAULTS.recal_batch_size, metavar="B",
                        help=f"images per recalibration batch (default: {SCORING_DEFAULTS.recal_batch_size})")


def add_shared_prefix_argument(parser: argparse.ArgumentParser, subnets: str) -> None:
    """``--no-shared-prefix`` (dest ``shared_prefix``): run every subnet whole instead of sharing prefixes
    (:mod:`hnas.nn.shared_prefix`); ``subnets`` names them in the help (``archs``, ``candidates``)."""
    parser.add_argument("--no-shared-prefix", dest="shared_prefix", action="store_false",
                        help=f"run every {subnets[:-1]}'s whole network instead of running a prefix shared by several "
                             f"{subnets} (e.g. stem + stage 1 of ResNet) once per group; same results, slower "
                             "(to compare)")


def _mode(text: str) -> str:
    if text not in BN_RECAL_MODES:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {', '.join(BN_RECAL_MODES)})")
    return text


def scoring_options(args: argparse.Namespace, seed: int = 0) -> ScoringOptions:
    """The :class:`ScoringOptions` of the scoring group's arguments (``--recal-batches 0``: none)."""
    mode = args.bn_recal if args.recal_batches else "none"
    return ScoringOptions(args.val_images, args.batch_size, mode, args.recal_batches, args.recal_batch_size, seed)


def add_arch_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``ARCH ...``, ``--json FILE`` and ``--space NAME``; read them with :func:`entries_from_arguments`."""
    parser.add_argument("archs", nargs="*", metavar="ARCH", help="arch codes, keyed arch1, arch2, ... in order")
    parser.add_argument("--json", dest="json_file", type=Path, metavar="FILE",
                        help='arch file {"arch1": {"acc": ..., "arch": "..."}, ...} (instead of ARCH codes)')
    parser.add_argument("--space", default=DEFAULT_SPACE, help=f"search space name (default: {DEFAULT_SPACE})")


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
