"""Tests of hnas/engine/trainer.py: exact resume, checkpoint safety, VisualDL output, config errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import paddle
import pytest

from hnas.checkpoints.folder import LAST, MODEL_FILE, CheckpointMismatchError, read_meta
from hnas.config import ConfigError, load_config
from hnas.engine.step import NonFiniteLossError
from hnas.engine.trainer import SupernetModel, train
from hnas.errors import HnasError
from hnas.search_spaces.ops import ElasticConv2D
from hnas.train_config import TrainConfig
from tests.engine.tiny import TINY_SPACE_OVERRIDE, tiny_config


def _weights(folder: Path) -> dict[str, np.ndarray]:
    return {name: value.numpy() for name, value in paddle.load(str(folder / LAST / MODEL_FILE)).items()}


def test_interrupted_and_resumed_run_equals_an_uninterrupted_one(tmp_path) -> None:
    whole = train(tiny_config(tmp_path / "whole"))
    assert whole.progress.global_step == 8 and len(whole.history) == 2

    first = train(tiny_config(tmp_path / "split", "max_steps=3"))
    assert (first.progress.epoch, first.progress.step_in_epoch, first.progress.global_step) == (0, 3, 3)
    assert read_meta(tmp_path / "split" / LAST)["progress"]["global_step"] == 3
    second = train(tiny_config(tmp_path / "split"), resume=True)
    assert second.progress == whole.progress

    expected, resumed = _weights(tmp_path / "whole"), _weights(tmp_path / "split")
    assert expected.keys() == resumed.keys()
    for name in expected:
        np.testing.assert_array_equal(resumed[name], expected[name], err_msg=name)
    assert second.history[-1] == whole.history[-1]
    assert sorted(path.name for path in (tmp_path / "split").iterdir()) == ["epoch_0001", "epoch_0002", LAST]


def test_single_path_run_resumes_exactly_with_untouched_parameters(tmp_path) -> None:
    # One random subnet per step: at step 1 most channels have had no update, so the
    # checkpoint holds no momentum for them; resuming must still equal the uninterrupted run.
    single = ("sampler.name=uniform", "sampler.args={num_subnets: 1}")
    whole = train(tiny_config(tmp_path / "whole", *single))
    train(tiny_config(tmp_path / "split", *single, "max_steps=1"))
    resumed = train(tiny_config(tmp_path / "split", *single), resume=True)
    assert resumed.progress == whole.progress
    expected, got = _weights(tmp_path / "whole"), _weights(tmp_path / "split")
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def test_zero_padded_convs_train_like_sliced_ones_and_may_change_on_resume(tmp_path, monkeypatch) -> None:
    # conv_mode changes float rounding only, like the device, so a resume may switch it.
    padded_calls = []
    zero_padded = ElasticConv2D._zero_padded
    monkeypatch.setattr(ElasticConv2D, "_zero_padded",
                        lambda conv, *args: padded_calls.append(conv) or zero_padded(conv, *args))
    train(tiny_config(tmp_path / "sliced", "max_steps=2"))
    assert not padded_calls
    train(tiny_config(tmp_path / "switched", "max_steps=1", "conv_mode=pad"))
    train(tiny_config(tmp_path / "switched", "max_steps=2"), resume=True)
    train(tiny_config(tmp_path / "padded", "max_steps=2", "conv_mode=pad"))
    assert padded_calls
    sliced = _weights(tmp_path / "sliced")
    for run in ("switched", "padded"):
        got = _weights(tmp_path / run)
        assert got.keys() == sliced.keys()
        for name in sliced:
            np.testing.assert_allclose(got[name], sliced[name], rtol=1e-4, atol=1e-5, err_msg=f"{run}: {name}")


def test_checkpoint_of_another_space_is_refused_and_kept(tmp_path) -> None:
    train(tiny_config(tmp_path, "max_steps=1"))
    before = (tmp_path / LAST / MODEL_FILE).read_bytes()
    wider = TINY_SPACE_OVERRIDE.replace("base_channels: [8, 8]", "base_channels: [8, 12]")
    with pytest.raises(CheckpointMismatchError, match="base_channels"):
        train(tiny_config(tmp_path, wider), resume=True, allow_config_change=True)
    assert (tmp_path / LAST / MODEL_FILE).read_bytes() == before


def test_fresh_run_does_not_overwrite_an_existing_checkpoint(tmp_path) -> None:
    train(tiny_config(tmp_path, "max_steps=1"))
    with pytest.raises(HnasError, match="--resume"):
        train(tiny_config(tmp_path, "max_steps=1"))
    with pytest.raises(HnasError, match="no checkpoint found"):
        train(tiny_config(tmp_path / "empty"), resume=True)


def test_diverging_run_stops_without_writing_a_checkpoint(tmp_path) -> None:
    train(tiny_config(tmp_path, "max_steps=1"))
    before = (tmp_path / LAST / MODEL_FILE).read_bytes()
    with pytest.raises(NonFiniteLossError, match="non-finite loss"):
        train(tiny_config(tmp_path, "optim.lr=1e30", "optim.warmup_epochs=0"), resume=True, allow_config_change=True)
    assert (tmp_path / LAST / MODEL_FILE).read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.resumed-1.yaml", LAST]


def test_visualdl_log_is_readable(tmp_path) -> None:
    from visualdl import LogReader

    summary = train(tiny_config(tmp_path, "log.visualdl=true", "log.every_steps=2"))
    files = sorted((tmp_path / "visualdl").glob("vdlrecords.*"))
    assert len(files) == 1
    reader = LogReader(file_path=str(files[0]))
    tags = set(reader.get_tags()["scalar"])
    expected = {"train/teacher/ce", "train/student/kd+ce", "train/rank/ce", "train/rank/hinge", "train/rank/weight",
                "train/lr", "train/loss", "val/max_acc", "val/min_acc"}
    assert expected <= tags
    assert [record.id for record in reader.get_data("scalar", "train/lr")] == [2, 4, 6, 8]
    accuracies = [record.value for record in reader.get_data("scalar", "val/max_acc")]
    assert accuracies == pytest.approx([entry["val/max_acc"] for entry in summary.history])


def test_train_batch_delegates_to_the_step(tmp_path) -> None:
    summary = train(tiny_config(tmp_path, "max_steps=1"))
    assert summary.supernet is not None
    assert issubclass(SupernetModel, paddle.Model)
    assert SupernetModel.train_batch is not paddle.Model.train_batch


@pytest.mark.parametrize(
    "override, message",
    [
        ("optim.lr_typo=0.1", "unknown key 'optim.lr_typo'"),
        ("optim.momentum=fast", "key 'optim.momentum': expected float"),
        ("nan_policy=ignore", "'ignore' is not one of"),
        ("conv_mode=zero", "'zero' is not one of"),
        ("epochs=0", "epochs must be >= 1"),
    ],
)
def test_bad_config_values_name_the_key(tmp_path, override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        tiny_config(tmp_path, override)


def test_unknown_key_in_a_yaml_file(tmp_path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("epochs: 2\nloss:\n  rank_weight: 3\n")
    with pytest.raises(ConfigError, match=r"run.yaml: unknown key 'loss.rank_weight'"):
        load_config(path, schema=TrainConfig)


def test_missing_data_folder_is_a_clear_error(tmp_path) -> None:
    cfg = tiny_config(tmp_path / "ckpt", "data.name=imagefolder", f"data.root={tmp_path / 'nowhere'}")
    with pytest.raises(HnasError, match="nowhere"):
        train(cfg)
    assert not (tmp_path / "ckpt").exists()


@pytest.mark.parametrize(
    "overrides",
    [
        ("loss.distill=alpha", "loss.distill_args={alpha_min: -1.0, alpha_max: 1.0, iw_clip: 5.0}",
         "loss.rank_prior=params"),
        ("loss.rank_prior=zen", "loss.rank_ramp=0", "loss.label_smoothing=0.1", "optim.nesterov=true",
         "optim.weight_decay=1e-4", "optim.grad_clip_norm=1.0"),
        ("sampler.name=uniform", "sampler.args={}", "nan_policy=skip"),
    ],
)
def test_loss_prior_and_sampler_variants_train(tmp_path, overrides: tuple[str, ...]) -> None:
    summary = train(tiny_config(tmp_path, "max_steps=2", *overrides))
    assert summary.progress.global_step == 2
    assert np.isfinite(_weights(tmp_path)["fc.weight"]).all()


def test_bad_loss_arguments_are_a_clear_error(tmp_path) -> None:
    with pytest.raises(HnasError, match="loss.distill_args for 'kd'"):
        train(tiny_config(tmp_path, "loss.distill_args={alpha_min: -1.0}"))
    with pytest.raises(HnasError, match="unknown proxy 'flop'"):
        train(tiny_config(tmp_path, "loss.rank_prior=flop"))
