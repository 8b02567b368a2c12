"""Saving and restoring the training state in checkpoint folders (:mod:`hnas.checkpoints.folder`).

A save writes ``model.pdparams``, ``optimizer.pdopt``, ``ema.pdparams`` (``loss.teacher: ema``)
and ``state.pkl`` (LR scheduler and sampler state, Python / NumPy / Paddle RNG states, progress)
into a folder that :func:`hnas.checkpoints.folder.write_checkpoint_folder` completes with
``meta.json`` and ``config.yaml`` and publishes whole.

Paddle names optimizer accumulators after the auto-generated parameter names
(``conv2d_3.w_0_velocity_0``), which depend on how many layers the process created
before. The optimizer state is therefore stored under structural names
(``stages.0.1.conv1.conv.weight::velocity_0``) and mapped back on load.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import paddle
from paddle import nn

from hnas.checkpoints.folder import (
    AVERAGE_FILE,
    LAST,
    MODEL_FILE,
    OPTIMIZER_FILE,
    STATE_FILE,
    CheckpointMismatchError,
    check_space,
    checkpoint_candidates,
    copy_checkpoint,
    folder_bytes,
    resolve_checkpoint,
    write_checkpoint_folder,
)
from hnas.errors import HnasError, shorten
from hnas.nn.state_dict import compare_state
from hnas.search_spaces.base import SearchSpace

logger = logging.getLogger(__name__)

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


class NonFiniteStateError(HnasError):
    """The model holds NaN or inf values; such a state is never written."""


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


def _write_state(folder: Path, state: TrainingState) -> None:
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


def checkpoint_bytes(state: TrainingState, root: Path) -> int:
    """About how many bytes one checkpoint of ``state`` takes: the size of ``root``'s ``last`` if it
    exists, else the weights, one optimizer accumulator per trainable parameter and the average."""
    last = root / LAST
    if (last / MODEL_FILE).is_file():
        return folder_bytes(last)

    def nbytes(tensors: Any) -> int:
        return sum(int(np.prod(tensor.shape)) * tensor.element_size() for tensor in tensors)

    weights = nbytes(state.network.state_dict().values())
    accumulators = nbytes(param for param in state.network.parameters() if not param.stop_gradient)
    return weights * (2 if state.average is not None else 1) + accumulators


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
        WriteError: the filesystem refused (disk full); the checkpoints written before are intact.
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
    meta = {"progress": dataclasses.asdict(state.progress), **dict(meta_extra or {})}
    first = root / names[0]
    write_checkpoint_folder(first, lambda folder: _write_state(folder, state), state.space, config_text, meta)
    written = [first]
    for name in names[1:]:
        written.append(copy_checkpoint(first, root / name))
    logger.info("checkpoint written: %s", ", ".join(str(path) for path in written))
    return written


# --- reading -------------------------------------------------------------------------------


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
