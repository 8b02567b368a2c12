"""``hnas eval`` end to end: arch file + checkpoint -> submission (or one shard's part file).

Order of work, so that bad input costs nothing and leaves nothing behind:

1. resolve the checkpoint and config (no weights read yet);
2. validate the whole arch file against the space (every bad entry listed, exit 2);
3. load the data subsets and the weights;
4. evaluate the shard, appending to its progress file (``<result>.progress.jsonl``);
5. when every arch of the shard is done, write the result file atomically.

The result file has the input's layout with ``acc`` = top-1 accuracy as a fraction in [0, 1]
(as the 3rd-place solution submitted). For the whole file it is ``--out``; for shard ``i/N``
it is ``<out stem>_part{i}of{N}.json`` next to ``--out``, and ``hnas merge`` joins the parts.
The first line of the progress file records the settings that produced the results.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from hnas.data.base import SeededDataset
from hnas.data.datasets import build_dataset
from hnas.errors import HnasError
from hnas.evaluation.bn_recal import BN_RECAL_MODES
from hnas.evaluation.eval_data import load_eval_data
from hnas.evaluation.evaluate import EvalRun, evaluate_archs
from hnas.evaluation.loading import config_space, fingerprint, load_supernet, locate
from hnas.evaluation.progress import ProgressLog, progress_path
from hnas.evaluation.shards import Shard, part_path, shard_of
from hnas.io.archs import ArchEntry, load_arch_file, write_arch_file
from hnas.search_spaces.spec import SpaceDef

logger = logging.getLogger(__name__)

DEFAULT_OUT = Path("checkpoints/submit_results.json")


@dataclass(frozen=True)
class EvalRequest:
    """What to evaluate and how (the ``hnas eval`` arguments).

    Attributes:
        arch_file: competition-format arch file.
        checkpoint: training checkpoint directory (or root holding ``last/``) or state-dict file;
            None: the config's ``checkpoint.dir``.
        config: config YAML overriding the checkpoint's (data section, space for plain files).
        out: submission path; shard results go next to it.
        shard: the part of ``arch_file`` this process evaluates.
        val_images: size of the seeded validation subset (None: the whole split).
        bn_recal: ``"none"`` or ``"reset"``.
        recal_batches: training batches for BN recalibration.
        recal_batch_size: images per recalibration batch.
        batch_size: images per validation batch.
        seed: selects the validation subset and the recalibration images.
        restart: discard earlier progress instead of resuming.
        max_archs: evaluate at most this many new archs in this run (then stop, resumable).
    """

    arch_file: Path
    checkpoint: Path | None = None
    config: Path | None = None
    out: Path = DEFAULT_OUT
    shard: Shard = Shard(0, 1)
    val_images: int | None = None
    bn_recal: str = "reset"
    recal_batches: int = 8
    recal_batch_size: int = 64
    batch_size: int = 256
    seed: int = 0
    restart: bool = False
    max_archs: int | None = None

    def check(self) -> None:
        if self.bn_recal not in BN_RECAL_MODES:
            raise HnasError(f"--bn-recal {self.bn_recal!r}: expected one of {', '.join(BN_RECAL_MODES)}")
        for name in ("recal_batches", "recal_batch_size", "batch_size"):
            if getattr(self, name) < (0 if name == "recal_batches" else 1):
                raise HnasError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        if self.bn_recal == "reset" and self.recal_batches == 0:
            raise HnasError("--bn-recal reset needs --recal-batches >= 1")
        if self.val_images is not None and self.val_images < 1:
            raise HnasError(f"--val-images must be >= 1, got {self.val_images}")

    @property
    def result_path(self) -> Path:
        return self.out if self.shard.is_whole else part_path(self.out, self.shard)


@dataclass(frozen=True)
class EvalOutcome:
    """What a run produced.

    Attributes:
        result_path: the submission or part file (written only if ``complete``).
        progress_path: the progress file.
        run: results so far (in input order), resumed and new counts, timing.
        total: archs in the shard.
    """

    result_path: Path
    progress_path: Path
    run: EvalRun
    total: int

    @property
    def complete(self) -> bool:
        return len(self.run.results) == self.total


def _dataset_spec(cfg: object) -> tuple[str, Path | None, dict[str, object]]:
    """``(name, root, args)`` of the config's data section.

    Accepts both the ``hnas.data.DataCfg`` fields (``name``, ``args``) and the older
    ``kind`` spelling, while the config schema settles.
    """
    data_cfg = cfg.data  # type: ignore[attr-defined]
    name = getattr(data_cfg, "name", None) or getattr(data_cfg, "kind")
    return name, data_cfg.root, dict(getattr(data_cfg, "args", {}) or {})


@dataclass(frozen=True)
class EvalPlan:
    """A checked request: the shard's archs, the exact space and the datasets (nothing loaded yet).

    Attributes:
        request: the request.
        weights: the state-dict file.
        space: the search space of the weights.
        entries: the shard's archs, in input order.
        val: the validation split.
        train: the training split (recalibration), None without recalibration.
        data_spec: ``(name, root, args)`` of the dataset, for the settings record.
    """

    request: EvalRequest
    weights: Path
    space: SpaceDef
    entries: dict[str, ArchEntry]
    val: SeededDataset
    train: SeededDataset | None
    data_spec: tuple[str, Path | None, dict[str, object]]


def plan_evaluation(request: EvalRequest) -> EvalPlan:
    """Check everything that can be checked before reading weights or images.

    Raises:
        HnasError: bad options, checkpoint path, config, arch file (every bad entry listed),
            dataset, or a dataset that does not fit the space.
    """
    request.check()
    source = locate(request.checkpoint, request.config)
    entries = load_arch_file(request.arch_file, source.space or config_space(source.config))
    shard_entries = shard_of(entries, request.shard.index, request.shard.count)
    logger.info("%s: %d archs, shard %s holds %d", request.arch_file, len(entries), request.shard, len(shard_entries))
    name, root, args = _dataset_spec(source.config)
    val = build_dataset(name, root, "val", **args)
    space = source.space or config_space(source.config, val.info.space_overrides())
    if val.info.in_channels != space.in_channels:
        raise HnasError(
            f"dataset {name!r} gives {val.info.in_channels}-channel images, space {space.name!r} "
            f"takes {space.in_channels}"
        )
    other = [key for key, entry in shard_entries.items() if entry.spec.resolution != val.info.resolution]
    if other:
        raise HnasError(
            f"{len(other)} arch(s) (first {other[0]}) run at {shard_entries[other[0]].spec.resolution} px but dataset "
            f"{name!r} gives {val.info.resolution} px images; evaluation at several resolutions is not supported"
        )
    train = build_dataset(name, root, "train", **args) if request.bn_recal == "reset" else None
    return EvalPlan(request, source.weights, space, shard_entries, val, train, (name, root, args))


def _settings(plan: EvalPlan, val_images: int) -> dict[str, object]:
    request = plan.request
    name, root, args = plan.data_spec
    recal = request.bn_recal == "reset"
    return {
        "weights_sha256": fingerprint(plan.weights),
        "space": plan.space.name,
        "data": {"name": name, "root": None if root is None else str(root), "args": args},
        "val_images": val_images,
        "seed": request.seed,
        "batch_size": request.batch_size,
        "bn_recal": request.bn_recal,
        "recal_batches": request.recal_batches if recal else 0,
        "recal_batch_size": request.recal_batch_size if recal else 0,
        "shard": str(request.shard),
    }


def check_request(request: EvalRequest) -> EvalPlan:
    """Dry run: :func:`plan_evaluation` plus loading the weights into the supernet; writes nothing."""
    plan = plan_evaluation(request)
    load_supernet(plan.weights, plan.space)
    return plan


def evaluate_file(request: EvalRequest) -> EvalOutcome:
    """Run ``hnas eval``: see the module docstring for the order of work.

    Raises:
        HnasError: bad arch file, checkpoint, config, data or progress file (nothing written
            for a bad arch file or checkpoint).
    """
    plan = plan_evaluation(request)
    supernet = load_supernet(plan.weights, plan.space)
    recal = request.recal_batches if request.bn_recal == "reset" else 0
    data = load_eval_data(
        plan.val, plan.train, request.val_images, recal, request.recal_batch_size, request.batch_size, request.seed
    )
    progress = ProgressLog(progress_path(request.result_path), _settings(plan, data.val_images))
    logger.info(
        "evaluating on %d validation images (%s), BN recalibration %s",
        data.val_images,
        "in memory" if data.in_memory else "streamed",
        f"reset over {len(data.recal)} x {request.recal_batch_size} images" if data.recal else "none",
    )
    specs = {key: (entry.arch, entry.spec) for key, entry in plan.entries.items()}
    run = evaluate_archs(
        supernet, specs, data.val, data.recal, request.bn_recal, progress,
        restart=request.restart, max_archs=request.max_archs,
        label="" if request.shard.is_whole else f"[shard {request.shard}]",
    )
    outcome = EvalOutcome(result_path=request.result_path, progress_path=progress.path, run=run, total=len(specs))
    if outcome.complete:
        accs = {key: result.top1 for key, result in run.results.items()}
        write_arch_file(outcome.result_path, plan.entries, accs)
    return outcome
