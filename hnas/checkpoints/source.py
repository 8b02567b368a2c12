"""From ``--ckpt``, ``--config`` and ``--weights`` to the weights, the search space and the config.

Used by every command that reads a trained supernet (``eval``, ``search``, ``export``,
``fewshot``). Accepted:

- a training checkpoint directory (:mod:`hnas.checkpoints.folder`: ``model.pdparams``,
  ``meta.json`` with the exact ``SearchSpace``, ``config.yaml``), or a root holding ``last/``,
  or an evaluation-only folder of the same three files (``hnas convert-ckpt``);
  the space comes from ``meta.json`` and the data from ``config.yaml`` unless ``--config``
  is given;
- a plain state-dict file (``paddle.save(supernet.state_dict(), path)``); the space and the
  data come from ``--config`` (or the defaults) and the dataset's classes and channels;
- for evaluation only, a few-shot folder (``fewshot.json``, :mod:`hnas.fewshot`): one
  training checkpoint root per part of the space; each arch is scored by its part's weights.

Nothing heavy happens until :func:`load_supernet`: the arch file can be validated against the
space before any weights are read.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from hnas.checkpoints.fewshot import MANIFEST_FILE, is_fewshot_dir, read_manifest
from hnas.checkpoints.folder import (
    AVERAGE_FILE,
    CONFIG_FILE,
    LAST,
    META_FILE,
    MODEL_FILE,
    check_space,
    read_meta,
    resolve_checkpoint,
)
from hnas.checkpoints.space_record import read_space
from hnas.config import load_config
from hnas.errors import HnasError
from hnas.fewshot.split import Split
from hnas.nn.state_dict import load_into, read_state_dict
from hnas.search_spaces.base import SearchSpace, Supernet
from hnas.search_spaces.spaces import resolve_space
from hnas.train_config import TrainConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalSource:
    """Where the weights, the space and the config of an evaluation come from.

    Attributes:
        weights: the state-dict file.
        config: the run's training config (data section and space name).
        space: the exact search space of the weights, or ``None`` when it must be derived
            from the config and the dataset (plain state-dict files).
    """

    weights: Path
    config: TrainConfig
    space: SearchSpace | None
    fewshot: FewShotRoute | None = None

    @property
    def all_weights(self) -> tuple[Path, ...]:
        """Every state-dict file the evaluation reads (one per part for a few-shot folder)."""
        return self.fewshot.weights if self.fewshot is not None else (self.weights,)


@dataclass(frozen=True)
class FewShotRoute:
    """A few-shot folder's parts: the split that routes an arch, and each part's weights."""

    split: Split
    weights: tuple[Path, ...]

    def part_of(self, space: SearchSpace, spec: Any) -> int:
        return self.split.part_of(space, spec)


#: ``--weights`` choices: the checkpoint's weights, or their moving average (``loss.teacher: ema``).
WEIGHTS = {"model": MODEL_FILE, "ema": AVERAGE_FILE}


def weights_file(folder: Path, weights: str) -> Path:
    """The state-dict file of ``--weights`` in a checkpoint folder.

    Raises:
        HnasError: an unknown choice, or ``ema`` for a run trained without the average.
    """
    if weights not in WEIGHTS:
        raise HnasError(f"--weights {weights!r}: expected one of {', '.join(WEIGHTS)}")
    path = folder / WEIGHTS[weights]
    if weights == "ema" and not path.is_file():
        raise HnasError(f"checkpoint {folder} has no {AVERAGE_FILE}: it was trained without loss.teacher: ema "
                        "(evaluate its weights: --weights model)")
    return path


def locate(checkpoint: str | os.PathLike[str] | None, config: str | os.PathLike[str] | None,
           allow_fewshot: bool = False, weights: str = "model") -> EvalSource:
    """Resolve ``--ckpt`` and ``--config`` without loading weights.

    Args:
        checkpoint: checkpoint directory, a root holding ``last/``, or a state-dict file; None
            means the config's ``checkpoint.dir`` (default ``checkpoints/embedded``).
        config: YAML in the training schema (:class:`TrainConfig`); None means the checkpoint's own
            ``config.yaml`` (directories) or the defaults (state-dict files).

        allow_fewshot: accept a few-shot folder (``hnas eval``); otherwise it is refused with
            a message naming its part folders.
        weights: ``model`` (the trained weights) or ``ema`` (their moving average, DS-Net's
            bootstrapped teacher, stored by runs with ``loss.teacher: ema``).

    Raises:
        HnasError: no checkpoint at the path, unreadable metadata or config, or an unfinished
            few-shot part.
    """
    given = load_config(config, schema=TrainConfig) if config is not None else None
    if checkpoint is None:
        checkpoint = (given or TrainConfig()).checkpoint.dir
    path = Path(checkpoint)
    if path.is_file():
        if weights != "model":
            raise HnasError(f"--weights {weights}: {path} is a state-dict file; pass its checkpoint folder")
        return EvalSource(weights=path, config=given or TrainConfig(), space=None)
    if not path.exists():
        raise HnasError(f"checkpoint {path}: no such file or directory (train first, or pass --ckpt DIR_OR_FILE)")
    if is_fewshot_dir(path):
        if not allow_fewshot:
            manifest = read_manifest(path)
            raise HnasError(f"checkpoint {path} is a few-shot folder ({MANIFEST_FILE}): only hnas eval routes archs "
                            f"to its parts; pass one part's folder here, e.g. {manifest.part_dir(0)}")
        return _locate_fewshot(path, given, weights)
    folder = resolve_checkpoint(path, weights_only=True)
    space = read_space(read_meta(folder), f"checkpoint {folder / META_FILE}")
    cfg = given or load_config(folder / CONFIG_FILE, schema=TrainConfig)
    return EvalSource(weights=weights_file(folder, weights), config=cfg, space=space)


def _locate_fewshot(path: Path, given: TrainConfig | None, weights_choice: str) -> EvalSource:
    """Every part of a few-shot folder: finished, of the manifest's space, with one data section."""
    manifest = read_manifest(path)
    space = manifest.space
    weights: list[Path] = []
    configs: list[TrainConfig] = []
    for index, part in enumerate(manifest.parts):
        root = manifest.part_dir(index)
        if not (root / LAST).is_dir():
            raise HnasError(f"few-shot part {root} has no checkpoint yet: run hnas fewshot train again to finish it")
        folder = resolve_checkpoint(root, weights_only=True)
        epoch = int(read_meta(folder).get("progress", {}).get("epoch", 0))
        if epoch < manifest.epochs:
            raise HnasError(f"few-shot part {root} has trained {epoch} of {manifest.epochs} epochs: run hnas "
                            "fewshot train again to finish it")
        check_space(folder, space)
        weights.append(weights_file(folder, weights_choice))
        configs.append(load_config(folder / CONFIG_FILE, schema=TrainConfig))
    if any(cfg.data != configs[0].data for cfg in configs[1:]):
        raise HnasError(f"few-shot folder {path}: its parts were trained on different data sections")
    route = FewShotRoute(manifest.split, tuple(weights))
    return EvalSource(weights=weights[0], config=given or configs[0], space=space, fewshot=route)


def config_space(cfg: Any, data_overrides: Mapping[str, Any] | None = None) -> SearchSpace:
    """The space a config names, adapted to the data (classes, channels) unless the config overrides them."""
    overrides = {**dict(data_overrides or {}), **dict(cfg.space.overrides)}
    return resolve_space(cfg.space.name, overrides)


def fingerprint(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file, identifying the weights in progress-file settings."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_supernet(weights: str | os.PathLike[str], space: SearchSpace) -> Supernet:
    """Build the supernet of ``space`` and load ``weights`` into it (eval mode).

    A DataParallel ``_layers.`` prefix is removed with a notice; any other mismatch raises
    :class:`HnasError` listing the first missing and unexpected keys and wrong shapes.
    """
    state = read_state_dict(weights, f"checkpoint {weights}")
    refuse_non_finite(state, f"checkpoint {weights}")
    supernet = space.build_supernet()
    load_into(supernet, state, source=f"checkpoint {weights}")
    supernet.eval()
    return supernet


def refuse_non_finite(state: Mapping[str, Any], source: str) -> None:
    """Raise :class:`HnasError` naming the tensors of ``state`` that hold NaN or inf.

    Accuracies measured with such weights are meaningless, yet they would pass as a valid
    submission, so a diverged checkpoint is refused before anything is evaluated.
    """
    import numpy as np

    bad = [name for name, value in state.items()
           if np.issubdtype(np.asarray(value).dtype, np.floating) and not np.isfinite(np.asarray(value)).all()]
    if bad:
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise HnasError(f"{source}: {len(bad)} tensor(s) hold NaN or inf ({', '.join(bad[:5])}{more}); "
                        "the weights diverged, refusing to evaluate them")
