"""Bad stage II input: a clear ``hnas: error``, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from hnas.checkpoints.folder import LAST
from hnas.cli import main
from tests.engine.tiny import TINY_SPACE_OVERRIDE

TINY = [TINY_SPACE_OVERRIDE, "data.name=synthetic", "--data.batch_size", "16", "--device", "cpu",
        "log.visualdl=false", "--epochs", "1"]
GATE = "gate={block: s4.b1, options: 2}"


@pytest.fixture(scope="module")
def resnet_checkpoint(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("stage1")
    assert main(["train", *TINY, "--checkpoint.dir", str(root), "max_steps=1", "eval.every_epochs=0"]) == 0
    return root / LAST


@pytest.mark.parametrize(("extra", "message"), [
    ([GATE], "set checkpoint.init_from to the stage I checkpoint folder"),
    (["gate={madds_lambda: -0.5}"], "madds_lambda must be >= 0, got -0.5"),
    (["gate={options: 1}"], "options must be >= 2 routed widths"),
    ([GATE, "checkpoint.init_from=/nonexistent/stage1"], "needs a supernet checkpoint folder"),
])
def test_bad_gate_settings(tmp_path, capsys, extra: list[str], message: str) -> None:
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path / "run"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hnas: error:") and message in err
    assert not (tmp_path / "run").exists()


def test_a_gate_on_a_space_without_width_levels(tmp_path, capsys, resnet_checkpoint: Path) -> None:
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path / "run"), GATE,
                 f"checkpoint.init_from={resnet_checkpoint}"]) == 2
    assert "space 'resnet48_tiny' has no ordered width levels and gate points" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_gate_config_of_another_space_than_the_checkpoint(tmp_path, capsys, resnet_checkpoint: Path) -> None:
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path / "run"), GATE, "space.name=mbv2_tiny",
                 "space.overrides={}", f"checkpoint.init_from={resnet_checkpoint}"]) == 2
    assert ("holds a supernet of space 'resnet48_tiny', but the gate config trains space 'mbv2_tiny'"
            in capsys.readouterr().err)
    assert not (tmp_path / "run").exists()


def test_per_width_bn_on_a_space_without_width_levels(tmp_path, capsys) -> None:
    overrides = TINY_SPACE_OVERRIDE.replace("stem_max_pool: false}", "stem_max_pool: false, bn: per_width}")
    assert main(["train", *TINY, overrides, "--checkpoint.dir", str(tmp_path / "run")]) == 2
    assert "space 'resnet48_tiny' (resnet family) has no ordered width levels, so it takes no 'bn' option" \
        in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_bn_reset_refuses_a_space_without_width_levels(tmp_path, capsys, resnet_checkpoint: Path) -> None:
    assert main(["bn-reset", "--ckpt", str(resnet_checkpoint), "--out", str(tmp_path / "reset")]) == 2
    assert "has no ordered width levels: the BN reset re-estimates per-width statistics" in capsys.readouterr().err
    assert not (tmp_path / "reset").exists()


def test_per_width_bn_on_a_family_member_without_width_levels(tmp_path, capsys) -> None:
    assert main(["train", "--space.name", "pss_mbv1_tiny", "space.overrides={bn: per_width}",
                 "--checkpoint.dir", str(tmp_path / "run")]) == 2
    assert "space 'pss_mbv1_tiny' has no ordered width levels, so bn: per_width does not apply" \
        in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
