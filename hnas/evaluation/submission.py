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

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from hnas.checkpoints.source import FewShotRoute, config_space, fingerprint, load_supernet, locate
from hnas.config import DataCfg
from hnas.data.base import SeededDataset
from hnas.data.datasets import build_split
from hnas.errors import HnasError
from hnas.evaluation.eval_data import load_eval_data
from hnas.evaluation.evaluate import EvalRun, evaluate_archs
from hnas.evaluation.progress import ProgressLog, progress_path
from hnas.evaluation.request import EvalRequest
from hnas.evaluation.scorer_builder import open_source
from hnas.evaluation.shards import shard_of
from hnas.io.archs import ArchEntry, load_arch_file, write_arch_file
from hnas.search_spaces.base import SearchSpace, Spec, Supernet

logger = logging.getLogger(__name__)


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
        data: the config's data section the splits were built from.
        fewshot: for a few-shot folder, the split and each part's weights (``weights`` is then
            the first part's).
    """

    request: EvalRequest
    weights: Path
    space: SearchSpace
    entries: dict[str, ArchEntry]
    val: SeededDataset
    train: SeededDataset | None
    data: DataCfg
    fewshot: FewShotRoute | None = None

    def load_networks(self) -> tuple[Supernet, Callable[[Spec], Supernet] | None]:
        """The supernet, and for a few-shot folder the route from a spec to its part's supernet."""
        if self.fewshot is None:
            return load_supernet(self.weights, self.space), None
        parts = [load_supernet(weights, self.space) for weights in self.fewshot.weights]
        route = self.fewshot
        return parts[0], lambda spec: parts[route.part_of(self.space, spec)]


def plan_evaluation(request: EvalRequest) -> EvalPlan:
    """Check everything that can be checked before reading weights or images.

    Raises:
        HnasError: bad options, checkpoint path, config, arch file (every bad entry listed),
            dataset, or a dataset that does not fit the space.
    """
    request.check()
    source = locate(request.checkpoint, request.config, allow_fewshot=True, weights=request.weights)
    entries = load_arch_file(request.arch_file, source.space or config_space(source.config))
    shard_entries = shard_of(entries, request.shard.index, request.shard.count)
    logger.info("%s: %d archs, shard %s holds %d", request.arch_file, len(entries), request.shard, len(shard_entries))
    trained = open_source(source)
    data, val, space = trained.data, trained.val, trained.space
    if val.info.resolution not in space.resolutions:
        raise HnasError(
            f"dataset {data.name!r} gives {val.info.resolution} px images, but space {space.name!r} runs at "
            f"{list(space.resolutions)} px"
        )
    train = build_split(data, "train") if request.bn_recal == "reset" else None
    if source.fewshot is not None:
        parts = {source.fewshot.part_of(space, entry.spec) for entry in shard_entries.values()}
        logger.info("few-shot folder: %d parts (%s), %d of them hold archs of this shard", len(source.fewshot.weights),
                    source.fewshot.split.describe(), len(parts))
    return EvalPlan(request, source.weights, space, shard_entries, val, train, data, source.fewshot)


def _settings(plan: EvalPlan, val_images: int) -> dict[str, object]:
    request = plan.request
    data = plan.data
    recal = request.bn_recal == "reset"
    return {
        "weights_sha256": _weights_fingerprint(plan),
        "space": plan.space.name,
        "data": {"name": data.name, "root": None if data.root is None else str(data.root), "args": dict(data.args)},
        "val_images": val_images,
        "seed": request.seed,
        "batch_size": request.batch_size,
        "bn_recal": request.bn_recal,
        "recal_batches": request.recal_batches if recal else 0,
        "recal_batch_size": request.recal_batch_size if recal else 0,
        "shard": str(request.shard),
    }


def _weights_fingerprint(plan: EvalPlan) -> str:
    """SHA-256 of the weights; for a few-shot folder, of the parts' digests in order."""
    if plan.fewshot is None:
        return fingerprint(plan.weights)
    digests = "".join(fingerprint(weights) for weights in plan.fewshot.weights)
    return hashlib.sha256(digests.encode()).hexdigest()


def check_request(request: EvalRequest) -> EvalPlan:
    """Dry run: :func:`plan_evaluation` plus loading the weights into the supernet(s); writes nothing."""
    plan = plan_evaluation(request)
    plan.load_networks()
    return plan


def evaluate_file(request: EvalRequest) -> EvalOutcome:
    """Run ``hnas eval``: see the module docstring for the order of work.

    Raises:
        HnasError: bad arch file, checkpoint, config, data or progress file (nothing written
            for a bad arch file or checkpoint).
    """
    plan = plan_evaluation(request)
    supernet, route = plan.load_networks()
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
        label="" if request.shard.is_whole else f"[shard {request.shard}]", route=route,
        shared_prefix=request.shared_prefix,
    )
    outcome = EvalOutcome(result_path=request.result_path, progress_path=progress.path, run=run, total=len(specs))
    if outcome.complete:
        accs = {key: result.top1 for key, result in run.results.items()}
        write_arch_file(outcome.result_path, plan.entries, accs)
    return outcome
