"""DS-Net stage II: ``hnas train`` with a ``gate`` section trains the slimming gate of a frozen supernet.

The run starts from the supernet checkpoint ``checkpoint.init_from`` (stage I, usually after
``hnas bn-reset``), which must hold the configured space; everything else follows
``hnas train``: the same data loader, LR schedule (warm-up + cosine), checkpoints written
atomically with the RNG state (the Gumbel noise) so ``--resume`` continues exactly, the same
``--resume`` config check. Only the slimming head's parameters are in the optimizer; the
supernet's BN stays in eval mode. Each step:

1. the prefix up to the gate point, every routed level's logits (no gradient) and the gate's
   straight-through routing (:meth:`~hnas.dynamic.network.GatedNetwork.train_forward`);
2. the SGS targets from level 0, the smallest routed subnet (:func:`~hnas.dynamic.sgs.sgs_targets`);
3. the loss of :func:`~hnas.dynamic.sgs.gate_loss`, one optimizer update.

At the end of epochs the dynamic network is validated (top-1 and mean MAdds per image of the
grouped dynamic forward); the checkpoint holds ``supernet.*`` (unchanged) and ``gate.*``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import paddle
from paddle.callbacks import Callback

from hnas.checkpoints.folder import clean_orphans, read_meta, resolve_checkpoint
from hnas.checkpoints.space_record import read_space
from hnas.data import build_datasets, make_loader, set_epoch
from hnas.dynamic.network import GatedNetwork, check_gate
from hnas.dynamic.sgs import gate_loss, sgs_targets
from hnas.engine.callbacks import Checkpointer, MaxSteps, ProgressLogger, VisualDLLogger
from hnas.engine.checkpoint import Progress, TrainingState, load_checkpoint
from hnas.engine.distributed import DistInfo, allreduce_gradients, broadcast_state, init_distributed
from hnas.engine.pretrained import init_from_supernet
from hnas.engine.step import NonFiniteLossError, StepResult
from hnas.engine.trainer import (
    SupernetModel,
    TrainSummary,
    _check_checkpoint_dir,
    build_sampler,
    build_space,
    check_resume_config,
    config_text,
    fit,
    resume_folder,
    seed_everything,
    select_device,
    store_resumed_config,
)
from hnas.errors import HnasError
from hnas.nn.optim import WarmupCosine, build_optimizer, scaled_lr, schedule_lengths
from hnas.search_spaces.base import SearchSpace
from hnas.train_config import TrainConfig

logger = logging.getLogger(__name__)


class GateStep:
    """One stage II optimizer step (same call as :class:`~hnas.engine.step.SupernetStep`)."""

    def __init__(self, gated: GatedNetwork, optimizer: paddle.optimizer.Optimizer, madds_lambda: float,
                 gate_smoothing: float, dist_info: DistInfo = DistInfo()) -> None:
        self.gated = gated
        self.optimizer = optimizer
        self.madds_lambda = madds_lambda
        self.gate_smoothing = gate_smoothing
        self.dist_info = dist_info

    def __call__(self, images: paddle.Tensor, labels: paddle.Tensor, step: int, epoch: int) -> StepResult:
        self.gated.train()
        out = self.gated.train_forward(images)
        targets = sgs_targets(out.levels[:, 0], labels, len(self.gated.levels))
        loss = gate_loss(out.routed, out.gate_logits, out.one_hot, self.gated.option_madds, targets, labels,
                         self.madds_lambda, self.gate_smoothing)
        value = float(loss.total)
        if not math.isfinite(value):
            raise NonFiniteLossError(f"non-finite gate loss at epoch {epoch}, step {step}; no checkpoint was "
                                     "written for this state. Lower optim.lr.")
        self.optimizer.clear_grad(set_to_zero=False)
        loss.total.backward()
        allreduce_gradients(self.gated.gate_parameters(), self.dist_info)
        self.optimizer.step()
        self.optimizer.clear_grad(set_to_zero=False)
        routes = out.one_hot.numpy().argmax(axis=1)
        terms = {"loss": value, "gate/ce": float(loss.gate_ce), "routed/ce": float(loss.routed_ce),
                 "madds/penalty": float(loss.madds_penalty), "madds/mean_M": float(loss.mean_madds) / 1e6,
                 "gate/easy": float((targets.numpy() == 0).mean()), "gate/narrowest": float((routes == 0).mean())}
        return StepResult(terms=terms, net_losses=[value])


def evaluate_dynamic(gated: GatedNetwork, batches: Iterable[Any], noise: bool = False) -> dict[str, Any]:
    """Top-1, mean MAdds per image and the share of images per routed level of the dynamic network
    (``noise``: Gumbel-sampled routes, DS-Net's evaluation)."""
    gated.eval()
    correct = images = 0
    madds = 0.0
    counts = np.zeros(len(gated.levels), dtype=np.int64)
    for batch, labels in batches:
        logits, route = gated.dynamic_forward(batch, noise)
        correct += int((logits.numpy().argmax(axis=1) == labels.numpy().reshape(-1)).sum())
        images += int(batch.shape[0])
        madds += gated.routed_madds(route)
        counts += np.bincount(route.numpy(), minlength=len(gated.levels))
    if images == 0:
        raise HnasError("dynamic evaluation got no validation images")
    return {"top1": correct / images, "mean_madds": madds / images, "images": images,
            "route_share": (counts / images).tolist()}


class DynamicEvaluator(Callback):
    """Validation of the dynamic network at the end of epochs (``val/dynamic_acc``, ``val/dynamic_mmadds``)."""

    def __init__(self, gated: GatedNetwork, val_batches: Callable[[], Iterable[Any]], epochs: int,
                 every_epochs: int, max_batches: int) -> None:
        super().__init__()
        self.gated, self.val_batches = gated, val_batches
        self.epochs, self.every_epochs, self.max_batches = epochs, every_epochs, max_batches
        self.history: list[dict[str, float]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self.every_epochs or ((epoch + 1) % self.every_epochs and epoch + 1 != self.epochs):
            return
        batches = self.val_batches()
        if self.max_batches:
            batches = (batch for index, batch in enumerate(batches) if index < self.max_batches)
        result = evaluate_dynamic(self.gated, batches)
        self.gated.train()
        values = {"val/dynamic_acc": result["top1"], "val/dynamic_mmadds": result["mean_madds"] / 1e6}
        self.history.append({"epoch": epoch + 1, **values})
        if logs is not None:
            logs.update(values)
        logger.info("epoch %d dynamic network: top-1 %.4f, %.2f M MAdds per image, routes %s", epoch + 1,
                    result["top1"], result["mean_madds"] / 1e6, [round(share, 3) for share in result["route_share"]])


def stage_one_space(cfg: TrainConfig) -> tuple[Path, SearchSpace]:
    """The stage I checkpoint of ``checkpoint.init_from`` and its space, checked against the gate settings.

    Raises:
        HnasError: no ``init_from``, no supernet weights there, another space than the config's,
            a space without width levels / gate points, a gate point it lacks, too many options.
    """
    assert cfg.gate is not None
    if cfg.checkpoint.init_from is None:
        raise HnasError("gate training starts from a trained supernet: set checkpoint.init_from to the stage I "
                        "checkpoint folder (after hnas bn-reset)")
    source = Path(cfg.checkpoint.init_from)
    if not source.is_dir():
        raise HnasError(f"checkpoint.init_from {source}: gate training needs a supernet checkpoint folder "
                        "(stage I weights), not a file or a missing path")
    folder = resolve_checkpoint(source, weights_only=True)
    meta = read_meta(folder)
    if meta.get("space_name") != cfg.space.name:
        raise HnasError(f"checkpoint.init_from {folder} holds a supernet of space {meta.get('space_name')!r}, "
                        f"but the gate config trains space {cfg.space.name!r}")
    space = read_space(meta, f"checkpoint {folder}")
    check_gate(space, cfg.gate.block, cfg.gate.options)
    return folder, space


def build_gated(space: SearchSpace, cfg: TrainConfig) -> GatedNetwork:
    """A fresh supernet of ``space`` with the configured gate (weights not loaded)."""
    assert cfg.gate is not None
    levels = check_gate(space, cfg.gate.block, cfg.gate.options)
    madds = [space.flops(level, convention="macs") for level in levels]
    return GatedNetwork(space.build_supernet(), levels, madds, cfg.gate.block, cfg.gate.tau)


def train_gate(cfg: TrainConfig, resume: bool = False, overwrite: bool = False, resume_from: str | None = None,
               allow_config_change: bool = False) -> TrainSummary:
    """Stage II as configured (``cfg.gate``); the arguments are those of :func:`hnas.engine.trainer.train`."""
    assert cfg.gate is not None
    started = time.perf_counter()
    stage_one, _ = stage_one_space(cfg)  # every check before anything is written
    root = Path(cfg.checkpoint.dir)
    resume = resume or resume_from is not None
    _check_checkpoint_dir(cfg, root, resume, overwrite, named=resume_from is not None)
    changes = check_resume_config(cfg, resume_folder(root, resume_from), allow_config_change) if resume else []
    clean_orphans(root)

    dist_info = init_distributed()
    select_device(cfg.device, dist_info)
    seed_everything(cfg.seed)
    train_set, val_set = build_datasets(cfg.data)
    space = build_space(cfg, train_set.info)
    gated = build_gated(space, cfg)
    if not resume:
        init_from_supernet(gated.supernet, stage_one, space)
    batch = cfg.data.batch_size
    loader = make_loader(train_set, batch, shuffle=True, drop_last=True, num_workers=cfg.data.num_workers,
                         seed=cfg.seed, distributed=dist_info.enabled, on_bad_image=cfg.data.on_bad_image)
    lengths = schedule_lengths(len(train_set), batch, dist_info.world_size, cfg.epochs, cfg.optim.warmup_epochs,
                               drop_last=True)
    peak_lr = scaled_lr(cfg.optim.lr, batch, dist_info.world_size, cfg.optim.reference_batch)
    scheduler = WarmupCosine(peak_lr, lengths.warmup_steps, lengths.total_steps, cfg.optim.min_lr)
    optimizer = build_optimizer(gated.gate, scheduler, cfg.optim.momentum, cfg.optim.weight_decay,
                                cfg.optim.nesterov, cfg.optim.grad_clip_norm)
    step = GateStep(gated, optimizer, cfg.gate.madds_lambda, cfg.gate.gate_smoothing, dist_info)
    model = SupernetModel(gated, step)
    model.prepare(optimizer)
    state = TrainingState(gated, optimizer, scheduler, build_sampler(cfg, space, lengths.steps_per_epoch), space,
                          Progress())
    if resume:
        model.progress = load_checkpoint(resume_folder(root, resume_from), state)
        scheduler.last_lr = scheduler.get_lr()
    broadcast_state(gated, dist_info)
    if changes and dist_info.is_main:
        store_resumed_config(cfg, root, resume_folder(root, resume_from), changes)

    val_loader = make_loader(val_set, cfg.eval.batch_size or batch, shuffle=False,
                             num_workers=cfg.data.num_workers, on_bad_image=cfg.data.on_bad_image)

    def val_batches() -> Any:
        set_epoch(val_loader, 0)
        return val_loader

    evaluator = DynamicEvaluator(gated, val_batches, cfg.epochs, cfg.eval.every_epochs, cfg.eval.max_batches)
    callbacks: list[Callback] = [paddle.callbacks.LRScheduler(by_step=True, by_epoch=False), MaxSteps(cfg.max_steps)]
    checkpointer = None
    if dist_info.is_main:
        checkpointer = Checkpointer(root, lambda: dataclasses.replace(state, progress=model.progress),
                                    config_text(cfg), cfg.checkpoint.keep_epochs, cfg.checkpoint.every_steps,
                                    extra_meta=lambda: {"val_history": evaluator.history, "stage": "gate",
                                                        "init_from": str(stage_one)})
        callbacks += [evaluator, ProgressLogger(cfg.log.every_steps, lengths.total_steps, lengths.steps_per_epoch,
                                                cfg.epochs)]
        if cfg.log.visualdl:
            callbacks.append(VisualDLLogger(cfg.log.visualdl_dir or root / "visualdl", cfg.log.every_steps))
        callbacks.append(checkpointer)
    try:
        progress = fit(model, loader, callbacks, cfg.epochs, lengths.steps_per_epoch)
    finally:
        for callback in callbacks:
            if isinstance(callback, VisualDLLogger):
                callback.close()
    return TrainSummary(progress=progress, history=list(evaluator.history),
                        checkpoints=list(checkpointer.written) if checkpointer is not None else [],
                        seconds=time.perf_counter() - started, lengths=lengths, lr=peak_lr, supernet=gated,
                        rank=dist_info.rank)
