from __future__ import annotations

import json
from pathlib import Path

import paddle
import pytest

from hnas.cli import main
from hnas.nn.state_dict import add_data_parallel
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import SPACES

FAST = ["--val-images", "24", "--batch-size", "16", "--recal-batches", "1", "--recal-batch-size", "8"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A state-dict file of a tiny supernet and a 5-arch competition-format file."""
    folder = tmp_path_factory.mktemp("eval")
    paddle.seed(0)
    space = SPACES.get("resnet48_tiny")
    weights = folder / "supernet.pdparams"
    paddle.save(space.build_supernet().state_dict(), str(weights))
    codes = sample_codes(space, 5, seed=1, distribution="competition")
    arch_file = folder / "test.json"
    arch_file.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": c} for i, c in enumerate(codes, start=1)}))
    return weights, arch_file


def evaluate(setup, out: Path, *extra: str) -> int:
    weights, arch_file = setup
    return main(["eval", str(arch_file), "--ckpt", str(weights), "--out", str(out), *FAST, *extra])


@pytest.fixture(scope="module")
def reference(setup, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted whole-file run."""
    out = tmp_path_factory.mktemp("reference") / "submit_results.json"
    assert evaluate(setup, out) == 0
    return out


def test_the_submission_has_the_input_layout_with_top1_fractions(setup, reference: Path) -> None:
    submission = json.loads(reference.read_text())
    original = json.loads(setup[1].read_text())
    assert list(submission) == list(original)
    for key, entry in submission.items():
        assert set(entry) == {"acc", "arch"} and entry["arch"] == original[key]["arch"]
        assert 0.0 <= entry["acc"] <= 1.0 and (entry["acc"] * 24) == pytest.approx(round(entry["acc"] * 24))
    assert main(["validate", str(reference)]) == 0


def test_a_stopped_run_resumes_to_an_identical_submission(setup, reference: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "submit.json"
    assert evaluate(setup, out, "--max-archs", "2") == 0
    assert not out.exists() and "stopped with 2 of 5" in capsys.readouterr().out
    assert evaluate(setup, out) == 0
    assert "3 archs" in capsys.readouterr().out
    assert out.read_bytes() == reference.read_bytes()


def test_shards_merge_into_the_same_submission(setup, reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "submit.json"
    for index in range(2):
        assert evaluate(setup, out, "--shard", f"{index}/2") == 0
    parts = [tmp_path / f"submit_part{i}of2.json" for i in range(2)]
    progress_files = {p.name for p in tmp_path.glob("*.progress.jsonl")}
    assert progress_files == {"submit_part0of2.progress.jsonl", "submit_part1of2.progress.jsonl"}
    assert main(["merge", *map(str, parts), "--against", str(setup[1]), "--out", str(out)]) == 0
    assert out.read_bytes() == reference.read_bytes()


def test_changed_settings_are_refused_on_resume(setup, tmp_path: Path, capsys) -> None:
    out = tmp_path / "submit.json"
    assert evaluate(setup, out, "--max-archs", "1") == 0
    assert evaluate(setup, out, "--seed", "1") == 2
    assert "other settings (seed: 0 then, 1 now)" in capsys.readouterr().err


CODE = "1252233313000000223212122253130000000000006515000000"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"arch1": {"acc": 0.0, "arch": "' + CODE + '"}, "arch2": {"acc"', "looks truncated"),
        ('{"arch1": {"acc": 0.0, "arch": "' + CODE[:-1] + '"}}', "length 51, expected 52"),
        ('{"arch1": {"acc": 0.0, "arch": "' + CODE[:5] + "8" + CODE[6:] + '"}}', "position 5"),
        ("", "file is empty"),
    ],
    ids=["truncated", "wrong_length", "code_8", "empty"],
)
def test_bad_input_exits_2_and_touches_nothing(setup, tmp_path: Path, capsys, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "out" / "submit.json"
    out.parent.mkdir()
    out.write_text("OLD")
    # --force: even when the old file may be replaced, bad input leaves it as it was
    assert main(["eval", str(bad), "--ckpt", str(setup[0]), "--out", str(out), "--force", *FAST]) == 2
    assert message in capsys.readouterr().err
    assert out.read_text() == "OLD" and sorted(p.name for p in out.parent.iterdir()) == ["submit.json"]


def test_checkpoint_mismatch_is_explained(setup, tmp_path: Path, capsys) -> None:
    state = paddle.load(str(setup[0]))
    del state["fc.weight"]
    broken = tmp_path / "broken.pdparams"
    paddle.save(state, str(broken))
    out = tmp_path / "submit.json"
    assert main(["eval", str(setup[1]), "--ckpt", str(broken), "--out", str(out), *FAST]) == 2
    assert "1 missing key(s), first: fc.weight" in capsys.readouterr().err
    assert not out.exists()


def test_a_data_parallel_checkpoint_is_converted(setup, reference: Path, tmp_path: Path) -> None:
    multi = tmp_path / "multi.pdparams"
    paddle.save(add_data_parallel(paddle.load(str(setup[0]))), str(multi))
    out = tmp_path / "submit.json"
    assert main(["eval", str(setup[1]), "--ckpt", str(multi), "--out", str(out), *FAST]) == 0
    assert out.read_bytes() == reference.read_bytes()


def test_a_training_checkpoint_directory_is_read_like_its_weights_file(setup, reference: Path, tmp_path: Path) -> None:
    from hnas.checkpoints import folder as checkpoint
    from hnas.config import save_config
    from hnas.train_config import TrainConfig

    folder = tmp_path / "run" / checkpoint.LAST
    folder.mkdir(parents=True)
    (folder / checkpoint.MODEL_FILE).write_bytes(setup[0].read_bytes())
    for name in (checkpoint.OPTIMIZER_FILE, checkpoint.STATE_FILE):
        (folder / name).write_bytes(b"")  # not read by evaluation
    meta = {"space_name": "resnet48_tiny", "space": SPACES.get("resnet48_tiny").fields()}
    (folder / checkpoint.META_FILE).write_text(json.dumps(meta))
    save_config(TrainConfig(), folder / checkpoint.CONFIG_FILE)
    out = tmp_path / "submit.json"
    assert main(["eval", str(setup[1]), "--ckpt", str(tmp_path / "run"), "--out", str(out), *FAST]) == 0
    assert out.read_bytes() == reference.read_bytes()


def test_help_names_the_training_output_folder(capsys) -> None:
    from hnas.train_config import TrainConfig

    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    assert f"else {TrainConfig().checkpoint.dir}" in " ".join(capsys.readouterr().out.split())


def test_help_names_the_switch_back_to_per_arch_evaluation(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    assert "--no-shared-prefix" in capsys.readouterr().out


def test_no_shared_prefix_gives_the_same_submission(setup, reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "whole.json"
    assert evaluate(setup, out, "--no-shared-prefix") == 0
    assert out.read_bytes() == reference.read_bytes()
