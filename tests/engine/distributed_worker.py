"""Worker of ``test_distributed.py``, started by ``paddle.distributed.launch`` (not a test module).

Usage: ``python -m paddle.distributed.launch --nproc_per_node 2 distributed_worker.py OUT_DIR [--adaptive]``.
Trains the tiny config for 3 steps and saves this rank's final state dict and its initial
weights to ``OUT_DIR/rank{r}.pdparams`` / ``OUT_DIR/init{r}.pdparams``. With ``--adaptive`` the
sampler is :class:`LossDrivenSampler`, whose draws depend on the losses ``observe`` received;
the codes it sampled go to ``OUT_DIR/codes{r}.json``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import paddle
import paddle.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hnas.engine import trainer  # noqa: E402
from hnas.samplers import SAMPLERS, SampledNet, Sampler  # noqa: E402
from hnas.search_spaces.resnet import ResNetSpace  # noqa: E402
from tests.engine.tiny import tiny_config  # noqa: E402


class LossDrivenSampler(Sampler):
    """A toy adaptive sampler: each step's subnet is drawn from an RNG seeded by the losses last observed,
    so ranks that observed different losses sample different subnets."""

    def __init__(self, space, seed: int, distribution: str = "uniform") -> None:
        super().__init__(space, seed, distribution)
        self.last: list[float] = []
        self.codes: list[str] = []

    def sample(self, step: int, epoch: int) -> list[SampledNet]:
        rng = random.Random(f"{step}/{[round(loss, 12) for loss in self.last]}")
        spec = self.random_spec(rng)
        self.codes.append(self.space.encode(spec))
        return [SampledNet(spec, "single")]

    def observe(self, nets, losses) -> None:
        super().observe(nets, losses)
        self.last = list(losses)


SAMPLERS.add("loss_driven_test", LossDrivenSampler)


def main(out: Path, adaptive: bool = False) -> None:
    paddle.set_device("cpu")
    extra = ["sampler.name=loss_driven_test", "sampler.args={}", "max_steps=6", "epochs=2"] if adaptive else []
    cfg = tiny_config(out / "ckpt", "max_steps=3", "epochs=1", "data.batch_size=8", *extra)
    original = ResNetSpace.build_supernet

    def recording(space: ResNetSpace):  # records the weights every rank starts from
        supernet = original(space)
        paddle.save(supernet.state_dict(), str(out / f"init{dist.get_rank()}.pdparams"))
        return supernet

    ResNetSpace.build_supernet = recording
    sampled: list[Sampler] = []
    original_build = trainer.build_sampler

    def recording_build(*args, **kwargs):
        sampler = original_build(*args, **kwargs)
        sampled.append(sampler)
        return sampler

    trainer.build_sampler = recording_build
    summary = trainer.train(cfg)
    paddle.save(summary.supernet.state_dict(), str(out / f"rank{dist.get_rank()}.pdparams"))
    if adaptive:
        # The trainer builds a sampler once to check its options before any data loads; the last one trains.
        (out / f"codes{dist.get_rank()}.json").write_text(json.dumps(sampled[-1].codes))


if __name__ == "__main__":
    main(Path(sys.argv[1]), adaptive="--adaptive" in sys.argv[2:])
