"""Tiny spaces, configs and a fixed sampler shared by the engine and train-command tests."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from hnas.config import load_config
from hnas.samplers.base import SampledNet, Sampler
from hnas.search_spaces.resnet import ResNetSpace
from hnas.train_config import TrainConfig

#: Two stages of two blocks, 8 channels, 16 px, 3 widths: a supernet step takes milliseconds.
TINY_SPACE = ResNetSpace(
    name="tiny",
    stage_blocks=(2, 2),
    base_channels=(8, 8),
    stage_strides=(1, 2),
    depth_choices=((1, 2), (1, 2)),
    width_ratios=(1.0, 0.75, 0.5),
    channel_divisor=1,
    stem_kernel_size=3,
    stem_stride=1,
    stem_max_pool=False,
    in_channels=3,
    num_classes=4,
    resolutions=(16,),
)

#: The same space as config overrides of ``resnet48_tiny`` (on the synthetic data: 3 x 16 px, 4 classes).
TINY_SPACE_OVERRIDE = (
    "space.overrides={resolutions: [16], stage_blocks: [2, 2], base_channels: [8, 8], stage_strides: [1, 2], "
    "depth_choices: [[1, 2], [1, 2]], width_ratios: [1.0, 0.75, 0.5], stem_kernel_size: 3, stem_stride: 1, "
    "stem_max_pool: false}"
)


def tiny_config(checkpoint_dir: Path, *overrides: str) -> TrainConfig:
    """A run of 2 epochs x 4 steps on 64 synthetic images (batch 16), CPU, no VisualDL."""
    base = [
        TINY_SPACE_OVERRIDE,
        "data.name=synthetic",
        "data.batch_size=16",
        "epochs=2",
        "device=cpu",
        f"checkpoint.dir={checkpoint_dir}",
        "log.visualdl=false",
        "sampler.args={num_random: 1, rank_pairs: 1}",
        "loss.distill=kd",
    ]
    return load_config(None, [*base, *overrides], schema=TrainConfig)


class FixedSampler(Sampler):
    """Returns the same nets every step and records what ``observe`` received."""

    def __init__(self, space: ResNetSpace, nets: Sequence[SampledNet]) -> None:
        super().__init__(space, seed=0)
        self.nets = list(nets)
        self.observed: list[list[float]] = []

    def sample(self, step: int, epoch: int) -> list[SampledNet]:
        return list(self.nets)

    def observe(self, nets: Sequence[SampledNet], losses: Sequence[float]) -> None:
        super().observe(nets, losses)
        self.observed.append(list(losses))
