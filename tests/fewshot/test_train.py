"""``hnas fewshot train`` and few-shot evaluation on the tiny synthetic space.

The parent is a 2-epoch run of ``tests/engine/tiny.py``'s space (stage depths 1-2); the
split is ``depth1`` (two parts), each part trains one epoch of 4 steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import paddle
import pytest

from hnas.checkpoints.fewshot import MANIFEST_FILE, read_manifest
from hnas.checkpoints.folder import CONFIG_FILE, LAST, MODEL_FILE, read_meta
from hnas.checkpoints.source import locate
from hnas.cli import main
from hnas.config import load_config
from hnas.engine.trainer import train
from hnas.errors import HnasError
from hnas.fewshot.train import plan_fewshot, train_fewshot
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import space_from_fields
from hnas.train_config import TrainConfig
from tests.engine.tiny import tiny_config

EVAL = ["--val-images", "16", "--batch-size", "8", "--recal-batches", "1", "--recal-batch-size", "8"]


def _weights(root: Path) -> dict[str, np.ndarray]:
    return {name: value.numpy() for name, value in paddle.load(str(root / LAST / MODEL_FILE)).items()}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def parent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fewshot") / "parent"
    train(tiny_config(root))
    return root


@pytest.fixture(scope="module")
def fewshot(parent: Path) -> Path:
    out = parent.parent / "few"
    result = train_fewshot(parent, "depth1", out, epochs=1)
    assert result.outcomes == ["trained", "trained"]
    return out


@pytest.fixture(scope="module")
def arch_file(parent: Path) -> Path:
    space = space_from_fields(read_meta(parent / LAST)["space"], "resnet")
    codes = sample_codes(space, 8, seed=3)
    path = parent.parent / "archs.json"
    path.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": code} for i, code in enumerate(codes, 1)}))
    return path


def test_the_plan_derives_each_part_from_the_parent(parent: Path, tmp_path: Path) -> None:
    plan = plan_fewshot(parent, "depth1", tmp_path / "few", epochs=3, overrides=["optim.lr=0.01"])
    assert not (tmp_path / "few").exists()  # planning writes nothing
    assert plan.manifest.parts == ("part0_depth1-1", "part1_depth1-2")
    for index, cfg in enumerate(plan.configs):
        assert cfg.checkpoint.dir == tmp_path / "few" / plan.manifest.parts[index]
        assert Path(cfg.checkpoint.init_from) == parent / LAST
        assert cfg.epochs == 3 and cfg.optim.lr == 0.01
        assert cfg.sampler.args["distribution"] == {"name": "uniform", "slots": {"depth1": [index + 1]}}
        assert cfg.sampler.name == load_config(parent / LAST / CONFIG_FILE, schema=TrainConfig).sampler.name


def test_each_part_trains_from_the_parent_on_its_own_subnets(parent: Path, fewshot: Path) -> None:
    manifest = read_manifest(fewshot)
    assert manifest.parent == (parent / LAST).resolve() and manifest.epochs == 1
    assert json.loads((fewshot / MANIFEST_FILE).read_text())["split"] == {"slot": "depth1", "groups": [[1], [2]]}
    parent_weights = _weights(parent)
    parts = [_weights(manifest.part_dir(index)) for index in range(2)]
    for index, weights in enumerate(parts):
        meta = read_meta(manifest.part_dir(index) / LAST)
        assert meta["progress"]["epoch"] == 1 and meta["progress"]["global_step"] == 4
        stored = load_config(manifest.part_dir(index) / LAST / CONFIG_FILE, schema=TrainConfig)
        assert stored.sampler.args["distribution"]["slots"] == {"depth1": [index + 1]}
        assert weights.keys() == parent_weights.keys()
        assert any(not np.array_equal(weights[name], parent_weights[name]) for name in weights)
    # Stage 1's second block is used only by depth 2: part 0 (depth 1) never trains it.
    second_block = [name for name in parent_weights if name.startswith("stages.0.1.") and "bn._" not in name]
    assert second_block
    for name in second_block:
        np.testing.assert_array_equal(parts[0][name], parent_weights[name], err_msg=name)
    assert any(not np.array_equal(parts[1][name], parent_weights[name]) for name in second_block)


def test_running_again_skips_finished_parts(parent: Path, fewshot: Path) -> None:
    before = _tree(fewshot)
    assert train_fewshot(parent, "depth1", fewshot, epochs=1).outcomes == ["finished", "finished"]
    assert _tree(fewshot) == before


def test_a_stopped_run_resumes_to_the_uninterrupted_weights(parent: Path, fewshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "few"
    assert train_fewshot(parent, "depth1", out, 1, ["max_steps=2"]).outcomes == ["stopped early", "stopped early"]
    with pytest.raises(HnasError, match="has trained 0 of 1 epochs"):
        locate(out, None, allow_fewshot=True)
    assert train_fewshot(parent, "depth1", out, epochs=1).outcomes == ["resumed", "resumed"]
    for part in read_manifest(out).parts:
        expected, resumed = _weights(fewshot / part), _weights(out / part)
        for name in expected:
            np.testing.assert_array_equal(resumed[name], expected[name], err_msg=f"{part}: {name}")


def test_output_folders_that_hold_something_else_are_refused(parent: Path, fewshot: Path, tmp_path: Path) -> None:
    with pytest.raises(HnasError, match="--out"):
        plan_fewshot(parent, "depth1", parent / LAST, 1)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(HnasError, match="not a few-shot folder"):
        train_fewshot(parent, "depth1", other, 1)
    assert sorted(path.name for path in other.iterdir()) == ["notes.txt"]
    before = _tree(fewshot)
    with pytest.raises(HnasError, match="holds another few-shot run"):
        train_fewshot(parent, "depth2", fewshot, 1)
    with pytest.raises(HnasError, match="holds another few-shot run"):
        train_fewshot(parent, "depth1", fewshot, 2)
    assert _tree(fewshot) == before
    with pytest.raises(HnasError, match="has no slot 'depth7'"):
        plan_fewshot(parent, "depth7", tmp_path / "new", 1)
    with pytest.raises(HnasError, match="--epochs"):
        plan_fewshot(parent, "depth1", tmp_path / "new", 0)
    with pytest.raises(HnasError, match="no checkpoint|no such"):
        plan_fewshot(tmp_path / "missing", "depth1", tmp_path / "new", 1)


def test_few_shot_eval_scores_each_arch_with_its_parts_supernet(fewshot: Path, arch_file: Path, tmp_path: Path) -> None:
    assert main(["eval", str(arch_file), "--ckpt", str(fewshot), "--out", str(tmp_path / "few.json"), *EVAL]) == 0
    routed = json.loads((tmp_path / "few.json").read_text())
    space = read_manifest(fewshot).space
    manifest = read_manifest(fewshot)
    parts_used = set()
    for index, part in enumerate(manifest.parts):
        out = tmp_path / f"{part}.json"
        assert main(["eval", str(arch_file), "--ckpt", str(fewshot / part), "--out", str(out), *EVAL]) == 0
        alone = json.loads(out.read_text())
        for key, entry in routed.items():
            if manifest.split.part_of(space, space.decode(entry["arch"])) == index:
                parts_used.add(index)
                assert entry["acc"] == alone[key]["acc"], key
    assert parts_used == {0, 1}  # the 8 archs reach both parts


def test_search_and_export_take_one_part_not_the_folder(fewshot: Path, arch_file: Path, tmp_path: Path,
                                                         capsys) -> None:
    code = json.loads(arch_file.read_text())["arch1"]["arch"]
    assert main(["export", code, "--ckpt", str(fewshot), "--out", str(tmp_path / "export")]) == 2
    assert "few-shot folder" in capsys.readouterr().err
    assert main(["search", "--ckpt", str(fewshot), "--out", str(tmp_path / "search"), "--generations", "1"]) == 2
    assert "pass one part's folder here" in capsys.readouterr().err
    assert not (tmp_path / "export").exists() and not (tmp_path / "search").exists()


def test_the_command_line(parent: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "few"
    assert main(["fewshot", "train", str(parent), "--split", "depth1=1/2", "--out", str(out), "--dry-run",
                 "optim.lr=0.01"]) == 0
    printed = capsys.readouterr().out
    assert "ok: 2 parts" in printed and "part1_depth1-2" in printed and not out.exists()
    assert main(["fewshot", "train", str(parent), "--split", "depth1=1/3", "--out", str(out)]) == 2
    assert "value(s) [3] outside its domain" in capsys.readouterr().err
    assert main(["fewshot", "train", str(parent), "--split", "depth1", "--out", str(out), "optim.nope=1"]) == 2
    assert not out.exists()
    assert main(["fewshot", "train", str(parent), "--split", "depth1", "--out", str(out), "max_steps=1"]) == 0
    assert "2 stopped early" in capsys.readouterr().out


def test_few_shot_eval_with_shared_prefixes_equals_per_arch_eval(fewshot: Path, tmp_path: Path) -> None:
    from tests.prefix_archs import prefix_sharing_codes

    space = read_manifest(fewshot).space
    codes = prefix_sharing_codes(space, groups=4, per_group=3, singles=2, seed=1)
    assert {space.decode(code).depths[0] for code in codes} == {1, 2}  # both parts hold groups
    arch_file = tmp_path / "sharing.json"
    arch_file.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": code} for i, code in enumerate(codes, 1)}))
    outs = [tmp_path / "shared.json", tmp_path / "whole.json"]
    for out, extra in zip(outs, ([], ["--no-shared-prefix"])):
        assert main(["eval", str(arch_file), "--ckpt", str(fewshot), "--out", str(out), *EVAL, *extra]) == 0
    assert outs[0].read_bytes() == outs[1].read_bytes()
