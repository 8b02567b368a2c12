"""Tests of hnas/engine/ema.py and ``loss.teacher: ema`` (DS-Net's in-place bootstrapping)."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from hnas.checkpoints.folder import AVERAGE_FILE, LAST, MODEL_FILE
from hnas.config import ConfigError
from hnas.engine.ema import WeightAverage
from hnas.engine.step import Objective, SupernetStep
from hnas.engine.trainer import train
from hnas.losses import InplaceKDLoss
from hnas.nn.optim import build_optimizer
from hnas.samplers.base import SampledNet
from tests.engine.test_step import _batch
from tests.engine.tiny import FixedSampler, tiny_config


def _numpy(state) -> dict[str, np.ndarray]:
    return {name: tensor.numpy().copy() for name, tensor in state.items()}


def _trainable(supernet) -> set[str]:
    return {name for name, param in supernet.named_parameters() if not param.stop_gradient}


def test_update_averages_the_weights_and_copies_the_bn_statistics(tiny_space) -> None:
    supernet = tiny_space.build_supernet()
    average = WeightAverage(supernet, tiny_space, decay=0.9)
    old = _numpy(supernet.state_dict())
    with paddle.no_grad():
        for tensor in supernet.state_dict().values():
            tensor.set_value(tensor + 1.0)  # weights and BN running statistics alike
    average.update(supernet)
    got, live = _numpy(average.state_dict()), _numpy(supernet.state_dict())
    trainable = _trainable(supernet)
    assert trainable and any(name.endswith("_mean") for name in got)  # both kinds are present
    for name in got:
        expected = 0.9 * old[name] + 0.1 * live[name] if name in trainable else live[name]
        np.testing.assert_allclose(got[name], expected, rtol=1e-6, atol=1e-6, err_msg=name)


def test_decay_outside_the_unit_interval_is_refused(tiny_space) -> None:
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(tiny_space.build_supernet(), tiny_space, decay=1.0)


class RecordingKD(InplaceKDLoss):
    """In-place KD that keeps the targets it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[np.ndarray] = []

    def forward(self, student_logits, teacher_logits):
        self.targets.append(teacher_logits.numpy().copy())
        return super().forward(student_logits, teacher_logits)


def test_students_learn_from_the_average_not_from_the_live_teacher(tiny_space) -> None:
    paddle.seed(0)
    supernet = tiny_space.build_supernet()
    average = WeightAverage(supernet, tiny_space, decay=0.5)
    paddle.seed(1)
    average.set_state_dict(tiny_space.build_supernet().state_dict())  # an average unlike the live net
    big, small = tiny_space.max_spec(), tiny_space.min_spec()
    distill = RecordingKD()
    optimizer = build_optimizer(supernet, learning_rate=0.1, momentum=0.9, weight_decay=0.0)
    step = SupernetStep(supernet, FixedSampler(tiny_space, [SampledNet(big, "teacher"), SampledNet(small, "student")]),
                        optimizer, Objective(distill=distill), average=average)
    images, labels = _batch(tiny_space)
    before = _numpy(average.state_dict())
    average.net.train()
    average.net.apply(big)
    with paddle.no_grad():
        expected = average.net(images).numpy()
    average.set_state_dict({name: paddle.to_tensor(value) for name, value in before.items()})
    supernet.train()
    supernet.apply(big)
    with paddle.no_grad():
        live = supernet(images).numpy()
    live_state = _numpy(supernet.state_dict())

    step(images, labels, step=0, epoch=0)
    np.testing.assert_allclose(distill.targets[0], expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(distill.targets[0], live, atol=1e-3)
    # after the update: average = 0.5 * average + 0.5 * updated live weights
    updated = _numpy(supernet.state_dict())
    assert any(not np.array_equal(updated[name], live_state[name]) for name in _trainable(supernet))
    after = _numpy(average.state_dict())
    for name in _trainable(supernet):
        np.testing.assert_allclose(after[name], 0.5 * before[name] + 0.5 * updated[name], rtol=1e-5, atol=1e-6)


def test_an_ema_run_resumes_exactly_and_differs_from_in_place_distillation(tmp_path) -> None:
    ema = ("loss.teacher=ema", "loss.ema_decay=0.5")
    whole = train(tiny_config(tmp_path / "whole", *ema))
    train(tiny_config(tmp_path / "split", *ema, "max_steps=3"))
    resumed = train(tiny_config(tmp_path / "split", *ema), resume=True)
    assert resumed.progress == whole.progress
    for file in (MODEL_FILE, AVERAGE_FILE):
        expected = paddle.load(str(tmp_path / "whole" / LAST / file))
        got = paddle.load(str(tmp_path / "split" / LAST / file))
        assert expected.keys() == got.keys()
        for name in expected:
            np.testing.assert_array_equal(got[name].numpy(), expected[name].numpy(), err_msg=f"{file}:{name}")
    train(tiny_config(tmp_path / "inplace"))
    assert not (tmp_path / "inplace" / LAST / AVERAGE_FILE).exists()
    inplace = paddle.load(str(tmp_path / "inplace" / LAST / MODEL_FILE))
    ema_weights = paddle.load(str(tmp_path / "whole" / LAST / MODEL_FILE))
    assert any(not np.array_equal(inplace[name].numpy(), ema_weights[name].numpy()) for name in inplace)


@pytest.mark.parametrize("override, message", [("loss.teacher=moving", "teacher must be one of inplace, ema"),
                                               ("loss.ema_decay=1.0", r"ema_decay must lie in \(0, 1\)")])
def test_bad_teacher_settings_name_the_key(tmp_path, override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        tiny_config(tmp_path, override)


def test_eval_and_export_can_use_the_average(tmp_path, capsys) -> None:
    import json as json_module

    from hnas.checkpoints.folder import AVERAGE_FILE as EMA
    from hnas.checkpoints.source import load_supernet, locate
    from hnas.cli import main
    from tests.engine.tiny import TINY_SPACE

    train(tiny_config(tmp_path / "ema", "loss.teacher=ema", "loss.ema_decay=0.5", "max_steps=2"))
    train(tiny_config(tmp_path / "plain", "max_steps=2"))
    source = locate(tmp_path / "ema", None, weights="ema")
    assert source.weights == tmp_path / "ema" / LAST / EMA
    average = paddle.load(str(source.weights))
    loaded = load_supernet(source.weights, source.space).state_dict()
    assert all(np.array_equal(loaded[name].numpy(), average[name].numpy()) for name in average)

    codes = [TINY_SPACE.encode(spec) for spec in (TINY_SPACE.max_spec(), TINY_SPACE.min_spec())]
    archs = tmp_path / "archs.json"
    archs.write_text(json_module.dumps({f"arch{i}": {"acc": 0, "arch": code} for i, code in enumerate(codes, 1)}))
    out = tmp_path / "pred.json"
    assert main(["eval", str(archs), "--ckpt", str(tmp_path / "ema"), "--weights", "ema", "--out", str(out),
                 "--recal-batches", "1", "--recal-batch-size", "8", "--batch-size", "16"]) == 0
    assert set(json_module.loads(out.read_text())) == {"arch1", "arch2"}
    assert main(["export", codes[0], "--ckpt", str(tmp_path / "ema"), "--weights", "ema",
                 "--out", str(tmp_path / "export")]) == 0
    exported = paddle.load(str(tmp_path / "export" / "model.pdparams"))
    assert np.array_equal(exported["fc.weight"].numpy(), average["fc.weight"].numpy())
    capsys.readouterr()

    # a run without the average: a clear refusal, nothing written
    refused = tmp_path / "refused.json"
    assert main(["eval", str(archs), "--ckpt", str(tmp_path / "plain"), "--weights", "ema",
                 "--out", str(refused)]) == 2
    assert "has no ema.pdparams: it was trained without loss.teacher: ema" in capsys.readouterr().err
    assert not refused.exists()
