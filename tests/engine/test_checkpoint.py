"""Tests of hnas/engine/checkpoint.py and hnas/checkpoints/folder.py: round trip, atomic writes, mismatches."""

from __future__ import annotations

import dataclasses
import json
import os
import random

import numpy as np
import paddle
import pytest

from hnas.checkpoints.folder import LAST, CheckpointMismatchError, prune_checkpoints, resolve_checkpoint
from hnas.engine.checkpoint import (
    NonFiniteStateError,
    Progress,
    TrainingState,
    load_checkpoint,
    save_checkpoint,
)
from hnas.errors import WriteError
from hnas.nn.optim import WarmupCosine, build_optimizer
from hnas.samplers import SandwichSampler


def _state(space, progress: Progress = Progress()) -> TrainingState:
    network = space.build_supernet()
    scheduler = WarmupCosine(0.1, warmup_steps=2, total_steps=10)
    optimizer = build_optimizer(network, scheduler, momentum=0.9, weight_decay=1e-4)
    sampler = SandwichSampler(space, seed=3, num_random=1)
    return TrainingState(network, optimizer, scheduler, sampler, space, progress)


def _train_one_step(state: TrainingState) -> None:
    images = paddle.randn([4, state.space.in_channels, 16, 16])
    state.network(images).mean().backward()
    state.optimizer.step()
    state.optimizer.clear_grad(set_to_zero=False)
    state.scheduler.step()


def test_round_trip_restores_weights_optimizer_scheduler_and_rng(tmp_path, tiny_space) -> None:
    source = _state(tiny_space, Progress(epoch=1, step_in_epoch=2, global_step=6))
    for _ in range(3):
        _train_one_step(source)
    written = save_checkpoint(tmp_path, ["epoch_0001", LAST], source, "seed: 0\n", {"note": "x"})
    assert [path.name for path in written] == ["epoch_0001", LAST]
    expected_random = (random.random(), np.random.rand(), paddle.rand([1]).item())

    # A second model in the same process gets other auto-generated parameter names.
    target = _state(tiny_space)
    assert [p.name for p in target.network.parameters()] != [p.name for p in source.network.parameters()]
    progress = load_checkpoint(tmp_path, target)
    assert progress == Progress(epoch=1, step_in_epoch=2, global_step=6) == target.progress
    assert (random.random(), np.random.rand(), paddle.rand([1]).item()) == expected_random
    for (name, a), b in zip(source.network.state_dict().items(), target.network.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert target.scheduler.last_epoch == source.scheduler.last_epoch == 3
    # Identical momentum buffers: one more identical step keeps the weights identical.
    paddle.seed(5)
    _train_one_step(source)
    paddle.seed(5)
    _train_one_step(target)
    for a, b in zip(source.network.parameters(), target.network.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    meta = json.loads((tmp_path / LAST / "meta.json").read_text())
    assert meta["space_name"] == "tiny" and meta["note"] == "x" and meta["progress"]["global_step"] == 6
    assert (tmp_path / LAST / "config.yaml").read_text() == "seed: 0\n"


def test_other_space_is_rejected_naming_the_fields_and_nothing_is_loaded(tmp_path, tiny_space) -> None:
    save_checkpoint(tmp_path, [LAST], _state(tiny_space), "")
    other_space = dataclasses.replace(tiny_space, name="tiny_wide", base_channels=(8, 12))
    target = _state(other_space)
    before = [p.numpy().copy() for p in target.network.parameters()]
    with pytest.raises(CheckpointMismatchError, match=r"base_channels: checkpoint \[8, 8\] vs config \[8, 12\]"):
        load_checkpoint(tmp_path, target)
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(before, target.network.parameters()))


def test_replacing_a_checkpoint_is_atomic(tmp_path, tiny_space, monkeypatch) -> None:
    state = _state(tiny_space, Progress(global_step=1))
    save_checkpoint(tmp_path, [LAST], state, "first\n")
    failing = dataclasses.replace(state, progress=Progress(global_step=2))

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("hnas.engine.checkpoint.pickle.dump", broken_dump)
    with pytest.raises(WriteError, match="disk full; the previous checkpoint .*last is intact"):
        save_checkpoint(tmp_path, [LAST], failing, "second\n")
    assert (tmp_path / LAST / "config.yaml").read_text() == "first\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [LAST]  # no temp dirs left behind


def test_non_finite_weights_are_never_written(tmp_path, tiny_space) -> None:
    state = _state(tiny_space)
    save_checkpoint(tmp_path, [LAST], state, "good\n")
    state.network.fc.bias.set_value(paddle.full_like(state.network.fc.bias, float("nan")))
    with pytest.raises(NonFiniteStateError, match="NaN or inf"):
        save_checkpoint(tmp_path, [LAST], state, "bad\n")
    assert (tmp_path / LAST / "config.yaml").read_text() == "good\n"


def test_resolve_finds_the_backup_of_an_interrupted_replacement(tmp_path, tiny_space) -> None:
    save_checkpoint(tmp_path, [LAST], _state(tiny_space), "")
    backup = tmp_path / f".{LAST}.old-123"
    (tmp_path / LAST).rename(backup)
    assert resolve_checkpoint(tmp_path) == backup
    with pytest.raises(CheckpointMismatchError, match="no checkpoint found"):
        resolve_checkpoint(tmp_path / "missing")


def test_prune_keeps_the_newest_epochs(tmp_path) -> None:
    for epoch in (1, 2, 3, 10):
        (tmp_path / f"epoch_{epoch:04d}").mkdir()
    (tmp_path / LAST).mkdir()
    removed = prune_checkpoints(tmp_path, "epoch", keep=2)
    assert [path.name for path in removed] == ["epoch_0001", "epoch_0002"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["epoch_0003", "epoch_0010", LAST]


def test_checkpoint_directories_follow_the_umask(tmp_path, tiny_space) -> None:
    (written,) = save_checkpoint(tmp_path, [LAST], _state(tiny_space), "")
    mask = os.umask(0)
    os.umask(mask)
    assert written.stat().st_mode & 0o777 == 0o777 & ~mask
