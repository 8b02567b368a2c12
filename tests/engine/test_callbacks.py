"""Tests of hnas/engine/callbacks.py: evaluation leaves the model as it was, logging helpers."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import paddle
import pytest

from hnas.engine.callbacks import MaxSteps, ProgressLogger, SubnetEvaluator, _Batches, format_duration
from hnas.engine.checkpoint import Progress
from hnas.nn.accuracy import measure_accuracy


def _batches(space, count: int = 2, size: int = 8) -> list[tuple[paddle.Tensor, paddle.Tensor]]:
    rng = np.random.default_rng(0)
    return [
        (paddle.to_tensor(rng.standard_normal((size, space.in_channels, 16, 16)).astype("float32")),
         paddle.to_tensor(rng.integers(0, space.num_classes, size).astype("int64")))
        for _ in range(count)
    ]


def test_top1_accuracy_counts_correct_predictions() -> None:
    network = paddle.nn.Identity()
    logits = paddle.to_tensor([[0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    assert measure_accuracy(network, [(logits, paddle.to_tensor([1, 0, 0]))]).top1 == pytest.approx(2 / 3)
    assert measure_accuracy(network, [(logits, paddle.to_tensor([[1], [0], [1]]))]).top1 == 1.0
    limited = _Batches(lambda: [(logits, paddle.to_tensor([0, 0, 0]))] * 3, limit=1)
    assert measure_accuracy(network, limited).top1 == pytest.approx(1 / 3)
    assert len(list(limited)) == 1 and len(list(_Batches(lambda: [1, 2, 3]))) == 3


def test_evaluator_restores_bn_statistics_mode_and_active_subnet(tiny_space) -> None:
    supernet = tiny_space.build_supernet()
    supernet.train()
    batches = _batches(tiny_space)
    for images, _ in batches:  # non-trivial running statistics
        supernet(images)
    supernet.apply(tiny_space.min_spec())
    before = {name: tensor.numpy().copy() for name, tensor in supernet.state_dict().items()}
    evaluator = SubnetEvaluator(
        {"max": tiny_space.max_spec(), "min": tiny_space.min_spec()},
        val_batches=lambda: batches,
        epochs=3,
        every_epochs=2,
        recal_batches=lambda: batches,
        recal_count=2,
    )
    evaluator.set_model(SimpleNamespace(network=supernet))
    logs: dict[str, float] = {}
    evaluator.on_epoch_end(0, logs)
    assert logs == {} and evaluator.history == []  # epoch 1 of 3 is not due with every_epochs=2
    evaluator.on_epoch_end(1, logs)
    evaluator.on_epoch_end(2, logs)  # the last epoch is always evaluated
    assert [entry["epoch"] for entry in evaluator.history] == [2, 3]
    assert set(logs) == {"val/max_acc", "val/min_acc"} and all(0 <= value <= 1 for value in logs.values())
    after = supernet.state_dict()
    assert all(np.array_equal(before[name], after[name].numpy()) for name in before)
    assert supernet.training and supernet.active_spec == tiny_space.min_spec()


def test_max_steps_stops_the_model() -> None:
    model = SimpleNamespace(progress=Progress(global_step=4), stop_training=False)
    callback = MaxSteps(5)
    callback.set_model(model)
    callback.on_train_batch_end(3)
    assert not model.stop_training
    model.progress = Progress(global_step=5)
    callback.on_train_batch_end(4)
    assert model.stop_training


def test_progress_logger_reports_terms_and_eta(caplog) -> None:
    model = SimpleNamespace(progress=Progress(epoch=0, step_in_epoch=0, global_step=0))
    callback = ProgressLogger(every_steps=2, total_steps=8, steps_per_epoch=4, epochs=2)
    callback.set_model(model)
    with caplog.at_level(logging.INFO, logger="hnas.engine.callbacks"):
        callback.on_train_begin()
        model.progress = Progress(epoch=0, step_in_epoch=2, global_step=2)
        callback.on_train_batch_end(1, {"train/teacher/ce": 1.5, "train/lr": 0.1, "step": 1})
    line = caplog.messages[-1]
    assert line.startswith("epoch 1/2 step 2/4 | teacher/ce=1.5000 lr=0.1000 |") and "ETA" in line


@pytest.mark.parametrize("seconds, text", [(4.2, "4s"), (65, "1m05s"), (3725, "1h02m05s"), (float("nan"), "?")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
