"""A full disk (``ENOSPC`` injected into the write) in every writer: one ``hnas: error:`` line naming
the path, what is intact and how to continue, exit 2; the previous state stays usable."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import paddle
import pytest

from hnas.checkpoints.folder import LAST, read_meta
from hnas.cli import main
from hnas.evaluation.progress import progress_path
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import SPACES
from tests.commands.test_train_cli import TINY


def full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def one_error_line(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("hnas:")]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A tiny supernet's state dict, a config naming its space and an arch file of 4 codes."""
    folder = tmp_path_factory.mktemp("disk_full")
    paddle.seed(0)
    path = folder / "supernet.pdparams"
    paddle.save(SPACES.get("resnet48_tiny").build_supernet().state_dict(), str(path))
    config = folder / "space.yaml"
    config.write_text("space:\n  name: resnet48_tiny\n")
    archs = folder / "archs.json"
    codes = sample_codes(SPACES.get("resnet48_tiny"), 4, seed=1)
    archs.write_text(json.dumps({f"arch{i + 1}": {"acc": 0, "arch": code} for i, code in enumerate(codes)}))
    return path, config, archs


def test_a_checkpoint_save_on_a_full_disk(tmp_path: Path, capsys, monkeypatch) -> None:
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path), "max_steps=2"]) == 0
    before = read_meta(tmp_path / LAST)["progress"]["global_step"]
    capsys.readouterr()
    with monkeypatch.context() as patch:
        patch.setattr("hnas.engine.checkpoint.pickle.dump", full)
        assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path), "--resume", "max_steps=4"]) == 2
    line = one_error_line(capsys)  # the epoch ends at step 4: epoch_0001 is written first, then last
    assert line == (f"hnas: error: cannot write {tmp_path / 'epoch_0001'}: No space left on device; the checkpoints "
                    f"already in {tmp_path} (last) are intact; checkpoints in {tmp_path} are kept: add --resume "
                    "to continue")
    assert read_meta(tmp_path / LAST)["progress"]["global_step"] == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [LAST]  # no temp folder left
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path), "--resume", "max_steps=4"]) == 0
    assert read_meta(tmp_path / LAST)["progress"]["global_step"] == 4


def test_training_refuses_to_start_without_room_for_a_checkpoint(tmp_path: Path, capsys, monkeypatch) -> None:
    import shutil

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr("hnas.checkpoints.folder.shutil.disk_usage",
                        lambda path: usage._replace(free=1000))
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path / "run"), "max_steps=2"]) == 2
    line = one_error_line(capsys)
    assert f"checkpoint.dir {tmp_path / 'run'}: 1000 B free, but a checkpoint needs about" in line
    assert "a save writes 2" in line and not (tmp_path / "run" / LAST).exists()


FAST = ["--val-images", "24", "--batch-size", "16", "--recal-batches", "1", "--recal-batch-size", "8"]


def test_an_eval_progress_append_on_a_full_disk(weights, tmp_path: Path, capsys, monkeypatch) -> None:
    path, config, archs = weights
    out = tmp_path / "submit.json"
    command = ["eval", str(archs), "--ckpt", str(path), "--config", str(config), "--out", str(out), *FAST]
    assert main([*command, "--max-archs", "2"]) == 0
    progress = progress_path(out)
    kept = progress.read_bytes()
    capsys.readouterr()
    real_write = os.write

    def write(fd, data):
        if b'"key"' in data:
            real_write(fd, data[:5])  # part of a record, then the disk is full
            full()
        return real_write(fd, data)

    with monkeypatch.context() as patch:
        patch.setattr("hnas.evaluation.progress.os.write", write)
        assert main(command) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"hnas: error: cannot write {progress}: No space left on device")
    assert "the results already in it are intact" in line and "run the same command again to resume" in line
    assert progress.read_bytes() == kept and not out.exists()
    assert main(command) == 0
    assert len(json.loads(out.read_text())) == 4


def test_a_search_state_write_on_a_full_disk(weights, tmp_path: Path, capsys, monkeypatch) -> None:
    path, config, _ = weights
    out = tmp_path / "search"
    command = ["search", "--ckpt", str(path), "--config", str(config), "--out", str(out), "--population", "4",
               "--top-k", "2", "--mutations", "2", "--crossovers", "2", "--val-images", "16",
               "--recal-batches", "0", "--batch-size", "16", "--generations", "3"]
    calls = []
    real_fsync = os.fsync

    def fsync(fd):  # the state of generation 0 is written, the disk is full at generation 1
        calls.append(fd)
        return real_fsync(fd) if len(calls) == 1 else full()

    with monkeypatch.context() as patch:
        patch.setattr("hnas.io.atomic.os.fsync", fsync)
        assert main(command) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"hnas: error: cannot write {out / 'state.json'}: No space left on device")
    assert "the previous state.json is unchanged" in line and "run the same command again to resume" in line
    assert json.loads((out / "state.json").read_text())["generations_done"] == 1
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert main(command) == 0
    assert json.loads((out / "state.json").read_text())["generations_done"] == 3


def test_an_export_on_a_full_disk(weights, tmp_path: Path, capsys, monkeypatch) -> None:
    path, config, archs = weights
    code = json.loads(archs.read_text())["arch1"]["arch"]
    out = tmp_path / "export"
    command = ["export", code, "--ckpt", str(path), "--config", str(config), "--out", str(out)]
    assert main(command) == 0
    kept = (out / "subnet.json").read_text()
    capsys.readouterr()
    with monkeypatch.context() as patch:
        patch.setattr("hnas.export.paddle.jit.save", full)
        assert main([*command, "--force"]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"hnas: error: cannot write {out}: No space left on device")
    assert f"the previous export {out} is untouched" in line and "run the same command again" in line
    assert (out / "subnet.json").read_text() == kept and (out / "inference").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_an_export_folder_gets_the_mode_of_a_plain_folder(weights, tmp_path: Path) -> None:
    path, config, archs = weights
    code = json.loads(archs.read_text())["arch1"]["arch"]
    previous = os.umask(0o022)
    try:
        assert main(["export", code, "--ckpt", str(path), "--config", str(config), "--out",
                     str(tmp_path / "export")]) == 0
    finally:
        os.umask(previous)
    assert (tmp_path / "export").stat().st_mode & 0o777 == 0o755
