"""The fixed stand-alone training recipe behind a ground-truth benchmark.

One :class:`Recipe` fixes everything that is not the architecture or the seed: the data
(registry name and options), the search space, epochs, batch size, the SGD + warm-up/cosine
schedule and the evaluation set. A benchmark file stores its recipe, so any accuracy in it can
be reproduced with ``hnas standalone ARCH --seed S`` under the same recipe.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from hnas.errors import HnasError


@dataclass(frozen=True)
class Recipe:
    """How one architecture is trained stand-alone and measured.

    Attributes:
        space: search-space registry name (the arch codes are codes of this space).
        data: dataset registry name (see :mod:`hnas.data.datasets`).
        data_args: keyword options of the dataset factory.
        epochs: passes over the training split.
        batch_size: training images per step.
        lr: peak learning rate of SGD with Nesterov momentum.
        momentum: SGD momentum.
        weight_decay: L2 on conv and FC kernels (not on BN parameters).
        warmup_fraction: fraction of the steps with a linear LR warm-up before the cosine decay.
        grad_clip: clip the global gradient norm to this value (``None``: no clipping); guards
            the short, high-LR schedule against a divergent first steps.
        zero_init_residual: start each residual block as the identity (zero BN scale after its
            second conv); steadies the deepest subnets in a short schedule.
        eval_batch_size: images per evaluation batch.
        max_train_batches: stop each epoch after this many batches (``None``: whole epoch);
            for tests and quick probes.
        max_val_images: measure on the first this many val images (``None``: all).
    """

    space: str = "resnet48_tiny"
    data: str = "multi_mnist"
    data_args: Mapping[str, Any] = field(default_factory=dict)
    epochs: int = 1
    batch_size: int = 32
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_fraction: float = 0.2
    grad_clip: float | None = 5.0
    zero_init_residual: bool = False
    eval_batch_size: int = 500
    max_train_batches: int | None = None
    max_val_images: int | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise HnasError(f"recipe: epochs, batch_size and eval_batch_size must be >= 1: {self}")
        if self.lr <= 0 or not 0 <= self.warmup_fraction < 1:
            raise HnasError(f"recipe: lr must be > 0 and warmup_fraction in [0, 1): {self}")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise HnasError(f"recipe: grad_clip must be > 0 or unset, got {self.grad_clip}")
        for name in ("max_train_batches", "max_val_images"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise HnasError(f"recipe: {name} must be >= 1 or unset, got {value}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        values = dataclasses.asdict(self)
        values["data_args"] = dict(self.data_args)
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Recipe:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`HnasError` naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise HnasError(f"recipe: unknown key(s) {unknown}; known: {sorted(known)}")
        return cls(**{key: dict(value) if key == "data_args" else value for key, value in values.items()})

    def replace(self, **changes: Any) -> Recipe:
        return dataclasses.replace(self, **changes)


#: The recipe of the shipped mini-benchmark (benchmarks/minibench; see its README). The data
#: options are spelled out so that the benchmark files record them.
MINIBENCH_RECIPE = Recipe(
    data_args={"train_images": 4000, "val_images": 2500, "label": "first", "offset": 4, "jitter": 2,
               "val_per_class": 100, "split_seed": 0, "pair_seed": 0},
)
