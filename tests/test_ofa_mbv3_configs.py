"""configs/ofa_mbv3.yaml (OFA's progressive shrinking at GPU scale) and its embedded twin configs/ofa_mbv3_tiny.yaml."""

from __future__ import annotations

import json
from pathlib import Path

from hnas.cli import main
from hnas.config import load_config
from hnas.samplers import SAMPLERS
from hnas.search_spaces.spaces import SPACES
from hnas.train_config import TrainConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

#: What the twin changes: space, data, scale (batch, phase lengths, epochs, lr), device and outputs; nothing else.
TWIN_CHANGES = [
    "space.name=ofa_mbv3_tiny", "data.name=multi_mnist", "data.root=null", "data.args={train_images: 2000}",
    "data.batch_size=32", "data.num_workers=0",
    "sampler.args.phases=[{until: 0.5}, {until: 1.5, kernel: all}, {until: 1.75, depth: 2}, "
    "{until: 2.75, depth: all}, {until: 3, expand: 2}, {expand: all}]",
    "epochs=4", "device=cpu", "optim.lr=0.05", "optim.reference_batch=32", "optim.warmup_epochs=0.2",
    "checkpoint.dir=checkpoints/ofa_mbv3_tiny", "checkpoint.keep_epochs=0", "checkpoint.every_steps=0",
    "log.every_steps=20", "log.visualdl=false", "eval.every_epochs=2", "eval.batch_size=250", "eval.bn_recal_batches=5",
]


def _sampler(name: str):
    cfg = load_config(CONFIGS / name, schema=TrainConfig)
    sampler = SAMPLERS.build(cfg.sampler.name, space=SPACES.get(cfg.space.name), seed=0, **dict(cfg.sampler.args))
    sampler.set_schedule(cfg.epochs, 100)
    return cfg, sampler


def test_the_twin_is_the_gpu_config_at_embedded_scale() -> None:
    gpu = load_config(CONFIGS / "ofa_mbv3.yaml", schema=TrainConfig)
    twin = load_config(CONFIGS / "ofa_mbv3_tiny.yaml", schema=TrainConfig)
    assert twin == load_config(CONFIGS / "ofa_mbv3.yaml", TWIN_CHANGES, schema=TrainConfig)
    assert (gpu.optim.lr, gpu.optim.reference_batch, gpu.optim.weight_decay, gpu.optim.nesterov) == \
        (0.03, 64, 3.0e-5, True)
    assert (gpu.loss.label_smoothing, gpu.loss.distill, gpu.loss.student_label_weight) == (0.1, "kd", 1.0)


def test_the_gpu_phases_are_ofas_tasks_kernel_then_depth_then_expand() -> None:
    cfg, sampler = _sampler("ofa_mbv3.yaml")
    opened = [(phase.until, phase.open["kernel"], phase.open["depth"], phase.open["expand"])
              for phase in sampler.phases]
    assert opened == [(120, 3, 1, 1), (145, 3, 2, 1), (265, 3, 3, 1), (290, 3, 3, 2), (None, 3, 3, 3)]
    assert cfg.epochs == 410 and SPACES.get(cfg.space.name).dropout == 0.1


def test_the_twin_shrinks_in_the_same_order_after_a_largest_net_phase() -> None:
    _, sampler = _sampler("ofa_mbv3_tiny.yaml")
    opened = [(phase.open["kernel"], phase.open["depth"], phase.open["expand"]) for phase in sampler.phases]
    assert opened == [(1, 1, 1), (3, 1, 1), (3, 2, 1), (3, 3, 1), (3, 3, 2), (3, 3, 3)]


def test_the_twin_trains_a_step_and_records_its_space(tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = ["max_steps=1", "eval.every_epochs=0", f"checkpoint.dir={run}", "data.args={train_images: 64}"]
    assert main(["train", "--config", str(CONFIGS / "ofa_mbv3_tiny.yaml"), *args]) == 0
    meta = json.loads((run / "last" / "meta.json").read_text())
    assert meta["space_name"] == "ofa_mbv3_tiny"


def test_the_gpu_config_trains_one_step_at_its_full_size(tmp_path: Path) -> None:
    """ofa_mbv3 (960 / 1280 head, SE stages, 224 px teacher, students resized to their image size) on a tiny
    image folder: one optimizer step of batch 2 with the config's sampler, losses and optimizer."""
    from tests.test_configs import _image_folder

    folder = _image_folder(tmp_path / "images")
    run = tmp_path / "run"
    args = [f"data.root={folder}", "data.batch_size=2", "data.num_workers=0", "device=cpu", "max_steps=1",
            "eval.every_epochs=0", "log.visualdl=false", f"checkpoint.dir={run}"]
    assert main(["train", "--config", str(CONFIGS / "ofa_mbv3.yaml"), *args]) == 0
    meta = json.loads((run / "last" / "meta.json").read_text())
    assert meta["progress"]["global_step"] == 1 and meta["space_name"] == "ofa_mbv3"
