"""RSS: random subnet sampling per epoch (Jordan-HS/RSS-Interference-CVPRW2022, arXiv 2204.09210).

One random subnet is drawn per epoch and trained on every batch of that epoch (role
``single``: cross-entropy with the labels, no distillation, no teacher, trained from
scratch as in RSS). The subnet depends on ``(seed, epoch)`` only, never on state, so every
rank and every resumed run trains the same one. The **anchor** variant (``anchor: true``,
RSS Anchor) trains the smallest subnet on even epochs and the largest on odd ones (of the
sampling distribution), with no randomness at all.
"""

from __future__ import annotations

import random

from hnas.samplers.base import SAMPLERS, SampledNet, Sampler
from hnas.search_spaces.base import SearchSpace, Spec


@SAMPLERS.register("rss")
class RssSampler(Sampler):
    """The epoch's subnet for every step of the epoch.

    Args:
        space: the search space.
        seed: base seed; with the epoch it fixes the subnet.
        distribution: where the random subnets come from.
        anchor: alternate the smallest (even epochs) and the largest (odd epochs) instead.
    """

    def __init__(self, space: SearchSpace, seed: int, distribution: str = "uniform", anchor: bool = False) -> None:
        super().__init__(space, seed, distribution)
        self.anchor = bool(anchor)

    def epoch_spec(self, epoch: int) -> Spec:
        """The subnet of ``epoch``."""
        if self.anchor:
            return self.dist.smallest() if epoch % 2 == 0 else self.dist.largest()
        return self.dist.sample(random.Random(f"hnas-rss/{self.seed}/{int(epoch)}"))

    def sample(self, step: int, epoch: int) -> list[SampledNet]:
        return [SampledNet(self.epoch_spec(epoch), "single")]
