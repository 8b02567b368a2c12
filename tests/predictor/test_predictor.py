"""The accuracy predictor: features, fitting, the file, and ``hnas predictor fit|predict``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hnas.cli import main
from hnas.errors import HnasError
from hnas.predictor.features import FeatureLayout, encode
from hnas.predictor.fit import FitCfg, fit_predictor
from hnas.predictor.store import load_predictor
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import SPACES

SPACE_NAMES = ("resnet48_tiny", "mbv2_tiny")


def _specs(space_name: str, n: int, seed: int = 0) -> list:
    space = SPACES.get(space_name)
    return [space.decode(code) for code in sample_codes(space, n, seed)]


def _synthetic_acc(space, specs) -> list[float]:
    """A known accuracy that grows with depth and width, as a supernet's often does (learnable from one-hots)."""
    return [0.5 + 0.01 * space.num_blocks(spec) + 0.1 * space.width_ratio(spec) for spec in specs]


@pytest.mark.parametrize("space_name", SPACE_NAMES)
def test_features_one_hot_per_active_slot(space_name: str) -> None:
    space = SPACES.get(space_name)
    layout = FeatureLayout.of(space)
    specs = _specs(space_name, 20)
    features = encode(space, layout, specs)
    assert features.shape == (20, layout.width)
    for spec, row in zip(specs, features):
        active = [value for value in space.choices(spec).values() if value is not None]
        assert row.sum() == len(active)  # one column per active slot, none for unused ones
    again = encode(space, layout, [space.decode(space.encode(spec)) for spec in specs])
    assert np.array_equal(features, again)  # equal subnets, equal features


def test_features_distinguish_different_subnets() -> None:
    space = SPACES.get("resnet48_tiny")
    layout = FeatureLayout.of(space)
    features = encode(space, layout, [space.max_spec(), space.min_spec()])
    assert not np.array_equal(features[0], features[1])


def test_layout_differences_name_the_slot() -> None:
    resnet, mbv2 = (FeatureLayout.of(SPACES.get(name)) for name in SPACE_NAMES)
    assert resnet.differences(resnet) == []
    problems = resnet.differences(mbv2)
    assert problems and "slot" in problems[0]
    assert FeatureLayout.from_json(resnet.to_json()) == resnet


@pytest.mark.parametrize("space_name", SPACE_NAMES)
def test_fit_learns_a_ranking_and_is_reproducible(space_name: str) -> None:
    space = SPACES.get(space_name)
    specs = _specs(space_name, 200)
    accs = _synthetic_acc(space, specs)
    cfg = FitCfg(hidden=(64, 64), epochs=60, batch_size=64, seed=3)
    predictor, report = fit_predictor(space, specs, accs, cfg)
    assert (report.n_fit, report.n_val) == (160, 40)
    assert report.val_kendall_tau is not None and report.val_kendall_tau > 0.5
    again, _ = fit_predictor(space, specs, accs, cfg)
    assert np.array_equal(predictor.predict(specs), again.predict(specs))


def test_base_accuracy_is_the_mean_of_the_fitted_targets() -> None:
    space = SPACES.get("resnet48_tiny")
    specs = _specs("resnet48_tiny", 10)
    accs = [0.5 + 0.01 * index for index in range(10)]
    predictor, report = fit_predictor(space, specs, accs, FitCfg(hidden=(8,), epochs=1, val_fraction=0.0))
    assert report.n_val == 0 and report.val_kendall_tau is None
    assert float(predictor.model.base_acc) == pytest.approx(np.mean(accs))


@pytest.mark.parametrize("accs, message", [
    ([], "needs at least 5"),
    ([0.5], "needs at least 5"),
    ([0.0] * 8, "every arch has acc 0.0"),
    ([0.5, float("nan"), 0.4, 0.3, 0.2], "non-finite"),
])
def test_unusable_training_data_is_refused(accs: list[float], message: str) -> None:
    space = SPACES.get("resnet48_tiny")
    specs = _specs("resnet48_tiny", len(accs)) if accs else []
    with pytest.raises(HnasError, match=message):
        fit_predictor(space, specs, accs, FitCfg(hidden=(8,), epochs=1))


def test_save_load_round_trip(tmp_path: Path) -> None:
    space = SPACES.get("mbv2_tiny")
    specs = _specs("mbv2_tiny", 30)
    predictor, _ = fit_predictor(space, specs, _synthetic_acc(space, specs), FitCfg(hidden=(16,), epochs=5))
    path = tmp_path / "p.pdparams"
    predictor.save(path)
    loaded = load_predictor(path)
    assert loaded.space == space and loaded.layout == predictor.layout
    assert np.array_equal(loaded.predict(specs), predictor.predict(specs))
    assert loaded.report == predictor.report


def test_load_refuses_other_files_and_layouts(tmp_path: Path) -> None:
    import paddle

    with pytest.raises(HnasError, match="does not exist"):
        load_predictor(tmp_path / "missing")
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a pickle")
    with pytest.raises(HnasError, match="cannot read it"):
        load_predictor(junk)
    other = tmp_path / "other.pdparams"
    paddle.save({"weight": np.zeros(2)}, str(other))
    with pytest.raises(HnasError, match="not an hnas accuracy-predictor file"):
        load_predictor(other)
    space = SPACES.get("resnet48_tiny")
    specs = _specs("resnet48_tiny", 10)
    predictor, _ = fit_predictor(space, specs, _synthetic_acc(space, specs), FitCfg(hidden=(8,), epochs=1))
    predictor.layout = FeatureLayout.of(SPACES.get("mbv2_tiny"))  # as if the space's slots had changed
    stale = tmp_path / "stale.pdparams"
    predictor.save(stale)
    with pytest.raises(HnasError, match="feature layout does not match"):
        load_predictor(stale)


def _arch_file(path: Path, space_name: str, n: int, accs: list[float] | None = None) -> Path:
    space = SPACES.get(space_name)
    codes = sample_codes(space, n, seed=1)
    if accs is None:
        accs = _synthetic_acc(space, [space.decode(code) for code in codes])
    path.write_text(json.dumps({f"arch{i}": {"acc": acc, "arch": code}
                                for i, (code, acc) in enumerate(zip(codes, accs), start=1)}))
    return path


def test_cli_fit_then_predict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = _arch_file(tmp_path / "train.json", "resnet48_tiny", 60)
    model = tmp_path / "pred.pdparams"
    assert main(["predictor", "fit", str(train), "--space", "resnet48_tiny", "--out", str(model),
                 "--epochs", "20"]) == 0
    assert "held out 12" in capsys.readouterr().out
    out = tmp_path / "pred.json"
    assert main(["predictor", "predict", str(model), str(train), "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert list(written) == list(json.loads(train.read_text()))
    expected = load_predictor(model).predict([SPACES.get("resnet48_tiny").decode(v["arch"]) for v in written.values()])
    assert [v["acc"] for v in written.values()] == pytest.approx(expected.tolist())


def test_cli_bad_inputs_exit_2_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = _arch_file(tmp_path / "one.json", "resnet48_tiny", 1, [0.5])
    out = tmp_path / "p.pdparams"
    assert main(["predictor", "fit", str(one), "--space", "resnet48_tiny", "--out", str(out)]) == 2
    assert "needs at least 5" in capsys.readouterr().err and not out.exists()
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    assert main(["predictor", "fit", str(empty), "--space", "resnet48_tiny", "--out", str(out)]) == 2
    assert not out.exists()
    train = _arch_file(tmp_path / "train.json", "resnet48_tiny", 20)
    assert main(["predictor", "fit", str(train), "--space", "resnet48_tiny", "--out", str(out), "--epochs", "2"]) == 0
    foreign = _arch_file(tmp_path / "mbv2.json", "mbv2_tiny", 5, [0.1] * 5)
    result = tmp_path / "r.json"
    capsys.readouterr()
    assert main(["predictor", "predict", str(out), str(foreign), "--out", str(result)]) == 2
    assert "resnet48_tiny" in capsys.readouterr().err and not result.exists()
    result.write_text("keep")
    assert main(["predictor", "predict", str(out), str(train), "--out", str(result)]) == 2
    assert result.read_text() == "keep"  # exists without --force
