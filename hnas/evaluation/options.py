"""How subnets are measured: the scoring options shared by ``eval``, ``search`` and ``export`` (Paddle-free)."""

from __future__ import annotations

from dataclasses import dataclass

from hnas.errors import HnasError
from hnas.nn import BN_RECAL_MODES


@dataclass(frozen=True)
class ScoringOptions:
    """What a subnet is measured on.

    Attributes:
        val_images: size of the seeded validation subset (None: the whole split).
        batch_size: images per validation batch.
        bn_recal: ``"reset"`` (re-estimate BN statistics per subnet) or ``"none"``.
        recal_batches: training batches for the recalibration.
        recal_batch_size: images per recalibration batch.
        seed: selects the validation and recalibration images.
    """

    val_images: int | None = None
    batch_size: int = 256
    bn_recal: str = "reset"
    recal_batches: int = 8
    recal_batch_size: int = 64
    seed: int = 0

    def check(self) -> None:
        """Raises HnasError naming the option (by its command-line flag) that is out of range."""
        if self.bn_recal not in BN_RECAL_MODES:
            raise HnasError(f"--bn-recal {self.bn_recal!r}: expected one of {', '.join(BN_RECAL_MODES)}")
        for name in ("recal_batches", "recal_batch_size", "batch_size"):
            if getattr(self, name) < (0 if name == "recal_batches" else 1):
                raise HnasError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        if self.bn_recal == "reset" and self.recal_batches == 0:
            raise HnasError("--bn-recal reset needs --recal-batches >= 1")
        if self.val_images is not None and self.val_images < 1:
            raise HnasError(f"--val-images must be >= 1, got {self.val_images}")
        if self.seed < 0:
            raise HnasError(f"--seed must be >= 0, got {self.seed}")

    @property
    def recalibrates(self) -> bool:
        return self.bn_recal == "reset" and self.recal_batches > 0
