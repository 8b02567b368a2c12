"""The output rule (hnas/io/outputs.py) across commands: never an input, checked before any work,
an existing file only with --force, filesystem errors as `hnas: error:` with exit 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hnas.cli import main
from tests.commands.test_train_cli import TINY

CODES = ["1558511111111111111111111111111111111111111111111111", "1252233313000000223212122253130000000000006515000000"]


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (as root: /sys, a read-only filesystem)."""
    if os.geteuid() == 0:
        if not Path("/sys").is_dir():
            pytest.skip("no read-only folder available for root")
        return Path("/sys")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


@pytest.fixture
def arch_file(tmp_path: Path) -> Path:
    path = tmp_path / "archs.json"
    path.write_text(json.dumps({f"arch{i}": {"acc": 0.1 * (i + 1), "arch": code} for i, code in enumerate(CODES)}))
    return path


def commands(arch_file: Path, out: Path) -> dict[str, list[str]]:
    """Every Paddle-free writer, writing to ``out`` (plots to ``out`` with a .png suffix)."""
    aliased = out.is_dir() or (out.exists() and os.path.samefile(out, arch_file))
    png = out if aliased else out.with_suffix(".png")
    return {
        "flops": ["flops", "--json", str(arch_file), "--out", str(out)],
        "prior": ["prior", "depth", "--json", str(arch_file), "--out", str(out)],
        "score": ["score", str(arch_file), str(arch_file), "--json", str(out)],
        "score-plot": ["score", str(arch_file), str(arch_file), "--plot", str(png)],
        "score-ranks": ["score", str(arch_file), str(arch_file), "--plot-ranks", str(png)],
        "merge": ["merge", str(arch_file), "--out", str(out)],
        "sample-archs": ["sample-archs", "--n", "2", "--from", str(arch_file), "--out", str(out)],
    }


NAMES = ["flops", "prior", "score", "score-plot", "score-ranks", "merge", "sample-archs"]


@pytest.mark.parametrize("name", NAMES)
def test_no_writer_replaces_its_input_even_with_force(arch_file: Path, capsys, name: str) -> None:
    before = arch_file.read_bytes()
    argv = commands(arch_file, arch_file)[name]
    assert main([*argv, "--force"]) == 2
    assert "refusing to overwrite the input" in capsys.readouterr().err
    assert arch_file.read_bytes() == before


@pytest.mark.parametrize("name", NAMES)
def test_the_same_file_through_a_link_is_an_input_too(arch_file: Path, tmp_path: Path, capsys, name: str) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(arch_file)
    hard = tmp_path / "hard.json"
    os.link(arch_file, hard)
    before = arch_file.read_bytes()
    for alias in (link, hard, tmp_path / "." / "archs.json"):
        assert main([*commands(arch_file, alias)[name], "--force"]) == 2
        assert "refusing to overwrite the input" in capsys.readouterr().err
    assert arch_file.read_bytes() == before


@pytest.mark.parametrize("name", NAMES)
def test_an_existing_output_needs_force(arch_file: Path, tmp_path: Path, capsys, name: str) -> None:
    out = tmp_path / "out.json"
    out.write_text("OLD")
    out.with_suffix(".png").write_text("OLD")
    written = out.with_suffix(".png") if name.startswith("score-") else out
    assert main(commands(arch_file, out)[name]) == 2
    assert "exists; pass --force to replace it" in capsys.readouterr().err and written.read_text() == "OLD"
    assert main([*commands(arch_file, out)[name], "--force"]) == 0
    assert written.read_bytes() != b"OLD"


def test_a_plot_with_an_unknown_image_format_is_refused_up_front(arch_file: Path, tmp_path: Path, capsys) -> None:
    assert main(["score", str(arch_file), str(arch_file), "--plot", str(tmp_path / "p.json")]) == 2
    assert "image format" in capsys.readouterr().err and not (tmp_path / "p.json").exists()


@pytest.mark.parametrize("name", NAMES)
def test_bad_output_paths_are_usage_errors(arch_file: Path, tmp_path: Path, capsys, name: str) -> None:
    (tmp_path / "a_file").write_text("x")
    cases = {
        tmp_path / "missing" / "out.json": "does not exist",
        tmp_path: "is a folder",
        tmp_path / "a_file" / "out.json": "is a file, not a folder",
        unwritable_folder(tmp_path) / "out.json": "cannot write into folder",
    }
    for out, message in cases.items():
        assert main([*commands(arch_file, out)[name], "--force"]) == 2, out
        err = capsys.readouterr().err
        assert err.startswith("hnas: error:") and message in err, err
    assert not (tmp_path / "missing").exists()


def test_eval_checks_its_output_before_loading_anything(arch_file: Path, tmp_path: Path, capsys) -> None:
    # the checkpoint does not even exist: the output is refused first, before any work
    for out, message in ((arch_file, "refusing to overwrite the input"), (tmp_path, "is a folder"),
                         (tmp_path / "nope" / "s.json", "does not exist")):
        for extra in ([], ["--dry-run"]):
            assert main(["eval", str(arch_file), "--ckpt", str(tmp_path / "none"), "--out", str(out), *extra]) == 2
            assert message in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--max-archs", "-1"], "--max-archs must be >= 1"),
])
def test_eval_refuses_negative_options(arch_file: Path, tmp_path: Path, capsys, extra, message) -> None:
    assert main(["eval", str(arch_file), "--out", str(tmp_path / "s.json"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_train_checks_checkpoint_dir_before_training(tmp_path: Path, capsys) -> None:
    (tmp_path / "a_file").write_text("x")
    for folder, message in ((tmp_path / "a_file", "is a file, not a folder"),
                            (unwritable_folder(tmp_path) / "ckpt", "cannot write into folder")):
        assert main(["train", *TINY, "--checkpoint.dir", str(folder)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("hnas: error: ") and message in err and "training" not in err


def test_split_refuses_to_write_over_its_input(arch_file: Path, tmp_path: Path, capsys) -> None:
    part = tmp_path / "archs_part0of1.json"
    os.link(arch_file, part)  # the part file it would write is the input itself
    assert main(["split", str(arch_file), "--parts", "1", "--out", str(tmp_path), "--force"]) == 2
    assert "refusing to overwrite the input" in capsys.readouterr().err
