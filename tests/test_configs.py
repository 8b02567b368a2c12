"""Every shipped config loads, and the DS-Net config is the embedded default with only its teacher changed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hnas.config import load_config
from hnas.train_config import TrainConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda path: path.name)
def test_every_shipped_config_loads(path: Path) -> None:
    cfg = load_config(path, schema=TrainConfig)
    assert cfg.epochs >= 1


def test_dsnet_is_the_embedded_default_with_an_averaged_teacher() -> None:
    dsnet = load_config(CONFIGS / "dsnet.yaml", schema=TrainConfig)
    assert (dsnet.loss.teacher, dsnet.loss.ema_decay, dsnet.loss.distill) == ("ema", 0.98, "kd")
    same = load_config(CONFIGS / "embedded.yaml", ["loss.distill=kd", "loss.teacher=ema", "loss.ema_decay=0.98",
                                                   "checkpoint.dir=checkpoints/dsnet"], schema=TrainConfig)
    assert dsnet == same


# The 3rd-place solution's final submissions: each is its base config with only the recipe's changes.
_PRELU_FLOPS = ["space.overrides={outer_activation: prelu}"]
_MISH_ZEN = ["space.overrides={outer_activation: mish}", "sampler.args.rank_pairs=3", "sampler.args.min_hamming=33",
             "loss.rank_prior=zen", "loss.rank_w_max=1.0", "loss.rank_ramp=0.0"]
_TWIN = ["loss.distill=kd"]


@pytest.mark.parametrize("name, base, changes", [
    ("competition_prelu_flops", "competition", _PRELU_FLOPS),
    ("competition_mish_zen", "competition", _MISH_ZEN + ["loss.rank_prior_args={repeats: 32, batch_size: 16}"]),
    ("embedded_prelu_flops", "embedded", _TWIN + _PRELU_FLOPS + ["sampler.args.rank_pairs=2", "loss.rank_w_max=2.0"]),
    ("embedded_mish_zen", "embedded", _TWIN + _MISH_ZEN + ["loss.rank_prior_args={repeats: 4, batch_size: 8}"]),
])
def test_outer_activation_configs_change_only_the_recipe(name: str, base: str, changes: list[str]) -> None:
    cfg = load_config(CONFIGS / f"{name}.yaml", schema=TrainConfig)
    same = load_config(CONFIGS / f"{base}.yaml", [*changes, f"checkpoint.dir=checkpoints/{name}"], schema=TrainConfig)
    assert cfg == same


def _image_folder(root: Path, classes: int = 2, per_class: int = 2) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for label in range(classes):
            for index in range(per_class):
                path = root / split / f"c{label}" / f"{index}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)).save(path)
    return root


@pytest.mark.parametrize("name, cheap_zen", [
    ("competition_prelu_flops", []),
    # The reference ZenScore (32 x 16 images at 224 px per new subnet) alone would take minutes here.
    ("competition_mish_zen", ["loss.rank_prior_args={repeats: 1, batch_size: 1}"]),
])
def test_competition_variants_train_one_step_at_224_px(name: str, cheap_zen: list[str], tmp_path: Path) -> None:
    """The config's ResNet48 layout (48 layers, 7x7 stem + max-pool) on 224 px images with its sandwich and rank
    pairs, one optimizer step of batch 2, at the config's full widths."""
    from hnas.cli import main

    folder = _image_folder(tmp_path / "images")
    run = tmp_path / "run"
    outer = name.split("_")[1]
    args = [f"data.root={folder}", "data.batch_size=2", "data.num_workers=0", "device=cpu", "max_steps=1",
            "eval.every_epochs=0", "log.visualdl=false", f"checkpoint.dir={run}",
            f"space.overrides={{outer_activation: {outer}}}", *cheap_zen]
    assert main(["train", "--config", str(CONFIGS / f"{name}.yaml"), *args]) == 0
    meta = json.loads((run / "last" / "meta.json").read_text())
    assert meta["progress"]["global_step"] == 1
    assert meta["space"]["outer_activation"] == outer
    assert meta["space"]["resolutions"] == [224] and meta["space"]["stage_blocks"] == [5, 5, 8, 5]
