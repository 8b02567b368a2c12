"""Every shipped config loads, and the DS-Net config is the embedded default with only its teacher changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hnas.config import load_config
from hnas.engine.config import TrainConfig

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
