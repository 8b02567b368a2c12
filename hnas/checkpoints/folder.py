"""A checkpoint folder: its files, finding and reading one, and keeping the folder tidy.

Layout of ``<checkpoint.dir>/<name>/`` (``name`` is ``last`` or ``epoch_0003``)::

    model.pdparams   network state dict (parameters and BN statistics, structural names)
    optimizer.pdopt  optimizer state, keyed by structural parameter names
    ema.pdparams     only with ``loss.teacher: ema``: the moving average of the weights
    state.pkl        LR scheduler and sampler state, RNG states, progress
    meta.json        human-readable: progress, the space record (:mod:`~hnas.checkpoints.space_record`),
                     hnas version
    config.yaml      the resolved config of the run

An evaluation-only folder (``hnas convert-ckpt``) holds ``model.pdparams``, ``meta.json`` and
``config.yaml``. Every folder is written whole by :func:`hnas.io.atomic.atomic_write_folder`;
replacing ``last`` takes two renames, and if the process dies between them
:func:`resolve_checkpoint` finds the backup ``.last.old-<pid>``. The training state itself
(optimizer, sampler, RNG) is saved and restored by :mod:`hnas.engine.checkpoint`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

from hnas import __version__
from hnas.checkpoints.space_record import space_differences, space_record, stored_family, stored_name
from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_folder
from hnas.search_spaces.base import SearchSpace

logger = logging.getLogger(__name__)

MODEL_FILE = "model.pdparams"
OPTIMIZER_FILE = "optimizer.pdopt"
STATE_FILE = "state.pkl"
#: The moving average of the weights (``loss.teacher: ema``), beside the live weights.
AVERAGE_FILE = "ema.pdparams"
META_FILE = "meta.json"
CONFIG_FILE = "config.yaml"
LAST = "last"


class CheckpointMismatchError(HnasError):
    """A checkpoint that does not belong to the configured run (other space, missing files)."""


def epoch_name(epoch: int) -> str:
    """Directory name of the checkpoint written after epoch ``epoch`` (1-based count)."""
    return f"epoch_{epoch:04d}"


# --- writing -------------------------------------------------------------------------------


def meta_text(space: SearchSpace, extra: Mapping[str, Any]) -> str:
    """``meta.json``: the hnas version, the space record and ``extra`` (progress, accuracies ...)."""
    meta = {"hnas_version": __version__, **space_record(space), **dict(extra)}
    return json.dumps(meta, indent=2, sort_keys=True) + "\n"


def write_checkpoint_folder(folder: Path, fill: Callable[[Path], None], space: SearchSpace, config_text: str,
                            meta_extra: Mapping[str, Any]) -> Path:
    """Write ``folder`` whole: ``fill`` adds the state files, then ``meta.json`` and ``config.yaml``.

    Raises:
        WriteError: the filesystem refused (disk full); the previous folder is untouched.
    """
    def contents(temp: Path) -> None:
        fill(temp)
        (temp / META_FILE).write_text(meta_text(space, meta_extra), encoding="utf-8")
        (temp / CONFIG_FILE).write_text(config_text, encoding="utf-8")

    return atomic_write_folder(folder, contents, intact=_intact(folder))


def _intact(folder: Path) -> str:
    """What a failed write of checkpoint ``folder`` leaves usable (for the error message)."""
    if folder.is_dir():
        return f"the previous checkpoint {folder} is intact"
    kept = [path.name for path in sorted(folder.parent.glob("*")) if (path / META_FILE).is_file()]
    if kept:
        return f"the checkpoints already in {folder.parent} ({', '.join(kept[-3:])}) are intact"
    return f"no checkpoint was written to {folder.parent}"


def save_weights_checkpoint(
    folder: str | os.PathLike[str],
    state_dict: Mapping[str, Any],
    space: SearchSpace,
    config_text: str,
    meta_extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write an evaluation-only checkpoint (``model.pdparams``, ``meta.json``, ``config.yaml``) atomically.

    Used for weights that come from elsewhere (``hnas convert-ckpt``): ``hnas eval --ckpt``
    accepts the folder; ``hnas train --resume`` does not (there is no optimizer or sampler state).
    """
    import paddle

    def fill(temp: Path) -> None:
        paddle.save(dict(state_dict), str(temp / MODEL_FILE))

    return write_checkpoint_folder(Path(folder), fill, space, config_text, meta_extra or {})


def copy_checkpoint(source: Path, target: Path) -> Path:
    """Write ``target`` as a copy of the checkpoint folder ``source`` (atomically)."""
    def fill(folder: Path) -> None:
        for path in source.iterdir():
            shutil.copy2(path, folder / path.name)

    return atomic_write_folder(target, fill, intact=_intact(target))


def prune_checkpoints(root: str | os.PathLike[str], prefix: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` directories named ``<prefix>_<number>``; 0 keeps all."""
    if keep <= 0:
        return []
    found = sorted(
        path for path in Path(root).glob(f"{prefix}_*") if path.is_dir() and path.name[len(prefix) + 1:].isdigit()
    )
    removed = found[:-keep]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def clean_orphans(root: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary folders (``.<name>.tmp-*``) a kill during a save left in ``root``.

    Only a running save creates them and a run owns its ``checkpoint.dir``, so at the start of
    a run every one is an orphan. Backups of an interrupted replacement (``.last.old-*``) are
    kept: :func:`resolve_checkpoint` may need them.
    """
    root = Path(root)
    removed = [path for path in root.glob(".*.tmp-*") if path.is_dir()] if root.is_dir() else []
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
        logger.info("removed %s, left by a save that was interrupted", path)
    return removed


# --- free space before training ------------------------------------------------------------


def folder_bytes(folder: Path) -> int:
    """Total size of the files directly in ``folder``."""
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


def check_free_space(root: Path, checkpoint_bytes: int, copies: int) -> None:
    """Refuse to start training when ``root`` cannot hold the next save.

    A save writes ``copies`` new folders (``epoch_NNNN`` and ``last``) of ``checkpoint_bytes``
    each beside the kept checkpoints before the replaced one is removed.

    Raises:
        HnasError: naming the free space and the space the save needs.
    """
    probe = root
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    needed = checkpoint_bytes * copies
    if free < needed:
        raise HnasError(
            f"checkpoint.dir {root}: {_size(free)} free, but a checkpoint needs about {_size(checkpoint_bytes)}"
            f" and a save writes {copies} ({_size(needed)}) beside the kept ones; free space, choose another "
            "--checkpoint.dir or keep fewer epoch checkpoints (checkpoint.keep_epochs)"
        )


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


# --- reading -------------------------------------------------------------------------------


def resolve_checkpoint(path: str | os.PathLike[str], weights_only: bool = False) -> Path:
    """The checkpoint directory for ``path``: a checkpoint itself or a root holding ``last``.

    Falls back to the backup left by an interrupted replacement of ``last``. With
    ``weights_only`` (evaluation) a folder needs only ``meta.json`` and ``model.pdparams``, as
    written by :func:`save_weights_checkpoint`; resuming needs the training state too.

    Raises:
        CheckpointMismatchError: if no complete checkpoint is found.
    """
    path = Path(path)
    candidates = [path, path / LAST, *sorted(path.glob(f".{LAST}.old-*"))]
    required = (MODEL_FILE,) if weights_only else (MODEL_FILE, OPTIMIZER_FILE, STATE_FILE)
    for candidate in candidates:
        if (candidate / META_FILE).is_file():
            missing = [name for name in required if not (candidate / name).is_file()]
            if missing:
                raise CheckpointMismatchError(
                    f"checkpoint {candidate} is incomplete: missing {', '.join(missing)}{_imported_hint(candidate)}"
                )
            return candidate
    raise CheckpointMismatchError(f"no checkpoint found at {path} (looked for {META_FILE} in it and in {path / LAST})")


def _imported_hint(folder: Path) -> str:
    """How to continue from an evaluation-only folder written by ``hnas convert-ckpt``."""
    try:
        imported = "converted_from" in read_meta(folder)
    except CheckpointMismatchError:
        return ""
    if not imported:
        return ""
    return (f"; it holds imported weights only (hnas convert-ckpt): start a new run with "
            f"checkpoint.init_from={folder / MODEL_FILE} checkpoint.reorder=false")


def read_meta(folder: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(folder) / META_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CheckpointMismatchError(f"{path}: cannot read checkpoint metadata ({error})") from None


def check_space(folder: str | os.PathLike[str], space: SearchSpace) -> None:
    """Raise :class:`CheckpointMismatchError` naming the family or every space field that differs."""
    meta = read_meta(folder)
    family = stored_family(meta)
    if family != space.family:
        raise CheckpointMismatchError(
            f"checkpoint {folder} was trained on a {family!r} space ({stored_name(meta)!r}), but the configured "
            f"space {space.name!r} is of family {space.family!r}"
        )
    differences = space_differences(meta, space, f"checkpoint {folder}", labels=("checkpoint", "config"))
    if differences:
        raise CheckpointMismatchError(
            f"checkpoint {folder} was trained on space {stored_name(meta)!r}, which differs from the "
            f"configured space {space.name!r} in " + "; ".join(differences)
        )


def checkpoint_candidates(root: str | os.PathLike[str]) -> list[Path]:
    """Complete-looking checkpoints in ``root`` (``last``, its backup, ``epoch_NNNN``), newest first."""
    root = Path(root)
    found = []
    for path in [root / LAST, *root.glob(f".{LAST}.old-*"), *root.glob("epoch_*")]:
        if (path / META_FILE).is_file():
            try:
                step = int(read_meta(path)["progress"]["global_step"])
            except (HnasError, KeyError, TypeError, ValueError):
                continue
            found.append((step, path.name == LAST, path))
    return [path for _, _, path in sorted(found, key=lambda item: (item[0], item[1]), reverse=True)]
