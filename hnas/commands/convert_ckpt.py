"""``hnas convert-ckpt``: import a supernet trained with PaddleSlim's OFA as an hnas checkpoint folder."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from hnas.commands._args import add_output_arguments
from hnas.config import SpaceCfg, load_config
from hnas.errors import HnasError
from hnas.search_spaces.spaces import DEFAULT_SPACE
from hnas.train_config import TrainConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert-ckpt",
        help="convert a PaddleSlim OFA ResNet supernet state dict into an hnas checkpoint folder",
        description=(
            "Map the state dict of a PaddleSlim OFA supernet of the official baseline's ResNet (keys such as "
            "model.blocks.1.conv1.fn.weight, with or without DataParallel '_layers.') onto hnas's supernet and "
            "write DIR with model.pdparams, meta.json and config.yaml, which 'hnas eval --ckpt DIR' reads. "
            "Every key must map and every supernet tensor must be filled with the right shape; otherwise the "
            "first unmapped keys are listed and nothing is written. The OFA distillation teacher's copy is "
            "skipped. Recalibrating BN at evaluation (hnas eval's default) is advised: see README."
        ),
    )
    parser.add_argument("source", type=Path, metavar="SRC", help="PaddleSlim state-dict file (.pdparams)")
    parser.add_argument("--from", dest="format", required=True, choices=("paddleslim",),
                        help="format of SRC")
    add_output_arguments(parser, "DIR", "checkpoint folder to write", required=True,
                         force_help="replace DIR if it exists")
    parser.add_argument("--space", metavar="NAME",
                        help=f"search space whose supernet the weights fill (default: the config's, else "
                             f"{DEFAULT_SPACE})")
    parser.add_argument("--config", type=Path, metavar="YAML",
                        help="hnas train config stored as DIR/config.yaml (its data section is what hnas eval "
                             "uses; default: hnas's defaults with the space set)")
    parser.set_defaults(func=run, imports_paddle=True)


def resolve_config(config: Path | None, space_name: str | None) -> TrainConfig:
    """The config to store: ``--config`` (or the defaults) with ``--space`` applied.

    Raises:
        HnasError: ``--space`` contradicts the config's space.
    """
    if config is None:
        return dataclasses.replace(TrainConfig(), space=SpaceCfg(name=space_name or DEFAULT_SPACE))
    cfg = load_config(config, schema=TrainConfig)
    if space_name is not None and space_name != cfg.space.name:
        raise HnasError(f"--space {space_name} contradicts space.name {cfg.space.name!r} of {config}")
    return cfg


def run(args: argparse.Namespace) -> int:
    from hnas.checkpoints.source import config_space
    from hnas.engine.convert_ckpt import convert_paddleslim  # imports Paddle

    cfg = resolve_config(args.config, args.space)
    space = config_space(cfg)
    if space.reference_naming is None:
        raise HnasError(f"--from paddleslim maps a reference network's key naming; space {space.name!r} "
                        f"({space.family} family) has none")
    summary = convert_paddleslim(args.source, args.out, space, cfg, force=args.force)
    print(summary.describe())
    print(f"evaluate with: hnas eval ARCHS.json --ckpt {args.out}")
    return 0
