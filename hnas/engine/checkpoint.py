"""Training checkpoints: one directory per checkpoint, written atomically.

Layout of ``<checkpoint.dir>/<name>/`` (``name`` is ``last`` or ``epoch_0003``)::

    model.pdparams   network state dict (parameters and BN statistics, structural names)
    optimizer.pdopt  optimizer state, keyed by structural parameter names (see below)
    ema.pdparams     only with ``loss.teacher: ema``: the moving average of the weights
    state.pkl        LR scheduler and sampler state, Python / NumPy / Paddle RNG states,
                     progress (epoch, step in epoch, global step)
    meta.json        human-readable: progress, space name, family and fields, hnas version
    config.yaml      the resolved config of the run

A checkpoint is first written into a hidden temporary directory next to its final place
and then renamed over it, so a reader sees a complete old or a complete new checkpoint.
Replacing an existing directory takes two renames (old -> backup, temp -> final); if the
process dies between them, :func:`resolve_checkpoint` finds the backup.

Paddle names optimizer accumulators after the auto-generated parameter names
(``conv2d_3.w_0_velocity_0``), which depend on how many layers the process created
before. The optimizer state is therefore stored under structural names
(``stages.0.1.conv1.conv.weight::velocity_0``) and mapped back on load.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pickle
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import paddle
from paddle import nn

from hnas import __version__
from hnas.errors import HnasError, shorten
from hnas.nn.state_dict import compare_state
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
_KEY_SEPARATOR = "::"


@dataclass(frozen=True)
class Progress:
    """Where training stands.

    Attributes:
        epoch: the epoch in progress (0-based).
        step_in_epoch: batches of ``epoch`` already trained.
        global_step: optimizer steps taken since the start of training.
    """

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0


class CheckpointMismatchError(HnasError):
    """A checkpoint that does not belong to the configured run (other space, missing files)."""


class NonFiniteStateError(HnasError):
    """The model holds NaN or inf values; such a state is never written."""


def epoch_name(epoch: int) -> str:
    """Directory name of the checkpoint written after epoch ``epoch`` (1-based count)."""
    return f"epoch_{epoch:04d}"


# --- optimizer state under structural names ------------------------------------------------


def _param_name_map(network: nn.Layer) -> dict[str, str]:
    """Paddle's unique parameter name -> structural name in ``network``."""
    return {param.name: name for name, param in network.named_parameters()}


def portable_optimizer_state(optimizer: paddle.optimizer.Optimizer, network: nn.Layer) -> dict[str, Any]:
    """``optimizer.state_dict()`` with accumulator keys renamed to structural names."""
    names = _param_name_map(network)
    # Longest first so that "linear_1" never claims an accumulator of "linear_11".
    prefixes = sorted(names, key=len, reverse=True)
    portable: dict[str, Any] = {}
    for key, value in optimizer.state_dict().items():
        owner = next((p for p in prefixes if key.startswith(p + "_")), None)
        if owner is None:
            portable[key] = value
        else:
            portable[names[owner] + _KEY_SEPARATOR + key[len(owner) + 1:]] = value
    return portable


def restore_optimizer_state(
    optimizer: paddle.optimizer.Optimizer, network: nn.Layer, state: Mapping[str, Any]
) -> None:
    """Inverse of :func:`portable_optimizer_state` followed by ``set_state_dict``."""
    by_structure = {name: param.name for name, param in network.named_parameters()}
    native: dict[str, Any] = {}
    for key, value in state.items():
        if _KEY_SEPARATOR in key:
            structural, suffix = key.split(_KEY_SEPARATOR, 1)
            if structural not in by_structure:
                raise CheckpointMismatchError(f"optimizer state names parameter {structural!r}, absent from the model")
            native[f"{by_structure[structural]}_{suffix}"] = value
        else:
            native[key] = value
    native.update(_untouched_accumulators(network, state))
    optimizer.set_state_dict(native)


def _untouched_accumulators(network: nn.Layer, state: Mapping[str, Any]) -> dict[str, Any]:
    """Zero accumulators for the parameters that no step had updated when ``state`` was saved.

    Paddle creates a parameter's accumulators (momentum velocity) on its first update, so a
    checkpoint taken before every subnet path was trained (single-path sampling, an early
    ``max_steps`` stop) lacks some; after loading, Paddle refuses to create them. A missing
    accumulator of the parameter's own shape is zero, exactly as it would start on first use.
    """
    params = dict(network.named_parameters())
    present: dict[str, set[str]] = {}
    param_shaped: dict[str, bool] = {}
    for key, value in state.items():
        if _KEY_SEPARATOR not in key:
            continue
        structural, suffix = key.split(_KEY_SEPARATOR, 1)
        present.setdefault(suffix, set()).add(structural)
        same = list(np.shape(value)) == list(params[structural].shape)
        param_shaped[suffix] = param_shaped.get(suffix, True) and same
    filled: dict[str, Any] = {}
    for suffix, owners in present.items():
        if not param_shaped[suffix]:
            continue
        for name, param in params.items():
            if name not in owners and not param.stop_gradient:
                filled[f"{param.name}_{suffix}"] = np.zeros(param.shape, dtype=_numpy_dtype(state, suffix))
    return filled


def _numpy_dtype(state: Mapping[str, Any], suffix: str) -> Any:
    """The dtype of the stored accumulators with ``suffix``."""
    for key, value in state.items():
        if key.endswith(_KEY_SEPARATOR + suffix):
            return np.asarray(value).dtype
    return np.float32


# --- RNG states ----------------------------------------------------------------------------


def capture_rng_states() -> dict[str, Any]:
    """Python, NumPy and Paddle (current device) RNG states."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "paddle": paddle.get_rng_state(),
    }


def restore_rng_states(states: Mapping[str, Any]) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    paddle.set_rng_state(states["paddle"])


# --- writing -------------------------------------------------------------------------------


@dataclass
class TrainingState:
    """Everything a checkpoint holds besides the config text."""

    network: nn.Layer
    optimizer: paddle.optimizer.Optimizer
    scheduler: paddle.optimizer.lr.LRScheduler
    sampler: Any
    space: SearchSpace
    progress: Progress
    average: Any = None  # hnas.engine.ema.WeightAverage of loss.teacher: ema, else None


def space_fields(space: SearchSpace) -> dict[str, Any]:
    """JSON-ready fields of the space (tuples become lists)."""
    return space.fields()


def _write_contents(folder: Path, state: TrainingState, config_text: str, meta_extra: Mapping[str, Any]) -> None:
    paddle.save(state.network.state_dict(), str(folder / MODEL_FILE))
    paddle.save(portable_optimizer_state(state.optimizer, state.network), str(folder / OPTIMIZER_FILE))
    if state.average is not None:
        paddle.save(state.average.state_dict(), str(folder / AVERAGE_FILE))
    payload = {
        "progress": dataclasses.asdict(state.progress),
        "scheduler": state.scheduler.state_dict(),
        "sampler": state.sampler.state_dict(),
        "rng": capture_rng_states(),
    }
    with open(folder / STATE_FILE, "wb") as stream:
        pickle.dump(payload, stream, protocol=pickle.HIGHEST_PROTOCOL)
    meta = {
        "hnas_version": __version__,
        "progress": dataclasses.asdict(state.progress),
        "space_name": state.space.name,
        "space_family": state.space.family,
        "space": space_fields(state.space),
        **dict(meta_extra),
    }
    (folder / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (folder / CONFIG_FILE).write_text(config_text, encoding="utf-8")
    for path in folder.iterdir():
        with open(path, "rb") as stream:
            os.fsync(stream.fileno())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace_directory(source: Path, target: Path) -> None:
    """Move the finished ``source`` to ``target``, replacing a previous ``target``."""
    backup: Path | None = None
    if target.exists():
        backup = target.with_name(f".{target.name}.old-{os.getpid()}")
        if backup.exists():
            shutil.rmtree(backup)
        os.replace(target, backup)
    os.replace(source, target)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def _atomic_directory(target: Path, fill: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        temp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; a checkpoint gets normal permissions
        fill(temp)
        _replace_directory(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def save_checkpoint(
    root: str | os.PathLike[str],
    names: list[str],
    state: TrainingState,
    config_text: str,
    meta_extra: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write one checkpoint under every name in ``names`` (e.g. ``["epoch_0003", "last"]``).

    The checkpoint is serialised once; the other names are copies. Non-finite parameters
    are refused, so a diverged run never replaces a good checkpoint.

    Returns:
        The checkpoint directories, in the order of ``names``.

    Raises:
        ValueError: if ``names`` is empty.
        NonFiniteStateError: if a parameter or BN statistic holds NaN or inf.
    """
    if not names:
        raise ValueError("save_checkpoint needs at least one name")
    root = Path(root)
    bad = [name for name, tensor in state.network.state_dict().items() if not bool(paddle.isfinite(tensor).all())]
    if bad:
        kept = (f"the previous one in {root / LAST} is kept" if (root / LAST).is_dir()
                else f"no earlier checkpoint exists in {root}")
        raise NonFiniteStateError(
            f"the model holds NaN or inf values (in {', '.join(bad[:5])}); the checkpoint was not written "
            f"and {kept}"
        )
    meta_extra = meta_extra or {}
    first = root / names[0]
    _atomic_directory(first, lambda folder: _write_contents(folder, state, config_text, meta_extra))
    written = [first]
    for name in names[1:]:
        target = root / name
        _atomic_directory(target, lambda folder: _copy_files(first, folder))
        written.append(target)
    logger.info("checkpoint written: %s", ", ".join(str(path) for path in written))
    return written


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
    folder = Path(folder)

    def fill(temp: Path) -> None:
        paddle.save(dict(state_dict), str(temp / MODEL_FILE))
        meta = {
            "hnas_version": __version__,
            "space_name": space.name,
            "space_family": space.family,
            "space": space_fields(space),
            **dict(meta_extra or {}),
        }
        (temp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (temp / CONFIG_FILE).write_text(config_text, encoding="utf-8")
        for path in temp.iterdir():
            with open(path, "rb") as stream:
                os.fsync(stream.fileno())

    _atomic_directory(folder, fill)
    return folder


def _copy_files(source: Path, folder: Path) -> None:
    for path in source.iterdir():
        shutil.copy2(path, folder / path.name)


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
    """Raise :class:`CheckpointMismatchError` naming the family or every space field that differs
    (checkpoints without ``space_family`` predate families and hold ResNet spaces)."""
    meta = read_meta(folder)
    family = meta.get("space_family", "resnet")
    if family != space.family:
        raise CheckpointMismatchError(
            f"checkpoint {folder} was trained on a {family!r} space ({meta.get('space_name')!r}), but the configured "
            f"space {space.name!r} is of family {space.family!r}"
        )
    stored = space.stored_fields(meta.get("space", {}))
    current = space_fields(space)
    differences = [
        f"{key}: checkpoint {stored.get(key)!r} vs config {value!r}"
        for key, value in current.items()
        if stored.get(key) != value
    ]
    if differences:
        raise CheckpointMismatchError(
            f"checkpoint {folder} was trained on space {meta.get('space_name')!r}, which differs from the "
            f"configured space {space.name!r} in " + "; ".join(differences)
        )


def load_checkpoint(folder: str | os.PathLike[str], state: TrainingState, restore_rng: bool = True) -> Progress:
    """Load a checkpoint written by :func:`save_checkpoint` into ``state`` (in place).

    The space is checked first, so nothing is modified when it differs.

    Returns:
        The stored progress (also assigned to ``state.progress``).

    Raises:
        CheckpointMismatchError: other space, missing or unreadable files, missing weights.
    """
    folder = resolve_checkpoint(folder)
    check_space(folder, state.space)
    try:
        weights = paddle.load(str(folder / MODEL_FILE))
        optimizer_state = paddle.load(str(folder / OPTIMIZER_FILE))
        with open(folder / STATE_FILE, "rb") as stream:
            payload = pickle.load(stream)  # noqa: S301 - a checkpoint is trusted like the .pdparams next to it
        average = paddle.load(str(folder / AVERAGE_FILE)) if (folder / AVERAGE_FILE).is_file() else None
    except Exception as error:  # a truncated file: UnpicklingError, EOFError, ValueError, ... from paddle.load
        raise CheckpointMismatchError(
            f"checkpoint {folder}: cannot read its files, they look truncated or corrupt "
            f"({type(error).__name__}: {shorten(str(error).splitlines()[0] if str(error) else '')}); "
            "resume from the newest intact checkpoint with --resume-from intact, or name one "
            "(--resume-from epoch_NNNN)"
        ) from None
    mismatch = compare_state(weights, state.network.state_dict())
    if mismatch.missing:
        raise CheckpointMismatchError(f"checkpoint {folder} lacks weights {sorted(mismatch.missing)[:5]}")
    if mismatch.wrong_shapes:
        name, found, wanted = mismatch.wrong_shapes[0]
        raise CheckpointMismatchError(
            f"checkpoint {folder}: {name} has shape {list(found)}, model needs {list(wanted)}"
        )
    state.network.set_state_dict(weights)
    restore_optimizer_state(state.optimizer, state.network, optimizer_state)
    if state.average is not None:
        if average is None:  # a run resumed with loss.teacher changed to ema (--allow-config-change)
            logger.warning("checkpoint %s has no %s: the weight average starts from its weights", folder, AVERAGE_FILE)
            state.average.copy_from(state.network)
        else:
            state.average.set_state_dict(average)
    state.scheduler.set_state_dict(payload["scheduler"])
    state.sampler.set_state_dict(payload["sampler"])
    if restore_rng:
        restore_rng_states(payload["rng"])
    state.progress = Progress(**payload["progress"])
    logger.info("resumed from %s at epoch %d, step %d", folder, state.progress.epoch, state.progress.step_in_epoch)
    return state.progress


# --- maintenance and choosing a checkpoint -------------------------------------------------


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


def load_newest_intact(root: str | os.PathLike[str], state: TrainingState) -> tuple[Path, Progress]:
    """Load the newest checkpoint of ``root`` whose files all read; returns it and its progress.

    Raises:
        CheckpointMismatchError: no checkpoint of ``root`` can be read (each reason listed).
    """
    reasons = []
    for folder in checkpoint_candidates(root):
        try:
            return folder, load_checkpoint(folder, state)
        except CheckpointMismatchError as error:
            reasons.append(str(error))
            logger.warning("skipping %s: %s", folder, error)
    listed = "".join(f"\n  {reason}" for reason in reasons) or f" (none found in {root})"
    raise CheckpointMismatchError(f"no intact checkpoint to resume from in {root}:{listed}")
