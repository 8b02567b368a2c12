"""The training schema: what ``hnas train`` reads and every checkpoint's ``config.yaml`` holds.

``space``, ``data`` and ``sampler`` are the shared sections of :mod:`hnas.config`; this
module adds the optimizer, loss, checkpoint, logging and evaluation sections and the
top-level :class:`TrainConfig`. It lives here rather than in :mod:`hnas.config` so that the
loader stays a small generic module; like it, this module imports no Paddle.
Load it with ``load_config(path, overrides, schema=TrainConfig)``; unknown keys, wrong types
and bad values raise :class:`hnas.config.ConfigError` naming the key (the range checks below
raise ``ValueError``, which the loader turns into that error).

Derived quantities (the batch-scaled learning rate, warm-up and total steps) are computed
by :mod:`hnas.nn.optim` from these fields and never written back.

The defaults are those of ``configs/embedded.yaml`` (a test keeps the two equal), so
``hnas train`` without ``--config`` trains the embedded default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hnas.config import DataCfg, SamplerCfg, SpaceCfg


def _check(condition: bool, message: str) -> None:
    # ValueError raised in __post_init__ becomes a ConfigError naming the section.
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class OptimCfg:
    """SGD with momentum and a warm-up + cosine learning rate, stepped per iteration.

    Attributes:
        lr: learning rate at ``reference_batch`` images per step; the rate used is
            ``lr * batch_size * world_size / reference_batch``.
        reference_batch: global batch at which ``lr`` applies.
        momentum: SGD momentum.
        nesterov: Nesterov momentum.
        weight_decay: L2 weight decay on conv / FC weights (never on BN or biases).
        warmup_epochs: linear warm-up length in epochs (fractions allowed), converted to
            iterations with the real dataset size.
        min_lr: learning rate at the end of the cosine decay.
        grad_clip_norm: clip the global gradient norm to this value; None = no clipping.
    """

    lr: float = 0.05
    reference_batch: int = 32
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    warmup_epochs: float = 0.2
    min_lr: float = 0.0
    grad_clip_norm: float | None = 5.0

    def __post_init__(self) -> None:
        _check(self.lr > 0, f"lr must be positive, got {self.lr}")
        _check(self.reference_batch >= 1, f"reference_batch must be >= 1, got {self.reference_batch}")
        _check(0 <= self.momentum < 1, f"momentum must lie in [0, 1), got {self.momentum}")
        _check(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}")
        _check(self.warmup_epochs >= 0, f"warmup_epochs must be >= 0, got {self.warmup_epochs}")
        _check(self.min_lr >= 0, f"min_lr must be >= 0, got {self.min_lr}")
        _check(self.grad_clip_norm is None or self.grad_clip_norm > 0, "grad_clip_norm must be positive")


#: Keys added after benchmark runs were recorded whose default is what every earlier run did:
#: a stored config without one of them is read as holding the default (``hnas bench report``
#: reuses such runs). A key whose default changed behaviour must never be listed here. A name
#: without a dot is a whole section (``gate``: None trains the supernet, as every run did).
BEHAVIOUR_PRESERVING_KEYS = ("loss.teacher", "loss.ema_decay", "gate")

#: ``loss.teacher`` values: the step's own teacher net, or the moving average of the weights.
TEACHERS = ("inplace", "ema")


@dataclass(frozen=True)
class LossCfg:
    """How each role's loss is formed (see :mod:`hnas.engine.step`).

    Attributes:
        label_smoothing: epsilon of every cross-entropy term.
        distill: ``LOSSES`` name of the student loss: ``kd`` (in-place distillation) or
            ``alpha`` (AlphaNet adaptive alpha-divergence).
        distill_args: keyword arguments of that loss (``temperature``; ``alpha_min``,
            ``alpha_max``, ``iw_clip``).
        student_label_weight: weight of a label cross-entropy added to each student's
            distillation loss (OFA's ``CE + KD`` form); 0 is the pure sandwich rule. It keeps
            students learning while the teacher is still near chance, as in short budgets.
        rank_prior: ``PROXIES`` name of the rank-pair prior (``flops``, ``params``, ``zen``).
        rank_prior_args: keyword arguments of the prior.
        rank_w_max: final weight of the pairwise rank loss.
        rank_ramp: epochs over which the weight ramps up: ``min(rank_w_max, epoch / rank_ramp)``.
        rank_margin: hinge margin.
        teacher: what the students are distilled from: ``inplace`` (the step's teacher net,
            detached; the sandwich rule) or ``ema`` (DS-Net's in-place bootstrapping: the
            moving average of the supernet's weights, run on the teacher's subnet;
            :mod:`hnas.engine.ema`).
        ema_decay: decay of that moving average per optimizer step (DS-Net: 0.997, for
            ~375k steps; the average's memory is about ``1 / (1 - decay)`` steps).
    """

    label_smoothing: float = 0.0
    distill: str = "alpha"
    distill_args: dict[str, Any] = field(default_factory=dict)
    student_label_weight: float = 1.0
    rank_prior: str = "flops"
    rank_prior_args: dict[str, Any] = field(default_factory=dict)
    rank_w_max: float = 1.0
    rank_ramp: float = 1.0
    rank_margin: float = 0.0
    teacher: str = "inplace"
    ema_decay: float = 0.997

    def __post_init__(self) -> None:
        _check(self.teacher in TEACHERS, f"teacher must be one of {', '.join(TEACHERS)}, got {self.teacher!r}")
        _check(0 < self.ema_decay < 1, f"ema_decay must lie in (0, 1), got {self.ema_decay}")
        _check(0 <= self.label_smoothing < 1, f"label_smoothing must lie in [0, 1), got {self.label_smoothing}")
        _check(self.student_label_weight >= 0,
               f"student_label_weight must be >= 0, got {self.student_label_weight}")
        _check(self.rank_w_max >= 0, f"rank_w_max must be >= 0, got {self.rank_w_max}")
        _check(self.rank_margin >= 0, f"rank_margin must be >= 0, got {self.rank_margin}")


@dataclass(frozen=True)
class CheckpointCfg:
    """Where and when checkpoints are written.

    Attributes:
        dir: folder holding ``last/`` and ``epoch_NNNN/`` checkpoints.
        keep_epochs: how many ``epoch_NNNN`` copies to keep (newest first); 0 keeps all,
            -1 writes none (only ``last``).
        every_steps: also write ``last`` every this many optimizer steps; 0 = only at the
            end of each epoch (and when training stops).
        init_from: stand-alone ResNet ``.pdparams`` (official competition naming or hnas
            naming) to initialise the supernet from, or a supernet checkpoint directory of the
            same space (weights only: a few-shot sub-supernet starts from its parent's);
            ignored when resuming.
        reorder: after a stand-alone ``init_from``, sort each block's middle channels by L1
            importance (never for a supernet checkpoint).
    """

    dir: Path = Path("checkpoints/embedded")
    keep_epochs: int = 0
    every_steps: int = 0
    init_from: Path | None = None
    reorder: bool = True

    def __post_init__(self) -> None:
        _check(self.keep_epochs >= -1, f"keep_epochs must be >= -1, got {self.keep_epochs}")
        _check(self.every_steps >= 0, f"every_steps must be >= 0, got {self.every_steps}")


@dataclass(frozen=True)
class LogCfg:
    """Console and VisualDL logging.

    Attributes:
        every_steps: console line and VisualDL scalars every this many steps.
        visualdl_dir: VisualDL log folder; None = ``<checkpoint.dir>/visualdl``.
        visualdl: write VisualDL logs at all.
    """

    every_steps: int = 10
    visualdl_dir: Path | None = None
    visualdl: bool = True

    def __post_init__(self) -> None:
        _check(self.every_steps >= 1, f"every_steps must be >= 1, got {self.every_steps}")


@dataclass(frozen=True)
class EvalCfg:
    """Validation of the largest and smallest subnets at the end of epochs.

    Attributes:
        every_epochs: evaluate after every this many epochs (and after the last); 0 = never.
        batch_size: validation batch size; None = the training batch size.
        max_batches: validation batches per subnet; 0 = the whole split.
        bn_recal_batches: training batches used to re-estimate each evaluated subnet's BN
            statistics before scoring (restored afterwards); 0 = use the shared running
            statistics as trained.
    """

    every_epochs: int = 1
    batch_size: int | None = 250
    max_batches: int = 0
    bn_recal_batches: int = 5

    def __post_init__(self) -> None:
        _check(self.every_epochs >= 0, f"every_epochs must be >= 0, got {self.every_epochs}")
        _check(self.batch_size is None or self.batch_size >= 1, "batch_size must be >= 1")
        _check(self.max_batches >= 0, f"max_batches must be >= 0, got {self.max_batches}")
        _check(self.bn_recal_batches >= 0, f"bn_recal_batches must be >= 0, got {self.bn_recal_batches}")


@dataclass(frozen=True)
class GateCfg:
    """DS-Net stage II: train a slimming gate on a frozen supernet (:mod:`hnas.dynamic`).

    With a ``gate`` section ``hnas train`` starts from the supernet checkpoint
    ``checkpoint.init_from`` (stage I, usually after ``hnas bn-reset``), freezes it with its BN in
    eval mode and trains only the gate's slimming head.

    Attributes:
        block: the gate point (a block name of the space's supernet, e.g. ``s4.b1``).
        options: routed widths: the first ``options`` of the space's ordered width levels
            (DS-Net: 4 of 14).
        madds_lambda: weight of the ``(MAdds / 1e9) ** 2`` penalty (DS-Net: 0.5).
        tau: Gumbel-softmax temperature (DS-Net: 1).
        gate_smoothing: label smoothing of the gate's cross-entropy to the SGS target (DS-Net: 0.1).
    """

    block: str = "s4.b1"
    options: int = 4
    madds_lambda: float = 0.5
    tau: float = 1.0
    gate_smoothing: float = 0.1

    def __post_init__(self) -> None:
        _check(self.options >= 2, f"options must be >= 2 routed widths, got {self.options}")
        _check(self.madds_lambda >= 0, f"madds_lambda must be >= 0, got {self.madds_lambda}")
        _check(self.tau > 0, f"tau must be positive, got {self.tau}")
        _check(0 <= self.gate_smoothing < 1, f"gate_smoothing must lie in [0, 1), got {self.gate_smoothing}")


def _embedded_sampler() -> SamplerCfg:
    """Sandwich: largest + smallest + two random subnets, no rank pair (see ``configs/embedded.yaml``)."""
    return SamplerCfg(
        name="sandwich",
        args={"distribution": "uniform", "num_random": 2, "rank_pairs": 0, "min_hamming": 0, "include_min": True},
    )


@dataclass(frozen=True)
class TrainConfig:
    """Everything ``hnas train`` needs; the defaults are the embedded default (``configs/embedded.yaml``).

    Attributes:
        space: search space name and field overrides.
        data: dataset and loader settings.
        sampler: registered sampler name and its arguments.
        seed: seed of weights, sampler and data order.
        epochs: training epochs.
        max_steps: stop after this many optimizer steps in total (0 = no limit); the state
            is checkpointed so ``--resume`` continues exactly.
        nan_policy: on a NaN / inf loss, gradient or BN statistic, ``stop`` (error, no
            checkpoint) or ``skip`` the batch.
        nan_max_skips: with ``skip``, stop with an error once this many batches in a row were
            skipped (diverged weights make every later batch non-finite).
        device: ``cpu``, ``gpu`` or ``auto`` (GPU when Paddle was built with CUDA and sees one).
        conv_mode: how the supernet's elastic convs run a narrower width: ``slice`` copies the
            leading weight block (the default), ``pad`` zero-pads the input and convolves with the
            full weight, ``auto`` zero-pads convs with at most 32 output positions (batch x height x
            width). The modes agree up to float rounding; ``pad``/``auto`` are faster where there is
            little arithmetic per weight (small batches of small images), see
            ``docs/evaluation-speed.md``.
        optim: optimizer and LR schedule.
        loss: per-role losses and the rank loss.
        checkpoint: checkpoint folder and frequency.
        log: console and VisualDL logging.
        eval: end-of-epoch validation of the largest and smallest subnets.
        gate: DS-Net stage II (train a slimming gate on a frozen supernet); None: train the supernet.
    """

    space: SpaceCfg = field(default_factory=SpaceCfg)
    data: DataCfg = field(default_factory=DataCfg)
    sampler: SamplerCfg = field(default_factory=_embedded_sampler)
    seed: int = 0
    epochs: int = 2
    max_steps: int = 0
    nan_policy: Literal["stop", "skip"] = "stop"
    nan_max_skips: int = 10
    device: Literal["cpu", "gpu", "auto"] = "cpu"
    conv_mode: Literal["slice", "pad", "auto"] = "slice"
    optim: OptimCfg = field(default_factory=OptimCfg)
    loss: LossCfg = field(default_factory=LossCfg)
    checkpoint: CheckpointCfg = field(default_factory=CheckpointCfg)
    log: LogCfg = field(default_factory=LogCfg)
    eval: EvalCfg = field(default_factory=EvalCfg)
    gate: GateCfg | None = None

    def __post_init__(self) -> None:
        _check(self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}")
        _check(self.max_steps >= 0, f"max_steps must be >= 0, got {self.max_steps}")
        _check(self.seed >= 0, f"seed must be >= 0, got {self.seed}")
        _check(self.nan_max_skips >= 1, f"nan_max_skips must be >= 1, got {self.nan_max_skips}")
