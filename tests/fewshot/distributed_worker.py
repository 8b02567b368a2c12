"""One rank of ``hnas fewshot train`` under ``paddle.distributed.launch`` (see test_distributed.py).

Usage: ``python -m paddle.distributed.launch --nproc_per_node 2 distributed_worker.py PARENT OUT``.
"""

from __future__ import annotations

import sys

import paddle

from hnas.cli import main

if __name__ == "__main__":
    paddle.set_device("cpu")
    sys.exit(main(["fewshot", "train", sys.argv[1], "--split", "depth1", "--out", sys.argv[2], "--epochs", "1"]))
