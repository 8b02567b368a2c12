"""The systems' pipelines end to end through the CLI, as docs/systems/*.md run them, at toy scale.

SPOS (docs/systems/spos.md): train the supernet -> search under a FLOPs limit -> export the winner ->
retrain it from the export. OFA (docs/systems/ofa.md): progressive shrinking -> evaluate sampled archs ->
fit the accuracy predictor -> search with it in a MACs range -> export the winner. Each step reads
what the step before wrote; the steps, data and searches are cut to a few batches so each pipeline
takes well under a minute on a 2-core CPU.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import paddle
import pytest

from hnas.cli import main
from hnas.export import load_export
from hnas.predictor.store import load_predictor
from hnas.search_spaces.distributions import cost_function
from hnas.search_spaces.spaces import SPACES

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

#: A toy training run: one epoch of a few batches, a quick validation.
TOY_TRAIN = ["--epochs", "1", "--data.args", "{train_images: 192, val_images: 60}", "--eval.batch_size", "60",
             "--eval.bn_recal_batches", "1", "--log.every_steps", "1", "--log.visualdl", "false"]
#: A toy scoring setting for search and eval (the toy run has 60 validation images).
TOY_SCORING = ["--val-images", "40", "--batch-size", "40", "--recal-batches", "1", "--recal-batch-size", "16"]
#: A toy evolution (SPOS's shape: mutation and crossover children of the top-k, random fill).
TOY_SEARCH = ["--population", "6", "--top-k", "3", "--mutations", "3", "--crossovers", "2", "--generations", "2"]


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _paddle_flops(net: paddle.nn.Layer, size: list[int]) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return paddle.flops(net, size)


def _check_export(folder: Path, code: str, space_name: str) -> None:
    """The export loads into the stand-alone network of ``code``, whose paddle.flops is the space's count."""
    exported = load_export(folder)
    space = SPACES.get(space_name)
    assert (exported.arch, exported.space) == (code, space)
    spec = space.decode(code)
    net = space.build_standalone(spec)
    net.set_state_dict(exported.state)
    assert set(net.state_dict()) == set(exported.state)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), exported.state[name].numpy(), err_msg=name)
    assert _paddle_flops(net, [1, space.in_channels, spec.resolution, spec.resolution]) == space.flops(spec)
    assert (folder / "inference" / "model.pdiparams").is_file()


def test_spos_pipeline_train_search_under_a_limit_retrain(tmp_path: Path, capsys) -> None:
    space_name, limit = "spos_shufflenetv2_tiny", 520_000
    ckpt, search, winner = tmp_path / "ckpt", tmp_path / "search", tmp_path / "winner"
    assert main(["train", "--config", str(CONFIGS / "spos_shufflenetv2_tiny.yaml"), "--checkpoint.dir", str(ckpt),
                 *TOY_TRAIN]) == 0
    assert (ckpt / "last").is_dir()

    assert main(["search", "--ckpt", str(ckpt), "--out", str(search), "--max-flops", str(limit),
                 "--flops-convention", "macs", *TOY_SEARCH, *TOY_SCORING]) == 0
    space = SPACES.get(space_name)
    macs = cost_function(space, "flops_macs")
    candidates = _json(search / "candidates.json")
    assert len(candidates) == 12 and len({c["arch"] for c in candidates.values()}) == 12
    for entry in candidates.values():  # every candidate is under SPOS's limit in SPOS's count, recorded as such
        assert entry["flops"] == macs(space.decode(entry["arch"])) <= limit
    best = _json(search / "best.json")
    assert best["acc"] == max(c["acc"] for c in candidates.values()) and 0.0 <= best["acc"] <= 1.0
    assert best["scored_by"] == "supernet"

    code = best["arch"]
    assert main(["export", "--ckpt", str(ckpt), "--out", str(winner), code]) == 0
    _check_export(winner, code, space_name)

    retrained = tmp_path / "retrain.json"
    quick = ["--space", space_name, "--max-train-batches", "2", "--max-val-images", "100"]
    assert main(["standalone", code, *quick, "--init-from", str(winner), "--out", str(retrained)]) == 0
    record = _json(retrained)
    assert record["arch"] == code and record["steps"] == 2 and 0.0 <= record["acc"] <= 1.0
    assert record["flops"] == space.flops(space.decode(code))
    capsys.readouterr()
    # The winner of another arch's export is refused (the retraining starts from the searched subnet only).
    other = next(c["arch"] for c in candidates.values() if c["arch"] != code)
    assert main(["standalone", other, *quick, "--init-from", str(winner)]) == 2
    assert f"holds arch {code}" in capsys.readouterr().err


#: OFA's pipeline on the embedded twin of its MobileNetV3 space, with the MACs range of docs/systems/ofa.md.
OFA_SPACE, OFA_RANGE = "ofa_mbv3_tiny", (500_000, 1_500_000)


def test_ofa_pipeline_progressive_shrinking_predictor_search_export(tmp_path: Path) -> None:
    ckpt, archs, measured = tmp_path / "ckpt", tmp_path / "archs.json", tmp_path / "measured.json"
    predictor_file, predicted, search = tmp_path / "predictor.pdparams", tmp_path / "predicted.json", tmp_path / "s"
    # The config's 4 epochs and phases (largest net, kernel, depth, expand), 2 steps of 16 images each.
    assert main(["train", "--config", str(CONFIGS / "ofa_mbv3_tiny.yaml"), "--checkpoint.dir", str(ckpt),
                 "--data.batch_size", "16", "--data.args", "{train_images: 32, val_images: 60}",
                 "--eval.every_epochs", "4", "--eval.batch_size", "60", "--eval.bn_recal_batches", "1"]) == 0
    assert (ckpt / "last").is_dir()

    assert main(["sample-archs", "--space", OFA_SPACE, "--n", "12", "--seed", "1", "--out", str(archs)]) == 0
    assert main(["eval", str(archs), "--ckpt", str(ckpt), "--out", str(measured), *TOY_SCORING]) == 0
    evaluated = _json(measured)
    assert set(evaluated) == set(_json(archs)) and all(0.0 <= e["acc"] <= 1.0 for e in evaluated.values())

    assert main(["predictor", "fit", str(measured), "--space", OFA_SPACE, "--out", str(predictor_file),
                 "--epochs", "20", "--val-fraction", "0.25"]) == 0
    assert main(["predictor", "predict", str(predictor_file), str(archs), "--out", str(predicted)]) == 0
    predictor = load_predictor(predictor_file)  # the file round-trips: predict equals the loaded predictor's
    space = predictor.space
    assert space == SPACES.get(OFA_SPACE)
    entries = list(_json(predicted).values())
    expected = predictor.predict([space.decode(e["arch"]) for e in entries])
    np.testing.assert_allclose([e["acc"] for e in entries], expected, rtol=1e-6)

    low, high = OFA_RANGE
    assert main(["search", "--predictor", str(predictor_file), "--ckpt", str(ckpt), "--rescore-top", "2",
                 "--out", str(search), "--min-flops", str(low), "--max-flops", str(high),
                 "--flops-convention", "macs", *TOY_SEARCH, *TOY_SCORING]) == 0
    candidates = _json(search / "candidates.json")
    assert len(candidates) == 12
    macs = cost_function(space, "flops_macs")
    for entry in candidates.values():  # scored by the predictor, all inside the MACs range
        spec = space.decode(entry["arch"])
        assert entry["acc"] == pytest.approx(float(predictor.predict([spec])[0]))
        assert low <= entry["flops"] == macs(spec) <= high
    rescored = list(_json(search / "rescored.json").values())
    best = _json(search / "best.json")
    assert len(rescored) == 2 and best["scored_by"] == "supernet (re-scored)"
    assert best["arch"] == rescored[0]["arch"] and best["acc"] == max(r["acc"] for r in rescored)

    winner = tmp_path / "winner"
    assert main(["export", "--ckpt", str(ckpt), "--out", str(winner), "--bn-recal", "reset",
                 "--recal-batches", "1", "--recal-batch-size", "16", best["arch"]]) == 0
    _check_export(winner, best["arch"], OFA_SPACE)
    assert _json(winner / "subnet.json")["bn_recal_batches"] == 1
