"""Single-path uniform sampling (SPOS; Guo et al., ECCV 2020).

Each step trains ``num_subnets`` independent random subnets with plain cross-entropy; there
is no teacher, so every net has role ``"single"``.
"""

from __future__ import annotations

from hnas.errors import HnasError
from hnas.samplers.base import SAMPLERS, SampledNet, Sampler
from hnas.search_spaces.base import SearchSpace


@SAMPLERS.register("uniform")
class UniformSampler(Sampler):
    """``num_subnets`` random subnets per step, each trained on the labels.

    Args:
        space: the search space.
        seed: base seed of the per-step RNG.
        distribution: ``"uniform"`` over the whole space or ``"competition"``.
        num_subnets: subnets per optimizer step (gradients accumulate over them).
    """

    def __init__(self, space: SearchSpace, seed: int, distribution: str = "uniform", num_subnets: int = 1) -> None:
        super().__init__(space, seed, distribution)
        if num_subnets < 1:
            raise HnasError(f"sampler 'uniform': num_subnets must be >= 1, got {num_subnets}")
        self.num_subnets = num_subnets

    def sample(self, step: int, epoch: int) -> list[SampledNet]:
        rng = self.step_rng(step, epoch)
        return [SampledNet(self.random_spec(rng), "single") for _ in range(self.num_subnets)]
