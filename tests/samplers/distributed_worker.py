"""Worker of ``test_distributed.py`` here, started by ``paddle.distributed.launch`` (not a test module).

Usage: ``python -m paddle.distributed.launch --nproc_per_node 2 distributed_worker.py OUT_DIR NAME...``.
For each sampler ``NAME`` (with the settings of :data:`ARGS`), trains the tiny config for a
few steps and writes ``OUT_DIR/NAME/rank{r}.pdparams`` (final weights) and
``OUT_DIR/NAME/rank{r}.json`` (every step's subnets and roles, the losses ``observe`` got, and the
sampler's final state).
All samplers run in one launch to pay the process start-up once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import paddle
import paddle.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hnas.engine import trainer  # noqa: E402
from tests.engine.tiny import tiny_config  # noqa: E402

#: Per sampler: ``sampler.args`` giving every branch a chance in a few steps of the tiny space.
ARGS: dict[str, str] = {
    "uniform": "{num_subnets: 2}",
    "sandwich": "{num_random: 1, rank_pairs: 1}",
    "spos": "{bins: 3}",
    "fairnas": "{}",
    "pss": "{metrics: [flops, params], buckets: 1, pool_size: 1, p_sup: [0.01, 0.01], map_size: 300}",
    "ofa_ps": "{num_subnets: 1, phases: [{until: 0.25}, {until: 0.5, depth: all}, {width: all}]}",
    "rss": "{}",
}

STEPS = 4


def main(out: Path, names: list[str]) -> None:
    paddle.set_device("cpu")
    original = trainer.build_sampler
    for name in names:
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        drawn: list[list[list]] = []
        built: list = []
        observed: list[list[float]] = []

        def recording(cfg, space, steps_per_epoch=None):  # records what every step trains
            sampler = original(cfg, space, steps_per_epoch)
            sample = sampler.sample

            def sample_and_record(step: int, epoch: int):
                nets = sample(step, epoch)
                drawn.append([[space.encode(net.spec), net.role, net.pair] for net in nets])
                return nets

            observe = sampler.observe

            def observe_and_record(nets, losses):
                observed.append([float(loss) for loss in losses])
                observe(nets, losses)

            sampler.sample = sample_and_record
            sampler.observe = observe_and_record
            built.append(sampler)
            return sampler

        trainer.build_sampler = recording
        cfg = tiny_config(folder / "ckpt", f"max_steps={STEPS}", "epochs=2", "data.batch_size=8",
                          f"sampler.name={name}", f"sampler.args={ARGS[name]}", "eval.every_epochs=0")
        summary = trainer.train(cfg)
        rank = dist.get_rank()
        paddle.save(summary.supernet.state_dict(), str(folder / f"rank{rank}.pdparams"))
        state = built[-1].state_dict()  # the last build is the one that trained (the first is the pre-check)
        (folder / f"rank{rank}.json").write_text(json.dumps({"drawn": drawn, "observed": observed,
                                                                    "state": state}))
    trainer.build_sampler = original


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
