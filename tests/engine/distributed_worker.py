"""Worker of ``test_distributed.py``, started by ``paddle.distributed.launch`` (not a test module).

Usage: ``python -m paddle.distributed.launch --nproc_per_node 2 distributed_worker.py OUT_DIR``.
Trains the tiny config for 3 steps and saves this rank's final state dict and its initial
weights to ``OUT_DIR/rank{r}.pdparams`` / ``OUT_DIR/init{r}.pdparams``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import paddle
import paddle.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hnas.engine import trainer  # noqa: E402
from hnas.search_spaces.resnet import ResNetSpace  # noqa: E402
from tests.engine.tiny import tiny_config  # noqa: E402


def main(out: Path) -> None:
    paddle.set_device("cpu")
    cfg = tiny_config(out / "ckpt", "max_steps=3", "epochs=1", "data.batch_size=8")
    original = ResNetSpace.build_supernet

    def recording(space: ResNetSpace):  # records the weights every rank starts from
        supernet = original(space)
        paddle.save(supernet.state_dict(), str(out / f"init{dist.get_rank()}.pdparams"))
        return supernet

    ResNetSpace.build_supernet = recording
    summary = trainer.train(cfg)
    paddle.save(summary.supernet.state_dict(), str(out / f"rank{dist.get_rank()}.pdparams"))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
