"""configs/spos_shufflenetv2.yaml (SPOS at GPU scale) and its embedded twin configs/spos_shufflenetv2_tiny.yaml."""

from __future__ import annotations

from pathlib import Path

from hnas.config import load_config
from hnas.samplers import SAMPLERS
from hnas.search_spaces.spaces import SPACES
from hnas.train_config import TrainConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

#: What the twin changes: space, data, scale (batch, bins, epochs), device and outputs; nothing else.
TWIN_CHANGES = [
    "space.name=spos_shufflenetv2_tiny", "data.name=multi_mnist", "data.root=null", "data.args={}",
    "data.batch_size=64", "data.num_workers=0", "sampler.args.bin_range=[420000, 580000]",
    "sampler.args.bin_step=20000", "optim.lr=0.05", "optim.reference_batch=32", "epochs=10", "device=cpu",
    "checkpoint.dir=checkpoints/spos_shufflenetv2_tiny",
    "checkpoint.keep_epochs=0", "checkpoint.every_steps=0", "log.every_steps=20", "log.visualdl=false",
    "eval.every_epochs=1", "eval.batch_size=250", "eval.bn_recal_batches=5",
]


def _sampler(name: str):
    cfg = load_config(CONFIGS / name, schema=TrainConfig)
    return SAMPLERS.build(cfg.sampler.name, space=SPACES.get(cfg.space.name), seed=0, **dict(cfg.sampler.args))


def test_the_twin_is_the_gpu_config_at_embedded_scale() -> None:
    gpu = load_config(CONFIGS / "spos_shufflenetv2.yaml", schema=TrainConfig)
    twin = load_config(CONFIGS / "spos_shufflenetv2_tiny.yaml", schema=TrainConfig)
    assert twin == load_config(CONFIGS / "spos_shufflenetv2.yaml", TWIN_CHANGES, schema=TrainConfig)
    assert (gpu.optim.lr, gpu.optim.reference_batch, gpu.optim.weight_decay, gpu.loss.label_smoothing) == \
        (0.5, 1024, 4.0e-5, 0.1)


def test_the_gpu_config_has_spos_flops_bins() -> None:
    sampler = _sampler("spos_shufflenetv2.yaml")
    assert sampler.metric == "flops_macs"
    assert sampler.edges == [float(m * 10**6) for m in range(290, 361, 10)]


def test_every_tiny_bin_is_reachable() -> None:
    sampler = _sampler("spos_shufflenetv2_tiny.yaml")
    assert sampler.edges == [float(k) for k in range(420_000, 580_001, 20_000)]
    assert len(sampler.bins) == 8
