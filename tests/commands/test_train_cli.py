"""``hnas train`` and ``train_supernet.sh``: overrides, exit codes, the embedded config file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hnas.checkpoints.folder import LAST, read_meta
from hnas.cli import main
from hnas.config import load_config
from hnas.train_config import TrainConfig
from tests.engine.tiny import TINY_SPACE_OVERRIDE

REPO = Path(__file__).resolve().parents[2]
TINY = [TINY_SPACE_OVERRIDE, "data.name=synthetic", "--data.batch_size", "16", "--device", "cpu",
        "log.visualdl=false", "--epochs", "1"]


def test_train_with_overrides_writes_a_checkpoint(tmp_path, capsys) -> None:
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path), "max_steps=2"]) == 0
    out = capsys.readouterr().out
    assert "trained to epoch 0, step 2" in out and f"checkpoint: {tmp_path / LAST}" in out
    assert read_meta(tmp_path / LAST)["progress"]["global_step"] == 2
    saved = load_config(tmp_path / LAST / "config.yaml", schema=TrainConfig)
    assert saved.max_steps == 2 and saved.checkpoint.dir == tmp_path
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path), "--resume"]) == 0
    assert "validation after epoch 1" in capsys.readouterr().out
    assert read_meta(tmp_path / LAST)["progress"] == {"epoch": 1, "step_in_epoch": 0, "global_step": 4}


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--optim.lr_typo", "1"], "unknown key 'optim.lr_typo'"),
        (["--epochs", "many"], "key 'epochs': expected int"),
        (["data.name=imagefolder", "data.root=/nonexistent/imagenet"], "/nonexistent/imagenet"),
        (["data.args={imagesize: 8}"], "data.args.imagesize: dataset 'synthetic' has no option 'imagesize'"),
        (["data.kind=synthetic"], "unknown key 'data.kind'"),
        (["--sampler.args", "{num_random: 2}", "--sampler.name", "uniform"],
         "sampler.args.num_random: sampler 'uniform' has no option 'num_random'"),
        (["--sampler.args", "{num_randoms: 2}"], "has no option 'num_randoms' (did you mean 'num_random'?)"),
    ],
)
def test_bad_input_exits_with_code_2(tmp_path, capsys, extra: list[str], message: str) -> None:
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path / "run"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_other_commands_still_reject_unknown_arguments(capsys) -> None:
    with pytest.raises(SystemExit) as error:
        main(["flops", "--bogus"])
    assert error.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_shipped_configs_load() -> None:
    embedded = load_config(REPO / "configs" / "embedded.yaml", schema=TrainConfig)
    assert embedded.space.name == "resnet48_tiny" and embedded.device == "cpu"
    assert embedded.data.name == "multi_mnist" and embedded.checkpoint.dir == Path("checkpoints/embedded")
    competition = load_config(REPO / "configs" / "competition.yaml", schema=TrainConfig)
    assert competition.space.name == "resnet48" and competition.epochs == 70
    assert competition.sampler.args["num_random"] == 2 and competition.sampler.args["rank_pairs"] == 2
    assert competition.optim.lr == 0.001 and competition.optim.warmup_epochs == 5
    assert competition.data.name == "imagefolder" and competition.data.args == {"image_size": 224}


def test_train_supernet_sh_passes_config_and_overrides(tmp_path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text("data:\n  name: synthetic\n  batch_size: 16\ndevice: cpu\n")
    env = {**os.environ, "CONFIG": str(config), "NPROC": "1"}
    command = ["bash", str(REPO / "train_supernet.sh"), TINY_SPACE_OVERRIDE, "--checkpoint.dir", str(tmp_path / "run"),
               "--max_steps", "1", "log.visualdl=false"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert read_meta(tmp_path / "run" / LAST)["progress"]["global_step"] == 1


def test_defaults_are_the_embedded_config() -> None:
    assert load_config(None, schema=TrainConfig) == load_config(
        REPO / "configs" / "embedded.yaml", schema=TrainConfig
    )
    assert TrainConfig().checkpoint.dir == Path("checkpoints/embedded")
