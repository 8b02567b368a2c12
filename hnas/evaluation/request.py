"""What ``hnas eval`` is asked to do: :class:`EvalRequest`, its defaults and its checks.

Paddle-free, so that the command-line parser can offer the defaults and choices without
loading the evaluation machinery of :mod:`hnas.evaluation.submission`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hnas.errors import HnasError
from hnas.evaluation.options import ScoringOptions
from hnas.evaluation.shards import Shard, part_path
from hnas.nn import BN_RECAL_MODES  # noqa: F401 - the --bn-recal choices, offered to the parser

#: Submission path when ``--out`` is not given.
DEFAULT_OUT = Path("checkpoints/submit_results.json")

#: BN recalibration per arch: keep the trained statistics, or re-estimate them (see
#: :mod:`hnas.nn.bn_recal`).


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
        weights: ``model`` or ``ema`` (the moving average of a ``loss.teacher: ema`` run).
        shared_prefix: run a prefix shared by several archs once (same results, faster);
            ``False`` runs every arch whole (``--no-shared-prefix``).
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
    weights: str = "model"
    shared_prefix: bool = True

    @property
    def scoring(self) -> ScoringOptions:
        return ScoringOptions(self.val_images, self.batch_size, self.bn_recal, self.recal_batches,
                              self.recal_batch_size, self.seed)

    def check(self) -> None:
        self.scoring.check()
        if self.max_archs is not None and self.max_archs < 1:
            raise HnasError(f"--max-archs must be >= 1, got {self.max_archs}")

    @property
    def result_path(self) -> Path:
        return self.out if self.shard.is_whole else part_path(self.out, self.shard)
