"""Non-finite values (config, BN statistics, endless skips, NaN weights) and inputs that used to
give tracebacks (deep JSON, a batch larger than the data, huge arch strings, eval_supernet.sh)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest

from hnas.cli import main
from hnas.engine.step import NonFiniteLossError
from tests.commands.test_train_cli import TINY
from tests.engine.test_step import _batch, _sandwich, _step

REPO = Path(__file__).resolve().parents[2]
LARGEST = "1558511111111111111111111111111111111111111111111111"


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_non_finite_config_values_are_refused(tmp_path: Path, capsys, value: str) -> None:
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path), "--optim.lr", value]) == 2
    assert "'optim.lr'" in capsys.readouterr().err and not tmp_path.joinpath("last").exists()


def _bn_variances(supernet) -> list[paddle.Tensor]:
    return [tensor for name, tensor in supernet.state_dict().items() if name.endswith("_variance")]


def test_an_infinite_bn_statistic_fails_the_step(tiny_space) -> None:
    step, supernet, _ = _step(tiny_space, _sandwich(tiny_space))
    images, labels = _batch(tiny_space)
    variance = _bn_variances(supernet)[0]
    variance.set_value(paddle.full(variance.shape, float("inf")))  # training uses batch statistics: loss stays finite
    with pytest.raises(NonFiniteLossError, match="BatchNorm running statistic"):
        step(images, labels, step=0, epoch=0)


def test_skip_gives_up_after_max_consecutive_skips(tiny_space) -> None:
    step, _, _ = _step(tiny_space, _sandwich(tiny_space), nan_policy="skip")
    step.max_skips = 3
    images, labels = _batch(tiny_space)
    step.objective.distill.poisoned = True
    assert step(images, labels, step=0, epoch=0).skipped and step(images, labels, step=1, epoch=0).skipped
    with pytest.raises(NonFiniteLossError, match="3 batches in a row"):
        step(images, labels, step=2, epoch=0)


def test_a_finite_step_resets_the_skip_count(tiny_space) -> None:
    step, _, _ = _step(tiny_space, _sandwich(tiny_space), nan_policy="skip")
    step.max_skips = 2
    images, labels = _batch(tiny_space)
    for index in range(4):
        step.objective.distill.poisoned = index % 2 == 0
        step(images, labels, step=index, epoch=0)
    assert step.skipped_batches == 2


def test_eval_refuses_nan_weights(tmp_path: Path, capsys) -> None:
    from hnas.search_spaces.spaces import SPACES

    state = SPACES.get("resnet48_tiny").build_supernet().state_dict()
    name = next(iter(state))
    state[name] = paddle.full(state[name].shape, float("nan"))
    weights = tmp_path / "nan.pdparams"
    paddle.save(state, str(weights))
    archs = tmp_path / "archs.json"
    archs.write_text(json.dumps({"arch1": {"acc": 0.0, "arch": LARGEST}}))
    out = tmp_path / "sub.json"
    assert main(["eval", str(archs), "--ckpt", str(weights), "--out", str(out), "--dry-run"]) == 2
    assert "hold NaN or inf" in capsys.readouterr().err and not out.exists()


def test_deeply_nested_json_is_a_message(tmp_path: Path, capsys) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    for argv in (["validate", str(deep)], ["flops", "--json", str(deep)], ["score", str(deep), str(deep)]):
        assert main(argv) == 2
        assert "nested too deeply" in capsys.readouterr().err
    done = subprocess.run([sys.executable, str(REPO / "utils" / "kendall.py"), str(deep), str(deep)],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2 and "nested too deeply" in done.stderr


def test_a_batch_larger_than_the_dataset_is_a_message(tmp_path: Path, capsys) -> None:
    assert main(["train", *TINY, "--checkpoint.dir", str(tmp_path / "c"), "--data.batch_size", "1000"]) == 2
    assert "larger than the 64 training images" in capsys.readouterr().err


def test_a_huge_arch_string_is_shortened_in_the_message(tmp_path: Path, capsys) -> None:
    archs = tmp_path / "huge.json"
    archs.write_text(json.dumps({"arch1": {"acc": 0.0, "arch": "1" * 1_000_000}}))
    assert main(["validate", str(archs)]) == 2
    err = capsys.readouterr().err
    assert len(err) < 1000 and "(1,000,002 characters)" in err  # the repr, quotes included


def test_distance_calc_refuses_bad_codes(capsys) -> None:
    for codes in ([LARGEST, LARGEST[:-1] + "x"], [LARGEST, LARGEST[:10]]):
        done = subprocess.run([sys.executable, str(REPO / "utils" / "distance_calc.py"), *codes],
                              capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.returncode == 2 and done.stderr.startswith("distance_calc.py: error: arch code")


def test_eval_supernet_sh_help_exits_0() -> None:
    done = subprocess.run(["bash", str(REPO / "eval_supernet.sh"), "--help"], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0 and "Evaluate every arch" in done.stdout


def test_eval_supernet_sh_refuses_while_earlier_workers_run(tmp_path: Path) -> None:
    import fcntl

    archs = tmp_path / "archs.json"
    archs.write_text(json.dumps({"arch1": {"acc": 0.0, "arch": LARGEST}}))
    out = tmp_path / "submit.json"
    log = tmp_path / "submit_part0of2.log"
    log.write_text("a running worker's log")
    progress = tmp_path / "submit_part0of2.progress.jsonl"
    with open(progress, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # what a still-running worker of a killed script holds
        state = paddle.nn.Linear(1, 1).state_dict()  # any file: the check comes before the dry run's load
        weights = tmp_path / "w.pdparams"
        paddle.save(state, str(weights))
        done = subprocess.run(["bash", str(REPO / "eval_supernet.sh"), str(archs), "--out", str(out), "--ckpt",
                               str(tmp_path / "missing")], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(REPO), "PYTHON": sys.executable,
                                   "HNAS_WORKERS": "2"})
    assert done.returncode == 2 and "still evaluating" in done.stderr, done.stderr
    assert log.read_text() == "a running worker's log"


def test_nan_weights_in_state_are_detected_by_numpy_too() -> None:
    from hnas.checkpoints.source import refuse_non_finite
    from hnas.errors import HnasError

    with pytest.raises(HnasError, match="1 tensor"):
        refuse_non_finite({"a": np.array([1.0, np.inf]), "b": np.array([1, 2])}, "x")
