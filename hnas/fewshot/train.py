"""Training the sub-supernets of a few-shot split (``hnas fewshot train``).

Each part is an ordinary ``hnas train`` run whose config is the parent's ``config.yaml`` with

* ``checkpoint.dir``: ``OUT/<part>``;
* ``checkpoint.init_from``: the parent checkpoint (weights only: new optimizer and schedule);
* ``epochs``: the parts' budget;
* ``sampler.args.distribution``: the parent's distribution narrowed to the part's values of
  the split slot (so the sandwich's largest and smallest, FLOPs bins, pools and the
  end-of-epoch validation all stay inside the part);

plus the user's overrides. The manifest is written before the first part trains; the parts
train one after the other, and a run started again with the same arguments skips finished
parts and resumes the unfinished one exactly (the trainer's ``--resume``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from hnas.checkpoints.fewshot import MANIFEST_FILE, FewShotManifest, is_fewshot_dir, read_manifest
from hnas.checkpoints.folder import CONFIG_FILE, LAST, META_FILE, read_meta, resolve_checkpoint
from hnas.checkpoints.space_record import read_space
from hnas.config import load_config
from hnas.errors import HnasError
from hnas.fewshot.split import Split
from hnas.io.outputs import check_output_dir
from hnas.train_config import TrainConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FewShotPlan:
    """A checked few-shot run: the manifest to write and each part's training config."""

    manifest: FewShotManifest
    configs: tuple[TrainConfig, ...]


@dataclass
class FewShotResult:
    """What :func:`train_fewshot` did: the manifest path and, per part, ``trained``/``resumed``/``finished``."""

    manifest_path: Path
    outcomes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def plan_fewshot(parent: Path, split_text: str, out: Path, epochs: int,
                 overrides: Sequence[str] = ()) -> FewShotPlan:
    """Check the parent, the split, the output folder and every part's config; writes nothing.

    Raises:
        HnasError: no parent checkpoint, a bad split, an output folder that holds something
            else (another split, other files), or a bad override.
    """
    if epochs < 1:
        raise HnasError(f"--epochs must be >= 1, got {epochs}")
    folder = resolve_checkpoint(parent, weights_only=True)
    space = read_space(read_meta(folder), f"parent checkpoint {folder / META_FILE}")
    parent_cfg = load_config(folder / CONFIG_FILE, schema=TrainConfig)
    split = Split.parse(split_text, space)
    manifest = FewShotManifest(
        root=out, split=split, parent=folder.resolve(), space=space,
        parts=tuple(split.part_name(index) for index in range(len(split.groups))), epochs=epochs,
    )
    _check_out(out, folder, manifest)
    base = parent_cfg.sampler.args.get("distribution", "uniform")
    configs = []
    for index, part in enumerate(manifest.parts):
        derived = [
            f"checkpoint.dir={out / part}",
            f"checkpoint.init_from={folder}",
            f"epochs={epochs}",
            f"sampler.args.distribution={json.dumps(split.distribution(index, base))}",
        ]
        configs.append(load_config(folder / CONFIG_FILE, [*derived, *overrides], schema=TrainConfig))
    for cfg in configs:
        space.distribution(cfg.sampler.args.get("distribution", "uniform"))  # a bad override fails here
    return FewShotPlan(manifest, tuple(configs))


def _check_out(out: Path, parent: Path, manifest: FewShotManifest) -> None:
    """The output folder: new, or this very split of this parent (resumed); never the parent itself."""
    check_output_dir(out, [parent, parent.parent], what="--out")
    if is_fewshot_dir(out):
        stored = read_manifest(out)
        if stored.to_json() != manifest.to_json():
            raise HnasError(
                f"--out {out} holds another few-shot run ({stored.split.describe()} of {stored.parent}, "
                f"{stored.epochs} epochs); choose another --out (this one: {manifest.split.describe()} of "
                f"{manifest.parent}, {manifest.epochs} epochs)"
            )
    # Dot files are ignored: another rank's manifest may be being written atomically.
    elif out.is_dir() and any(not entry.name.startswith(".") for entry in out.iterdir()):
        raise HnasError(f"--out {out} exists and is not a few-shot folder (no {MANIFEST_FILE}); choose a new folder")


def part_finished(root: Path, epochs: int) -> bool:
    """Whether the part trained in ``root`` reached ``epochs``."""
    if not (root / LAST).is_dir():
        return False
    return int(read_meta(resolve_checkpoint(root, weights_only=True))["progress"]["epoch"]) >= epochs


def train_fewshot(parent: Path, split_text: str, out: Path, epochs: int,
                  overrides: Sequence[str] = ()) -> FewShotResult:
    """Train every part of the split from the parent checkpoint (see the module docstring)."""
    from hnas.engine.trainer import train  # imports Paddle

    started = time.monotonic()
    plan = plan_fewshot(parent, split_text, out, epochs, overrides)
    manifest = plan.manifest
    out.mkdir(parents=True, exist_ok=True)
    is_main = int(os.environ.get("PADDLE_TRAINER_ID", "0")) == 0
    result = FewShotResult(manifest_path=out / MANIFEST_FILE)
    if is_main and not is_fewshot_dir(out):
        manifest.write()
    count = len(manifest.parts)
    trained_seconds: list[float] = []
    for index, cfg in enumerate(plan.configs):
        root = manifest.part_dir(index)
        group = ",".join(str(value) for value in manifest.split.groups[index])
        if part_finished(root, epochs):
            logger.info("part %d/%d (%s=%s): finished earlier, in %s", index + 1, count, manifest.split.slot,
                        group, root)
            result.outcomes.append("finished")
            continue
        resume = (root / LAST).is_dir()
        logger.info("part %d/%d (%s=%s): %s %d epochs from %s", index + 1, count, manifest.split.slot, group,
                    "resuming" if resume else "training", epochs, manifest.parent)
        part_started = time.monotonic()
        train(cfg, resume=resume)
        trained_seconds.append(time.monotonic() - part_started)
        if not part_finished(root, epochs):
            result.outcomes.append("stopped early")  # max_steps: the next run resumes it
            logger.info("part %d/%d stopped before epoch %d (max_steps); run again to continue", index + 1,
                        count, epochs)
            continue
        result.outcomes.append("resumed" if resume else "trained")
        left = count - index - 1
        if left:
            eta = left * sum(trained_seconds) / len(trained_seconds)
            logger.info("few-shot: %d of %d parts done; about %s left", index + 1, count, _duration(eta))
    result.seconds = time.monotonic() - started
    return result


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
