"""DS-Net's BN reset between stage I and stage II, as a checkpoint-to-checkpoint step.

``hnas bn-reset --ckpt STAGE1 --out DIR`` loads a supernet checkpoint, resets every BN
statistic and re-estimates each width level's private statistics (per-width BN,
:mod:`hnas.search_spaces.per_width_bn`) on training batches, then writes an evaluation
checkpoint (``model.pdparams``, ``meta.json``, ``config.yaml``) that ``hnas eval``,
``hnas export`` and stage II's ``checkpoint.init_from`` accept. The largest subnet (stage I's
teacher) is re-estimated too, so it stays usable.

A stage I checkpoint of a space with ``bn: shared`` (whose family takes the ``bn`` option) is
converted: the written space has ``bn: per_width``, the shared weights carry over and every
width gets its own statistics from the reset. DS-Net resets on up to 1,001 batches of 256
augmented training images (``--batches``/``--batch-size``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import yaml

from hnas.checkpoints.folder import save_weights_checkpoint
from hnas.checkpoints.source import locate
from hnas.config import config_to_dict
from hnas.errors import HnasError
from hnas.export import check_output_folder
from hnas.nn.bn_recal import reset_bn_per_width
from hnas.nn.state_dict import load_into, read_state_dict
from hnas.search_spaces.base import SearchSpace

logger = logging.getLogger(__name__)


def per_width_space(space: SearchSpace) -> SearchSpace:
    """``space`` with ``bn: per_width`` (converting a ``shared`` one).

    Raises:
        HnasError: the space has no width levels (its family takes no ``bn`` option).
    """
    if not hasattr(space, "bn") or not space.width_levels():
        raise HnasError(f"space {space.name!r} ({space.family} family) has no ordered width levels: the BN reset "
                        "re-estimates per-width statistics, which only spaces with width levels keep (dsnet_mbv1)")
    return space if space.bn == "per_width" else space.replace({"bn": "per_width"})


def reset_levels(space: SearchSpace) -> list[Any]:
    """The subnets whose statistics the reset estimates: every width level and the largest subnet."""
    levels = list(space.width_levels())
    return levels + [spec for spec in (space.max_spec(),) if spec not in levels]


def bn_reset_checkpoint(checkpoint: str | os.PathLike[str], out: str | os.PathLike[str], batches: int,
                        batch_size: int, seed: int = 0, force: bool = False) -> Path:
    """Write the BN-reset supernet of ``checkpoint`` into ``out`` (see the module docstring)."""
    from hnas.data.datasets import build_split
    from hnas.evaluation.eval_data import load_eval_data

    out = Path(out)
    if batches < 1 or batch_size < 1:
        raise HnasError(f"--batches and --batch-size must be >= 1, got {batches} and {batch_size}")
    check_output_folder(out, force)
    source = locate(checkpoint, None)
    if source.space is None:
        raise HnasError(f"--ckpt {checkpoint}: pass a supernet checkpoint folder (its meta.json names the space)")
    space = per_width_space(source.space)
    supernet = space.build_supernet()
    state = read_state_dict(source.weights, f"checkpoint {source.weights}")
    own = supernet.state_dict()
    converted = [name for name in own if name not in state and name.rsplit(".", 1)[-1].startswith("width_")]
    load_into(supernet, {**state, **{name: own[name] for name in converted}}, source=f"checkpoint {source.weights}")
    data = source.config.data
    train = build_split(data, "train")
    if train.info.in_channels != space.in_channels:
        raise HnasError(f"dataset {data.name!r} gives {train.info.in_channels}-channel images, space {space.name!r} "
                        f"takes {space.in_channels}")
    images = load_eval_data(build_split(data, "val"), train, 1, batches, batch_size, 1, seed).recal
    reset_bn_per_width(supernet, reset_levels(space), images)
    cfg = source.config
    overrides = {**dict(cfg.space.overrides), "bn": "per_width"}
    text = yaml.safe_dump({**config_to_dict(cfg), "space": {"name": cfg.space.name, "overrides": overrides}},
                          sort_keys=False, default_flow_style=False)
    meta = {"bn_reset": {"source": str(source.weights), "batches": batches, "batch_size": batch_size, "seed": seed,
                         "converted_from_shared": bool(converted)}}
    return save_weights_checkpoint(out, supernet.state_dict(), space, text, meta)
