"""configs/pss_mbv2_f.yaml (PSS-MBV2-F at GPU scale) and its embedded twin configs/pss_mbv2_f_tiny.yaml."""

from __future__ import annotations

from pathlib import Path

from hnas.config import load_config
from hnas.samplers import SAMPLERS
from hnas.search_spaces.spaces import SPACES
from hnas.train_config import TrainConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

#: What the twin changes: space, data, scale (batch, pools, map, epochs), device and outputs; nothing else.
TWIN_CHANGES = [
    "space.name=pss_mbv2_tiny", "data.name=multi_mnist", "data.root=null", "data.args={}", "data.batch_size=64",
    "data.num_workers=0", "data.on_bad_image=error",
    "sampler.args.ranges={flops_pss: [240000, 720000, 80000]}", "sampler.args.pool_size=10",
    "sampler.args.map_size=2000", "epochs=3", "device=cpu", "checkpoint.dir=checkpoints/pss_mbv2_f_tiny",
    "checkpoint.keep_epochs=0", "checkpoint.every_steps=0", "log.every_steps=20", "log.visualdl=false",
    "eval.every_epochs=1", "eval.batch_size=250",
]


def test_the_twin_is_the_gpu_config_at_embedded_scale() -> None:
    gpu = load_config(CONFIGS / "pss_mbv2_f.yaml", schema=TrainConfig)
    twin = load_config(CONFIGS / "pss_mbv2_f_tiny.yaml", schema=TrainConfig)
    assert twin == load_config(CONFIGS / "pss_mbv2_f.yaml", TWIN_CHANGES, schema=TrainConfig)
    assert (gpu.optim.lr, gpu.optim.reference_batch, gpu.epochs, gpu.loss.distill) == (0.3, 1024, 250, "kd")


def test_the_gpu_config_has_pss_nets_22_flops_pools() -> None:
    cfg = load_config(CONFIGS / "pss_mbv2_f.yaml", schema=TrainConfig)
    args = {**dict(cfg.sampler.args), "map_size": 3000}  # PSS-Net's 100,000 take minutes to cost here
    sampler = SAMPLERS.build(cfg.sampler.name, space=SPACES.get(cfg.space.name), seed=0, **args)
    assert sampler.samplers["flops_pss"].targets == [float(m * 10**6) for m in range(80, 291, 10)]


def test_every_tiny_pool_is_reachable() -> None:
    cfg = load_config(CONFIGS / "pss_mbv2_f_tiny.yaml", schema=TrainConfig)
    sampler = SAMPLERS.build(cfg.sampler.name, space=SPACES.get(cfg.space.name), seed=0, **dict(cfg.sampler.args))
    assert sampler.samplers["flops_pss"].targets == [320000.0, 400000.0, 480000.0, 560000.0, 640000.0]
