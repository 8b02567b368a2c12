"""FairNAS strict fairness (Chu et al., ICCV 2021; xiaomi-automl/FairNAS).

Each step trains ``m`` single-path models (role ``single``, cross-entropy with the labels)
whose gradients accumulate before the one update of the step (the engine backpropagates each
net and steps once, :mod:`hnas.engine.step`). Model ``k`` takes the ``k``-th entry of a random
permutation of every decision unit's choices, so each choice of each unit is assigned to
exactly one model per step. FairNAS's layers all have ``m`` choices; here:

* **Units, not slots, are permuted** (:meth:`~hnas.search_spaces.base.SearchSpace.units`): a
  tie group (the residual-tied conv2 widths of a ResNet stage) gets one permutation, so every
  model keeps the tie.
* **m** is the largest domain over the units. A unit with fewer choices ``k < m`` fills its
  ``m`` entries with consecutive independent permutations (the last one cut short): each of
  its choices is assigned ``floor(m/k)`` or ``ceil(m/k)`` times per step, at least once. A unit
  with one choice is that choice in every model.
* **Depth** is a unit like any other. A block beyond its model's depth is inactive, so the
  width choice assigned to that block in that model is not trained this step; the
  "exactly once" property holds for the assignments and, among models, for every unit that
  is always active (resolution, depth, the first blocks of each stage, tied conv2 widths).
"""

from __future__ import annotations

import random

from hnas.errors import HnasError
from hnas.samplers.base import SAMPLERS, SampledNet, Sampler
from hnas.search_spaces.base import SearchSpace, Spec
from hnas.search_spaces.distributions import ChoiceDistribution


def fair_assignment(domain: tuple[int, ...], m: int, rng: random.Random) -> list[int]:
    """``m`` entries of ``domain``: consecutive random permutations, the last one cut short."""
    entries: list[int] = []
    while len(entries) < m:
        permutation = list(domain)
        rng.shuffle(permutation)
        entries += permutation
    return entries[:m]


@SAMPLERS.register("fairnas")
class FairNasSampler(Sampler):
    """``m`` single-path models per step covering every choice of every unit.

    Args:
        space: the search space.
        seed: base seed of the per-step RNG.
        distribution: a choice distribution (``"uniform"``, or a family's narrower one) whose
            per-slot domains are permuted.
    """

    def __init__(self, space: SearchSpace, seed: int, distribution: str = "uniform") -> None:
        super().__init__(space, seed, distribution)
        if not isinstance(self.dist, ChoiceDistribution):
            raise HnasError(f"sampler.args.distribution: fairnas permutes per-slot choices; {distribution!r} "
                            "is not a choice distribution")
        self.domains = {unit: self.dist.domains[unit[0]] for unit in space.units()}
        self.m = max(len(domain) for domain in self.domains.values())

    def assignments(self, step: int, epoch: int) -> dict[tuple[str, ...], list[int]]:
        """Per unit, the value each of the ``m`` models of the step takes (units in draw order)."""
        rng = self.step_rng(step, epoch)
        return {unit: fair_assignment(domain, self.m, rng) for unit, domain in self.domains.items()}

    def sample(self, step: int, epoch: int) -> list[SampledNet]:
        table = self.assignments(step, epoch)
        return [SampledNet(self._model(table, k), "single") for k in range(self.m)]

    def _model(self, table: dict[tuple[str, ...], list[int]], k: int) -> Spec:
        values: dict[str, int | None] = {}
        for unit, entries in table.items():
            for member in unit:
                values[member] = entries[k]
        return self.space.from_choices(values)
