"""Truncated checkpoints, config drift on resume, orphaned temporary folders, honest stop messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from hnas.checkpoints.folder import LAST, MODEL_FILE, OPTIMIZER_FILE, read_meta
from hnas.cli import main
from tests.commands.test_train_cli import TINY


def train(ckpt: Path, *extra: str) -> int:
    return main(["train", *TINY, "--checkpoint.dir", str(ckpt), *extra])


@pytest.fixture
def two_epochs(tmp_path: Path) -> Path:
    ckpt = tmp_path / "ckpt"
    assert train(ckpt, "--epochs", "2") == 0
    return ckpt


@pytest.mark.parametrize("name", [MODEL_FILE, OPTIMIZER_FILE])
def test_a_truncated_checkpoint_is_a_clear_error_and_intact_resume_works(two_epochs: Path, capsys, name) -> None:
    target = two_epochs / LAST / name
    target.write_bytes(target.read_bytes()[: len(target.read_bytes()) // 3])
    capsys.readouterr()
    assert train(two_epochs, "--epochs", "3", "--resume", "--allow-config-change") == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("hnas: error: checkpoint ") and "truncated or corrupt" in err and "--resume-from" in err
    assert "Traceback" not in err
    # last and epoch_0002 hold the same state; last is broken, so the newest intact one is epoch_0002
    assert train(two_epochs, "--epochs", "3", "--resume-from", "intact", "--allow-config-change") == 0
    assert read_meta(two_epochs / LAST)["progress"]["epoch"] == 3


def test_resume_from_a_named_epoch(two_epochs: Path) -> None:
    assert train(two_epochs, "--epochs", "2", "--resume-from", "epoch_0001") == 0
    assert read_meta(two_epochs / LAST)["progress"] == read_meta(two_epochs / "epoch_0002")["progress"]


@pytest.mark.parametrize("change, key", [
    (["--epochs", "3"], "epochs: checkpoint 1, now 3"),
    (["--optim.lr", "0.5"], "optim.lr: checkpoint"),
    (["--seed", "4"], "seed: checkpoint 0, now 4"),
    (["--data.batch_size", "8"], "data.batch_size: checkpoint 16, now 8"),
])
def test_resume_refuses_a_changed_config_listing_the_keys(tmp_path: Path, capsys, change, key) -> None:
    ckpt = tmp_path / "ckpt"
    assert train(ckpt, "max_steps=2") == 0
    stored = (ckpt / LAST / "config.yaml").read_text()
    capsys.readouterr()
    assert train(ckpt, "--resume", *change) == 2
    err = capsys.readouterr().err
    assert key in err and "--allow-config-change" in err
    assert (ckpt / LAST / "config.yaml").read_text() == stored
    assert train(ckpt, "--resume") == 0  # max_steps may change: it is not a training setting


def test_an_allowed_config_change_is_stored_and_the_lr_follows_the_new_schedule(tmp_path: Path) -> None:
    from hnas.engine.trainer import _build_run
    from tests.engine.tiny import tiny_config

    ckpt = tmp_path / "ckpt"
    assert train(ckpt) == 0  # a finished 1-epoch run: its stored LR is the end of the cosine, 0.0
    old = (ckpt / LAST / "config.yaml").read_text()
    assert train(ckpt, "--epochs", "2", "--resume", "max_steps=5") == 2  # refused without the flag
    run = _build_run(tiny_config(ckpt, "epochs=3", "data.batch_size=16"), True, ckpt)
    scheduler = run.state.scheduler
    assert scheduler.last_epoch == 4 and scheduler.last_lr == scheduler.get_lr() > 0.0
    assert train(ckpt, "--epochs", "2", "--resume", "--allow-config-change") == 0
    resumed = (ckpt / "config.resumed-1.yaml").read_text()
    assert "# changed: epochs: checkpoint 1, now 2" in resumed and "\nepochs: 2\n" in resumed
    assert (ckpt / "epoch_0001" / "config.yaml").read_text() == old
    assert read_meta(ckpt / LAST)["progress"]["epoch"] == 2


def test_orphaned_temporary_folders_are_removed_at_the_next_start(two_epochs: Path) -> None:
    orphan = two_epochs / ".last.tmp-abc123"
    orphan.mkdir()
    (orphan / MODEL_FILE).write_bytes(b"half")
    assert train(two_epochs, "--epochs", "2", "--resume") == 0
    assert not orphan.exists()


def test_nan_refusal_without_an_earlier_checkpoint_says_so(tmp_path: Path, capsys) -> None:
    import paddle

    from hnas.engine.checkpoint import NonFiniteStateError, save_checkpoint

    layer = paddle.nn.Linear(2, 2)
    layer.weight.set_value(paddle.full([2, 2], float("nan")))

    class State:
        network = layer

    with pytest.raises(NonFiniteStateError, match="no earlier checkpoint exists"):
        save_checkpoint(tmp_path, [LAST], State(), "")
