"""A tiny ground truth on synthetic data, shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hnas.benchmark.groundtruth import BenchArch, build_header, write_outputs
from hnas.benchmark.recipe import Recipe
from hnas.benchmark.runlog import RunRecord
from hnas.proxies.flops import count_flops, count_params
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import resolve_space

RECIPE = Recipe(space="resnet48_tiny", data="synthetic",
                data_args={"num_images": 32, "num_classes": 3, "in_channels": 1, "image_size": 28},
                batch_size=8, eval_batch_size=16)
SPACE = resolve_space("resnet48_tiny", {"num_classes": 3, "in_channels": 1})
#: Supernet settings small enough for a test: 2 steps of 8 images, no end-of-epoch validation.
TINY_TRAINING = ("epochs=1", "max_steps=2", "data.batch_size=8", "eval.every_epochs=0",
                 "checkpoint.keep_epochs=-1")


def make_ground_truth(folder: Path, n_archs: int = 6, seed: int = 0) -> Path:
    """Write ``ground_truth.json`` + ``.meta.json`` whose accuracies rise with FLOPs plus seed noise."""
    codes = sample_codes(SPACE, n_archs, seed=seed)
    archs = []
    for index, code in enumerate(codes, start=1):
        spec = SPACE.decode(code)
        archs.append(BenchArch(f"arch{index}", code, count_flops(SPACE, spec), count_params(SPACE, spec)))
    rng = np.random.default_rng(seed)
    flops = np.array([arch.flops for arch in archs], dtype=np.float64)
    base = 0.5 + 0.4 * (flops - flops.min()) / (np.ptp(flops) or 1.0)
    records = [RunRecord(arch.key, arch.arch, run_seed, float(base[i] + rng.normal(0, 0.02)), 1.0, 1.0, 1.0)
               for i, arch in enumerate(archs) for run_seed in (0, 1)]
    out = folder / "ground_truth.json"
    header = build_header(RECIPE, archs, [0, 1], draw_seed=seed, distribution="uniform")
    write_outputs(out, header, archs, [0, 1], records, wall_seconds=1.0)
    return out
