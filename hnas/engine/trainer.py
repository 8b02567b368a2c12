"""Supernet training on top of ``paddle.Model`` (hapi).

:class:`SupernetModel` is a ``paddle.Model`` whose only override, ``train_batch``, delegates
to a :class:`~hnas.engine.step.SupernetStep`. Logging, LR stepping, evaluation and
checkpoints are ``paddle.callbacks.Callback`` objects (:mod:`hnas.engine.callbacks`).

The epoch loop is :func:`fit` here rather than ``paddle.Model.fit``, for three reasons:
hapi's loop does not hand ``train_batch`` the epoch and global step the sampler and the
rank-loss schedule need; it cannot start an epoch at batch ``k``, which exact mid-epoch
resume requires; and it counts the steps of an epoch itself, which breaks ``max_steps``
stops at a checkpointable point. ``fit`` is a short loop that calls the same hapi hooks in
the same order (``on_train_begin``, ``on_epoch_begin``, ``on_train_batch_begin/end``,
``on_epoch_end``, ``on_train_end``) and honours ``model.stop_training``; no private hapi
code is copied or patched.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import paddle
import yaml
from paddle.callbacks import Callback

from hnas.checkpoints.folder import (
    CONFIG_FILE,
    LAST,
    check_free_space,
    checkpoint_candidates,
    clean_orphans,
    resolve_checkpoint,
)
from hnas.config import ConfigError, config_to_dict, parse_yaml
from hnas.data import build_datasets, make_loader, set_epoch
from hnas.engine.callbacks import (
    ChannelReorder,
    Checkpointer,
    MaxSteps,
    ProgressLogger,
    SubnetEvaluator,
    SyncBatchNormStats,
    VisualDLLogger,
)
from hnas.engine.checkpoint import Progress, TrainingState, checkpoint_bytes, load_checkpoint, load_newest_intact
from hnas.engine.distributed import DistInfo, broadcast_state, init_distributed
from hnas.engine.ema import WeightAverage
from hnas.engine.pretrained import init_from_standalone, init_from_supernet
from hnas.engine.step import Objective, PriorFn, StepResult, SupernetStep
from hnas.errors import HnasError
from hnas.losses import LOSSES
from hnas.nn.optim import ScheduleLengths, WarmupCosine, build_optimizer, scaled_lr, schedule_lengths
from hnas.proxies import PROXIES
from hnas.samplers import SAMPLERS, Sampler, check_sampler_args
from hnas.search_spaces.base import SearchSpace, Supernet
from hnas.search_spaces.spaces import resolve_space
from hnas.termination import raise_if_interrupted
from hnas.train_config import LossCfg, TrainConfig

logger = logging.getLogger(__name__)


class SupernetModel(paddle.Model):
    """``paddle.Model`` whose ``train_batch`` runs one supernet step.

    ``progress`` tells the step which epoch and global step it is in; the fit loop advances
    it. ``last_result`` holds the named loss terms of the latest step.
    """

    def __init__(self, supernet: Supernet, supernet_step: SupernetStep) -> None:
        super().__init__(supernet)
        self.supernet_step = supernet_step
        self.progress = Progress()
        self.last_result: StepResult | None = None

    def train_batch(self, inputs: Any, labels: Any = None, update: bool = True) -> list[float]:
        """Train on one batch; returns ``[total loss]`` like hapi (terms in ``last_result``)."""
        if not update:
            raise NotImplementedError("gradient accumulation across batches is not supported by SupernetStep")
        images = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        targets = labels[0] if isinstance(labels, (list, tuple)) else labels
        result = self.supernet_step(images, targets, step=self.progress.global_step, epoch=self.progress.epoch)
        self.last_result = result
        return [result.terms.get("loss", float("nan"))]


def _call(callbacks: Sequence[Callback], hook: str, *args: Any) -> None:
    for callback in callbacks:
        getattr(callback, hook)(*args)


def fit(
    model: SupernetModel,
    loader: paddle.io.DataLoader,
    callbacks: Sequence[Callback],
    epochs: int,
    steps_per_epoch: int,
) -> Progress:
    """Train from ``model.progress`` to the end of ``epochs`` (or until a callback stops it).

    Raises whatever the step raises (e.g. :class:`~hnas.engine.step.NonFiniteLossError`)
    without calling ``on_train_end``, so no checkpoint of a failed state is written.
    """
    params = {"epochs": epochs, "steps": steps_per_epoch, "verbose": 0, "metrics": ["loss"]}
    for callback in callbacks:
        callback.set_model(model)
        callback.set_params(params)
    model.stop_training = False
    logs: dict[str, Any] = {}
    _call(callbacks, "on_train_begin", logs)
    while model.progress.epoch < epochs and not model.stop_training:
        epoch = model.progress.epoch
        raise_if_interrupted()
        set_epoch(loader, epoch, start_batch=model.progress.step_in_epoch)
        _call(callbacks, "on_epoch_begin", epoch, logs)
        for images, labels in loader:
            step = model.progress.step_in_epoch
            _call(callbacks, "on_train_batch_begin", step, logs)
            lr = model._optimizer.get_lr()
            model.train_batch([images], [labels])
            model.progress = Progress(epoch, step + 1, model.progress.global_step + 1)
            logs = {f"train/{key}": value for key, value in model.last_result.terms.items()}
            logs.update({"train/lr": lr, "step": step, "batch_size": int(images.shape[0])})
            _call(callbacks, "on_train_batch_end", step, logs)
            raise_if_interrupted()  # a Ctrl-C the multi-process reader swallowed still stops the run
            if model.stop_training:
                break
        if model.progress.step_in_epoch >= steps_per_epoch:
            model.progress = Progress(epoch + 1, 0, model.progress.global_step)
            _call(callbacks, "on_epoch_end", epoch, logs)
    _call(callbacks, "on_train_end", logs)
    return model.progress


# --- building the pieces from the config -----------------------------------------------------


def select_device(device: str, dist_info: DistInfo) -> str:
    """Set Paddle's device from ``cpu`` / ``gpu`` / ``auto`` and return its name."""
    has_gpu = paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
    if device == "gpu" and not has_gpu:
        raise HnasError("device: gpu requested, but Paddle sees no CUDA device")
    if device == "gpu" or (device == "auto" and has_gpu):
        name = f"gpu:{paddle.distributed.ParallelEnv().dev_id if dist_info.enabled else 0}"
    else:
        name = "cpu"
    paddle.set_device(name)
    return name


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and Paddle (the supernet's initial weights depend on it)."""
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


def build_space(cfg: TrainConfig, info: Any) -> SearchSpace:
    """The configured space, with classes and channels following the data unless overridden."""
    space = resolve_space(cfg.space.name, {**info.space_overrides(), **dict(cfg.space.overrides)})
    if info.resolution not in space.resolutions or info.in_channels != space.in_channels:
        raise HnasError(
            f"data {info.name!r} gives {info.in_channels}x{info.resolution}px images, but space {space.name!r} takes "
            f"{space.in_channels} channels at {list(space.resolutions)} px (set space.overrides.resolutions)"
        )
    return space


def build_objective(cfg: LossCfg) -> Objective:
    try:
        distill = LOSSES.build(cfg.distill, **cfg.distill_args)
    except (TypeError, ValueError) as error:
        raise HnasError(f"loss.distill_args for {cfg.distill!r}: {error}") from None
    return Objective(
        distill=distill,
        distill_name=cfg.distill,
        label_smoothing=cfg.label_smoothing,
        student_label_weight=cfg.student_label_weight,
        rank_w_max=cfg.rank_w_max,
        rank_ramp=cfg.rank_ramp,
        rank_margin=cfg.rank_margin,
    )


def build_prior(cfg: LossCfg, space: SearchSpace) -> PriorFn:
    """``spec -> float`` from the ``PROXIES`` entry ``cfg.rank_prior``, with a per-run cache."""
    proxy = PROXIES.get(cfg.rank_prior)
    cache: dict[Any, float] = {}

    def prior(spec: Any) -> float:
        if spec not in cache:
            try:
                cache[spec] = float(proxy(space, spec, **cfg.rank_prior_args))
            except TypeError as error:
                raise HnasError(f"loss.rank_prior_args for {cfg.rank_prior!r}: {error}") from None
        return cache[spec]

    return prior


def build_sampler(cfg: TrainConfig, space: SearchSpace, steps_per_epoch: int | None = None) -> Sampler:
    """The configured sampler, told the run's epochs (and steps per epoch when known)."""
    try:
        sampler = SAMPLERS.build(cfg.sampler.name, space=space, seed=cfg.seed, **cfg.sampler.args)
    except TypeError as error:
        raise HnasError(f"sampler.args for {cfg.sampler.name!r}: {error}") from None
    sampler.set_schedule(cfg.epochs, steps_per_epoch)
    return sampler


def check_sampler(cfg: TrainConfig) -> None:
    """Build the sampler on the config's space before any data loads, so bad settings (a pool size
    of 0, an empty bucket range, a phase list short of the full space, an unreachable bin) stop
    the run at once. The space lacks the data's class and channel counts here; the real build
    after the data loads checks again with them."""
    check_sampler_args(cfg.sampler.name, cfg.sampler.args)
    build_sampler(cfg, resolve_space(cfg.space.name, dict(cfg.space.overrides)))


def config_text(cfg: TrainConfig) -> str:
    """The resolved config as YAML (what every checkpoint stores)."""
    return yaml.safe_dump(config_to_dict(cfg), sort_keys=False, default_flow_style=False)


@dataclass
class TrainSummary:
    """What a training run did.

    Attributes:
        progress: where training stopped.
        history: per evaluated epoch, ``{"epoch": n, "val/max_acc": ..., "val/min_acc": ...}``.
        checkpoints: directories written by the last save.
        seconds: wall time of :func:`train`.
        lengths: steps per epoch, total and warm-up steps.
        lr: the batch-scaled peak learning rate.
        supernet: the trained supernet (for programmatic use; not serialised).
        rank: this process's rank (0 when not distributed).
    """

    progress: Progress
    history: list[dict[str, float]] = field(default_factory=list)
    checkpoints: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    lengths: ScheduleLengths | None = None
    lr: float = 0.0
    supernet: Supernet | None = None
    rank: int = 0


def _check_checkpoint_dir(cfg: TrainConfig, root: Path, resume: bool, overwrite: bool, named: bool = False) -> None:
    from hnas.io.outputs import check_output_dir

    check_output_dir(root, [cfg.checkpoint.init_from, cfg.data.root], what="checkpoint.dir")
    exists = (root / LAST).exists()
    if resume and not exists and not named:
        resolve_checkpoint(root)  # raises with the paths it looked at
    if not resume and exists and not overwrite:
        raise HnasError(
            f"checkpoint.dir {root} already holds a checkpoint ({root / LAST}); pass --resume to continue it, "
            "--overwrite to start again, or choose another --checkpoint.dir"
        )


@dataclass
class _Run:
    """The pieces of one training run, built from the config."""

    dist_info: DistInfo
    space: SearchSpace
    train_set: Any
    val_set: Any
    loader: paddle.io.DataLoader
    lengths: ScheduleLengths
    peak_lr: float
    model: SupernetModel
    state: TrainingState

    def current_state(self) -> TrainingState:
        return dataclasses.replace(self.state, progress=self.model.progress)


#: ``--resume-from`` value that picks the newest checkpoint whose files all read.
INTACT = "intact"


def resume_folder(root: Path, resume_from: str | None) -> Path:
    """The checkpoint whose config a resume is checked against (``intact``: the newest candidate)."""
    if resume_from is None:
        return resolve_checkpoint(root)
    if resume_from == INTACT:
        candidates = checkpoint_candidates(root)
        if not candidates:
            raise HnasError(f"--resume-from intact: no checkpoint found in {root}")
        return candidates[0]
    named = root / resume_from if (root / resume_from).is_dir() else Path(resume_from)
    return resolve_checkpoint(named)


#: Settings that steer a run without changing what it trains; they may differ on ``--resume``.
RESUME_FREE_KEYS: tuple[str, ...] = ("checkpoint.dir", "checkpoint.every_steps", "checkpoint.keep_epochs",
                                     "max_steps", "device", "conv_mode", "data.num_workers", "data.on_bad_image",
                                     "nan_policy", "nan_max_skips", "log.", "eval.")


def _resume_free(key: str) -> bool:
    return any(key == free or (free.endswith(".") and key.startswith(free)) for free in RESUME_FREE_KEYS)


def _flat(values: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(values, dict) and values:
        flat: dict[str, Any] = {}
        for key, value in values.items():
            flat.update(_flat(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): values}


def config_changes(stored_text: str, cfg: TrainConfig) -> list[str]:
    """``key: checkpoint A, now B`` for every setting of ``cfg`` that differs from a stored config.

    :data:`RESUME_FREE_KEYS` are ignored (a moved run folder, ``max_steps``, logging); a key the
    stored config lacks (written before the key existed) counts only if ``cfg`` does not use its
    default.
    """
    try:
        stored = _flat(parse_yaml(stored_text))
    except ConfigError as error:
        return [f"the checkpoint's config cannot be read ({error})"]
    current = _flat(parse_yaml(config_text(cfg)))
    default = _flat(parse_yaml(config_text(TrainConfig())))
    changes = []
    for key, value in current.items():
        if _resume_free(key):
            continue
        if key not in stored:
            if value != default.get(key):
                changes.append(f"{key}: checkpoint has no such key (default {default.get(key)!r}), now {value!r}")
        elif stored[key] != value:
            changes.append(f"{key}: checkpoint {stored[key]!r}, now {value!r}")
    changes += [f"{key}: checkpoint {stored[key]!r}, now not set" for key in stored
                if key not in current and not _resume_free(key)]
    return changes


def check_resume_config(cfg: TrainConfig, folder: Path, allow_change: bool) -> list[str]:
    """Refuse a resume whose config differs from the checkpoint's, unless ``allow_change``.

    Returns:
        The allowed changes (see :func:`config_changes`); empty for the same config.
    """
    path = folder / CONFIG_FILE
    try:
        stored = path.read_text(encoding="utf-8")
    except OSError as error:
        raise HnasError(f"{path}: cannot read the checkpoint's config ({error.strerror})") from None
    changes = config_changes(stored, cfg)
    if not changes:
        return []
    listed = "".join(f"\n  {change}" for change in changes)
    if not allow_change:
        raise HnasError(f"--resume: the config differs from the one {folder} was trained with:{listed}\n"
                        "resume with the same settings, or pass --allow-config-change to continue with "
                        "the new ones (the LR schedule is recomputed for them)")
    return changes


def store_resumed_config(cfg: TrainConfig, root: Path, folder: Path, changes: list[str]) -> Path:
    """Write the changed config as ``<root>/config.resumed-N.yaml`` beside the checkpoints.

    The checkpoints written before keep the config they were trained with; the ones written
    from now on store the new one.
    """
    number = 1
    while (root / f"config.resumed-{number}.yaml").exists():
        number += 1
    target = root / f"config.resumed-{number}.yaml"
    from hnas.io.atomic import atomic_write_text

    header = "".join(f"# changed: {change}\n" for change in changes)
    atomic_write_text(target, f"# config of the run resumed from {folder}\n{header}{config_text(cfg)}")
    logger.warning("resuming with a changed config (stored as %s):%s", target,
                   "".join(f"\n  {change}" for change in changes))
    return target


def _build_run(cfg: TrainConfig, resume: bool, root: Path, resume_from: str | None = None) -> _Run:
    """Data, space, supernet, optimizer, sampler and step; the checkpoint loaded if resuming."""
    dist_info = init_distributed()
    select_device(cfg.device, dist_info)
    seed_everything(cfg.seed)
    train_set, val_set = build_datasets(cfg.data)
    space = build_space(cfg, train_set.info)
    batch_size = cfg.data.batch_size
    if len(train_set) < batch_size * dist_info.world_size:
        raise HnasError(f"data.batch_size {batch_size} x {dist_info.world_size} rank(s) is larger than the "
                        f"{len(train_set)} training images; an epoch would have no step (lower data.batch_size)")
    loader = make_loader(train_set, batch_size, shuffle=True, drop_last=True, num_workers=cfg.data.num_workers,
                         seed=cfg.seed, distributed=dist_info.enabled, on_bad_image=cfg.data.on_bad_image)
    lengths = schedule_lengths(len(train_set), batch_size, dist_info.world_size, cfg.epochs,
                               cfg.optim.warmup_epochs, drop_last=True)
    if len(loader) != lengths.steps_per_epoch:
        raise HnasError(f"loader gives {len(loader)} batches per epoch, schedule expects {lengths.steps_per_epoch}")
    peak_lr = scaled_lr(cfg.optim.lr, batch_size, dist_info.world_size, cfg.optim.reference_batch)

    supernet = space.build_supernet().set_conv_mode(cfg.conv_mode)
    if cfg.checkpoint.init_from is not None and not resume:
        if Path(cfg.checkpoint.init_from).is_dir():
            init_from_supernet(supernet, cfg.checkpoint.init_from, space)
        else:
            # Before the optimizer exists: reordering permutes weights, not momentum buffers.
            init_from_standalone(supernet, cfg.checkpoint.init_from, space, cfg.checkpoint.reorder)
    scheduler = WarmupCosine(peak_lr, lengths.warmup_steps, lengths.total_steps, cfg.optim.min_lr)
    optimizer = build_optimizer(supernet, scheduler, cfg.optim.momentum, cfg.optim.weight_decay,
                                cfg.optim.nesterov, cfg.optim.grad_clip_norm)
    sampler = build_sampler(cfg, space, lengths.steps_per_epoch)
    average = WeightAverage(supernet, space, cfg.loss.ema_decay) if cfg.loss.teacher == "ema" else None
    step = SupernetStep(supernet, sampler, optimizer, build_objective(cfg.loss), build_prior(cfg.loss, space),
                        dist_info, cfg.nan_policy, cfg.nan_max_skips, average)
    model = SupernetModel(supernet, step)
    model.prepare(optimizer)
    state = TrainingState(supernet, optimizer, scheduler, sampler, space, Progress(), average)
    if resume:
        if resume_from == INTACT:
            folder, model.progress = load_newest_intact(root, state)
            logger.info("resumed from the newest intact checkpoint, %s", folder)
        else:
            model.progress = load_checkpoint(resume_folder(root, resume_from), state)
        # The LR of the next step follows the schedule of this config (a finished run's stored
        # LR is the end of its cosine, 0.0, which a run extended to more epochs must not use).
        scheduler.last_lr = scheduler.get_lr()
    broadcast_state(supernet, dist_info)
    if average is not None:
        broadcast_state(average.net, dist_info)
    return _Run(dist_info, space, train_set, val_set, loader, lengths, peak_lr, model, state)


def _callbacks(
    cfg: TrainConfig, run: _Run, root: Path
) -> tuple[list[Callback], SubnetEvaluator, Checkpointer | None]:
    """The callbacks in the order :mod:`hnas.engine.callbacks` documents; writers on rank 0 only."""
    evaluator = _evaluator(cfg, run.space, run.state.sampler, run.val_set, run.train_set)
    callbacks: list[Callback] = [
        paddle.callbacks.LRScheduler(by_step=True, by_epoch=False),
        MaxSteps(cfg.max_steps),
        ChannelReorder(run.state.sampler),
        SyncBatchNormStats(run.dist_info, cfg.checkpoint.every_steps),
    ]
    if not run.dist_info.is_main:
        return callbacks, evaluator, None
    checkpointer = Checkpointer(
        root, run.current_state, config_text(cfg), cfg.checkpoint.keep_epochs, cfg.checkpoint.every_steps,
        extra_meta=lambda: {"val_history": evaluator.history},
    )
    callbacks += [evaluator, ProgressLogger(cfg.log.every_steps, run.lengths.total_steps,
                                            run.lengths.steps_per_epoch, cfg.epochs)]
    if cfg.log.visualdl:
        callbacks.append(VisualDLLogger(cfg.log.visualdl_dir or root / "visualdl", cfg.log.every_steps))
    callbacks.append(checkpointer)
    return callbacks, evaluator, checkpointer


def train(cfg: TrainConfig, resume: bool = False, overwrite: bool = False, resume_from: str | None = None,
          allow_config_change: bool = False) -> TrainSummary:
    """Train a supernet as configured; the entry point of ``hnas train``.

    Args:
        cfg: the resolved config.
        resume: continue from ``<checkpoint.dir>/last`` exactly where it stopped.
        overwrite: allow a fresh run to replace an existing ``last`` checkpoint.
        resume_from: resume from this checkpoint of ``checkpoint.dir`` (``epoch_0002``, a path)
            instead of ``last``; ``"intact"``: the newest one whose files all read. Implies ``resume``.
        allow_config_change: resume even though the config differs from the checkpoint's.

    Raises:
        HnasError: an option the sampler does not take, bad data folder, space / checkpoint
            mismatch, an existing checkpoint without ``--resume`` / ``--overwrite``, a
            ``checkpoint.dir`` without the free space for a save (checked before the first
            step), or a non-finite loss (``nan_policy: stop``).
        WriteError: a save refused midway (disk full); the earlier checkpoints are intact.
    """
    started = time.perf_counter()
    check_sampler(cfg)  # before any data is loaded
    root = Path(cfg.checkpoint.dir)
    resume = resume or resume_from is not None
    _check_checkpoint_dir(cfg, root, resume, overwrite, named=resume_from is not None)
    changes: list[str] = []
    if resume:
        changes = check_resume_config(cfg, resume_folder(root, resume_from), allow_config_change)
    clean_orphans(root)
    run = _build_run(cfg, resume, root, resume_from)
    if changes and run.dist_info.is_main:
        store_resumed_config(cfg, root, resume_folder(root, resume_from), changes)
    if run.dist_info.is_main:
        copies = 1 if cfg.checkpoint.keep_epochs == -1 else 2  # epoch_NNNN and last
        check_free_space(root, checkpoint_bytes(run.state, root), copies)
    callbacks, evaluator, checkpointer = _callbacks(cfg, run, root)
    logger.info("peak lr %.5g (batch %d x %d ranks), %d warm-up steps of %d", run.peak_lr, cfg.data.batch_size,
                run.dist_info.world_size, run.lengths.warmup_steps, run.lengths.total_steps)
    try:
        progress = fit(run.model, run.loader, callbacks, cfg.epochs, run.lengths.steps_per_epoch)
    finally:
        for callback in callbacks:
            if isinstance(callback, VisualDLLogger):
                callback.close()
    return TrainSummary(
        progress=progress,
        history=list(evaluator.history),
        checkpoints=list(checkpointer.written) if checkpointer is not None else [],
        seconds=time.perf_counter() - started,
        lengths=run.lengths,
        lr=run.peak_lr,
        supernet=run.model.network,
        rank=run.dist_info.rank,
    )


def _evaluator(
    cfg: TrainConfig, space: SearchSpace, sampler: Sampler, val_set: Any, train_set: Any
) -> SubnetEvaluator:
    """Largest and smallest subnet (of the sampler's distribution) on the val split."""
    batch_size = cfg.data.batch_size
    eval_batch = cfg.eval.batch_size or batch_size
    val_loader = make_loader(val_set, eval_batch, shuffle=False, num_workers=cfg.data.num_workers,
                             on_bad_image=cfg.data.on_bad_image)
    recal_loader = make_loader(train_set, batch_size, shuffle=True, drop_last=True,
                               num_workers=cfg.data.num_workers, seed=cfg.seed + 1,
                               on_bad_image=cfg.data.on_bad_image)

    def val_batches() -> Any:
        set_epoch(val_loader, 0)
        return val_loader

    def recal_batches() -> Any:
        set_epoch(recal_loader, 0)
        return recal_loader

    subnets = {"max": space.max_spec(), "min": sampler.dist.smallest()}
    return SubnetEvaluator(subnets, val_batches, cfg.epochs, cfg.eval.every_epochs, cfg.eval.max_batches,
                           recal_batches, cfg.eval.bn_recal_batches)
