"""Tests of ``hnas convert-ckpt --from paddleslim`` (hnas/commands/convert_ckpt.py, hnas/engine/convert_ckpt.py).

PaddleSlim-format state dicts are made here without PaddleSlim, from hnas keys through
``hnas_to_paddleslim_key`` (tests/paddleslim_ext checks those names against a real OFA supernet
and the outputs against PaddleSlim's).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import paddle
import pytest

from hnas.checkpoints.folder import CheckpointMismatchError, resolve_checkpoint
from hnas.cli import main
from hnas.engine.pretrained import hnas_to_paddleslim_key
from hnas.nn.state_dict import add_data_parallel
from hnas.search_spaces import SPACES
from hnas.search_spaces.sampling import sample_codes

TINY = "resnet48_tiny"


def _paddleslim_state(space_name: str, seed: int = 0, teacher: bool = False) -> dict:
    paddle.seed(seed)
    space = SPACES.get(space_name)
    state = space.build_supernet().state_dict()
    for name, tensor in state.items():
        if name.endswith("_variance"):
            tensor.set_value(paddle.rand(tensor.shape) + 0.5)
    named = {hnas_to_paddleslim_key(key, space): value for key, value in state.items()}
    if teacher:
        named.update({"ofa_teacher_model." + key: value for key, value in named.items()})
    return named


def _convert(source: Path, out: Path, *extra: str) -> int:
    return main(["convert-ckpt", "--from", "paddleslim", str(source), "--out", str(out), *extra])


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A multi-GPU PaddleSlim-format checkpoint of the tiny space, teacher copy included."""
    state = _paddleslim_state(TINY, teacher=True)
    path = tmp_path_factory.mktemp("src") / "final.pdparams"
    paddle.save(add_data_parallel(state), str(path))
    return path, state


def test_conversion_writes_an_eval_folder_with_every_tensor(tiny_source, tmp_path: Path, capsys) -> None:
    source, state = tiny_source
    out = tmp_path / "imported"
    assert _convert(source, out, "--space", TINY) == 0
    printed = capsys.readouterr().out
    assert "0 unmapped" in printed and "skipped 252 distillation-teacher keys" in printed
    assert sorted(path.name for path in out.iterdir()) == ["config.yaml", "meta.json", "model.pdparams"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["space_name"] == TINY and meta["converted_from"]["format"] == "paddleslim"
    loaded = paddle.load(str(out / "model.pdparams"))
    space = SPACES.get(TINY)
    for key, value in loaded.items():
        np.testing.assert_array_equal(value.numpy(), state[hnas_to_paddleslim_key(key, space)].numpy(), err_msg=key)
    assert resolve_checkpoint(out, weights_only=True) == out
    with pytest.raises(CheckpointMismatchError, match="incomplete"):
        resolve_checkpoint(out)  # not resumable: no optimizer or sampler state


def test_eval_on_a_converted_checkpoint_writes_a_valid_submission(tiny_source, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    assert _convert(tiny_source[0], out, "--space", TINY) == 0
    codes = sample_codes(SPACES.get(TINY), 3, seed=2, distribution="competition")
    archs = tmp_path / "archs.json"
    archs.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": code} for i, code in enumerate(codes, 1)}))
    submission = tmp_path / "submit.json"
    assert main(["eval", str(archs), "--ckpt", str(out), "--out", str(submission), "--val-images", "16",
                 "--batch-size", "8", "--recal-batches", "1", "--recal-batch-size", "8"]) == 0
    assert main(["validate", str(submission), "--submission", "--against", str(archs)]) == 0


def test_hnas_named_state_dicts_convert_unchanged(tmp_path: Path) -> None:
    paddle.seed(0)
    state = SPACES.get(TINY).build_supernet().state_dict()
    source = tmp_path / "hnas.pdparams"
    paddle.save(state, str(source))
    assert _convert(source, tmp_path / "out", "--space", TINY) == 0
    loaded = paddle.load(str(tmp_path / "out" / "model.pdparams"))
    assert list(loaded) == list(state)



def test_a_foreign_state_dict_is_refused_listing_unmapped_keys(tmp_path: Path, capsys) -> None:
    source = tmp_path / "torchvision_like.pdparams"
    paddle.save({"conv1.weight": paddle.zeros([4, 3, 3, 3]), "layer1.0.bn1.weight": paddle.ones([4]),
                 "blocks.99.conv1.fn.weight": paddle.zeros([1])}, str(source))
    out = tmp_path / "out"
    assert _convert(source, out, "--space", TINY) == 2
    err = capsys.readouterr().err
    assert err.startswith("hnas: error: ")
    assert "3 unmapped key(s), first: blocks.99.conv1.fn.weight, conv1.weight" in err
    assert not out.exists()


def test_another_layout_is_refused_with_shape_mismatches(tiny_source, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert _convert(tiny_source[0], out) == 2  # default space resnet48: same names, other widths
    err = capsys.readouterr().err
    assert "shape mismatch(es), first: _layers.model.blocks.0.conv.fn.weight (checkpoint [20, 1, 3, 3], resnet48 " \
           "[64, 3, 7, 7])" in err
    assert not out.exists()


def test_another_depth_is_refused_listing_missing_and_unmapped_keys(tmp_path: Path, capsys) -> None:
    state = _paddleslim_state(TINY)
    shallow = {key: value for key, value in state.items() if not key.startswith("model.blocks.23.")}
    shallow["model.blocks.24.fc.fn.weight"] = state["model.blocks.24.fc.fn.weight"]
    shallow = {key.replace("blocks.24.", "blocks.23.") if "blocks.24." in key else key: value
               for key, value in shallow.items()}
    source = tmp_path / "shallow.pdparams"
    paddle.save(shallow, str(source))
    assert _convert(source, tmp_path / "out", "--space", TINY) == 2
    err = capsys.readouterr().err
    assert "unmapped key(s), first: model.blocks.23.fc.fn.weight" in err and "not in the checkpoint" in err
    assert not (tmp_path / "out").exists()


def test_an_existing_output_is_kept_without_force(tiny_source, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert _convert(tiny_source[0], out, "--space", TINY) == 2
    assert "exists; pass --force" in capsys.readouterr().err and (out / "keep.txt").read_text() == "mine"
    assert _convert(tiny_source[0], out, "--space", TINY, "--force") == 0
    assert not (out / "keep.txt").exists() and (out / "model.pdparams").is_file()


def test_bad_arguments_exit_2(tiny_source, tmp_path: Path, capsys) -> None:
    assert _convert(tmp_path / "missing.pdparams", tmp_path / "out") == 2
    assert "no such checkpoint file" in capsys.readouterr().err
    assert _convert(tmp_path, tmp_path / "out") == 2
    assert "is a folder; pass the state-dict file" in capsys.readouterr().err
    config = tmp_path / "train.yaml"
    config.write_text("space:\n  name: resnet48\n")
    assert _convert(tiny_source[0], tmp_path / "out", "--config", str(config), "--space", TINY) == 2
    assert "contradicts space.name" in capsys.readouterr().err
    not_pdparams = tmp_path / "notes.pdparams"
    not_pdparams.write_text("hello")
    assert _convert(not_pdparams, tmp_path / "out", "--space", TINY) == 2
    assert "cannot read a Paddle state dict" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_training_continues_from_a_converted_checkpoint(tiny_source, tmp_path: Path, capsys) -> None:
    """README: a converted folder is not resumable, but its weights initialise a new run (no reordering)."""
    out = tmp_path / "imported"
    assert _convert(tiny_source[0], out, "--space", TINY) == 0
    run = tmp_path / "run"
    assert main(["train", "--resume", f"checkpoint.dir={out}", "max_steps=1"]) == 2
    assert "imported weights only" in capsys.readouterr().err
    assert main(["train", f"checkpoint.dir={run}", f"checkpoint.init_from={out / 'model.pdparams'}",
                 "checkpoint.reorder=false", "max_steps=1", "log.visualdl=false", "data.batch_size=4",
                 "data.args={train_images: 16, val_images: 8}", "eval.max_batches=1"]) == 0
    assert (run / "last" / "model.pdparams").is_file()


def test_an_outer_activation_checkpoint_imports_only_into_its_space(tmp_path: Path, capsys) -> None:
    """The 3rd place's resnet48_prelu names its slopes blocks.N.relu2._weight; a space without them refuses
    that file, and a PReLU space refuses a file without them (exit 2, nothing written)."""
    prelu = SPACES.get(TINY).replace({"outer_activation": "prelu"})
    paddle.seed(0)
    state = {hnas_to_paddleslim_key(key, prelu): value for key, value in prelu.build_supernet().state_dict().items()}
    assert "model.blocks.1.relu2._weight" in state
    source = tmp_path / "prelu.pdparams"
    paddle.save(state, str(source))
    config = tmp_path / "prelu.yaml"
    config.write_text(f"space:\n  name: {TINY}\n  overrides:\n    outer_activation: prelu\n")
    assert _convert(source, tmp_path / "relu_out", "--space", TINY) == 2
    assert "unmapped key(s), first: model.blocks.1.relu2._weight" in capsys.readouterr().err
    relu_source = tmp_path / "relu.pdparams"
    paddle.save(_paddleslim_state(TINY), str(relu_source))
    assert _convert(relu_source, tmp_path / "prelu_out", "--config", str(config)) == 2
    assert "not in the checkpoint, first: stages.0.0.outer_act._weight" in capsys.readouterr().err
    assert not (tmp_path / "relu_out").exists() and not (tmp_path / "prelu_out").exists()
    assert _convert(source, tmp_path / "ok", "--config", str(config)) == 0
    assert json.loads((tmp_path / "ok" / "meta.json").read_text())["space"]["outer_activation"] == "prelu"
