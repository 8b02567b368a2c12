"""Shared pieces of the fault-injection suite: a generated image folder and `hnas` subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from tests.engine.tiny import TINY_SPACE_OVERRIDE

REPO = Path(__file__).resolve().parents[2]
CLASSES = ("a", "b", "c", "d")


def make_imagefolder(root: Path, per_class: int = 8, val_per_class: int = 2, size: int = 20) -> Path:
    """ROOT/train/<class>/*.png and ROOT/val/<class>/*.png of small random RGB images."""
    rng = np.random.default_rng(0)
    for split, count in (("train", per_class), ("val", val_per_class)):
        for name in CLASSES:
            folder = root / split / name
            folder.mkdir(parents=True)
            for index in range(count):
                pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{index:03d}.png")
    return root


def corrupt(path: Path, how: str) -> Path:
    """Overwrite an image with garbage (``garbage``) or cut it short (``truncated``)."""
    if how == "garbage":
        path.write_bytes(b"this is not an image" * 10)
    else:
        path.write_bytes(path.read_bytes()[:60])
    return path


def train_args(root: Path, ckpt: Path, *extra: str) -> list[str]:
    """``hnas train`` on the image folder with the tiny space: 32 images, batch 4, 8 steps/epoch."""
    return [
        "train", TINY_SPACE_OVERRIDE, "data.name=imagefolder", f"data.root={root}", "data.args={image_size: 16}",
        "data.batch_size=4", "epochs=2", "device=cpu", f"checkpoint.dir={ckpt}", "log.visualdl=false",
        "sampler.args={num_random: 1, rank_pairs: 0}", "loss.distill=kd", "eval.max_batches=1",
        "eval.bn_recal_batches=1", *extra,
    ]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def run_hnas(args: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m hnas ARGS`` in a subprocess; a hang fails the test after ``timeout`` seconds."""
    return subprocess.run([sys.executable, "-m", "hnas", *args], env=environment(), capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def start_hnas(args: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    stream = open(log, "wb")  # noqa: SIM115 - closed by the child's exit
    return subprocess.Popen([sys.executable, "-m", "hnas", *args], env=environment(), stdout=stream,
                            stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)


def wait_for(predicate, timeout: float = 60, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
