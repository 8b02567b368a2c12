"""Progressive shrinking: phase boundaries, validation of the phase list, re-ordering, resume into the phase."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import paddle
import pytest

from hnas.checkpoints.folder import LAST, STATE_FILE
from hnas.engine.trainer import train
from hnas.errors import HnasError
from hnas.samplers import SAMPLERS
from hnas.search_spaces import SPACES
from tests.engine.tiny import TINY_SPACE, tiny_config

SPACE = SPACES.get("resnet48_tiny")
PHASES = [{"until": 1}, {"until": 2, "depth": 2}, {"until": 3, "depth": "all"}, {"width": "all"}]


def _opened(sampler, step: int, epoch: int) -> tuple[set, set]:
    """Depths and width codes the students of a step use, over many steps' draws."""
    depths, widths = set(), set()
    for trial in range(40):
        sampler.seed = trial
        for net in sampler.sample(step, epoch)[1:]:
            choices = SPACE.choices(net.spec)
            depths.update(value for name, value in choices.items() if name.startswith("depth"))
            widths.update(value for name, value in choices.items() if "conv" in name and value is not None)
    return depths, widths


def test_phases_open_choices_in_order_and_the_boundaries_follow_the_steps() -> None:
    sampler = SAMPLERS.build("ofa_ps", space=SPACE, seed=0, phases=PHASES)
    sampler.set_schedule(4, steps_per_epoch=10)
    assert [sampler.phase_at(step, step // 10) for step in (0, 9, 10, 19, 20, 29, 30, 39)] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [step for step in range(40) if sampler.phase_boundary(step) is not None] == [10, 20, 30]
    assert [step for step in range(40) if sampler.reorder_due(step)] == [30]  # only the width phase
    nets = sampler.sample(0, 0)
    assert [net.role for net in nets] == ["teacher", "student", "student"]
    assert all(net.spec == SPACE.max_spec() for net in nets)  # phase 0: the largest only
    depths, widths = _opened(sampler, 15, 1)
    assert widths == {1} and depths == {4, 5, 7, 8}  # the two largest depths of every stage (max 5 or 8)
    depths, widths = _opened(sampler, 25, 2)
    assert widths == {1} and depths == set(range(2, 9))
    depths, widths = _opened(sampler, 35, 3)
    assert widths == set(range(1, 8))


def test_without_steps_per_epoch_the_phase_follows_the_epoch() -> None:
    sampler = SAMPLERS.build("ofa_ps", space=SPACE, seed=0, phases=PHASES)
    assert [sampler.phase_at(0, epoch) for epoch in range(5)] == [0, 1, 2, 3, 3]
    assert not any(sampler.reorder_due(step) for step in range(50))


def test_default_phases_are_laid_out_over_the_run() -> None:
    sampler = SAMPLERS.build("ofa_ps", space=SPACE, seed=0)
    sampler.set_schedule(5)
    assert [phase.until for phase in sampler.phases] == [1, 2, 3, 4, None]
    assert [dict(phase.open) for phase in sampler.phases] == [
        {"depth": 1, "width": 1}, {"depth": 2, "width": 1}, {"depth": 7, "width": 1}, {"depth": 7, "width": 2},
        {"depth": 7, "width": 7}]


@pytest.mark.parametrize(("phases", "message"), [
    ([{"until": 1, "depth": "all"}, {"width": 6}], "must open the full space.*width 6 of 7"),
    ([{"until": 1}], "must open the full space"),
    ([{"until": 2, "depth": 3}, {"depth": 2, "width": "all"}], "shrinks"),
    ([{"until": 2}, {"until": 1, "depth": "all"}, {"width": "all"}], "must exceed"),
    ([{"depth": "all"}, {"width": "all"}], "needs 'until'"),
    ([{"until": 1, "kernel": 2}, {"width": "all", "depth": "all"}], "not an elastic dimension"),
    ([{"until": 1, "depth": 9}, {"width": "all", "depth": "all"}], "1 to 7"),
    ([], "empty"),
])
def test_bad_phase_lists_are_refused_naming_the_option(phases, message) -> None:
    with pytest.raises(HnasError, match=rf"sampler\.args\.phases.*{message}"):
        SAMPLERS.build("ofa_ps", space=SPACE, seed=0, phases=phases)


def test_a_run_too_short_for_the_last_phase_is_refused() -> None:
    sampler = SAMPLERS.build("ofa_ps", space=SPACE, seed=0, phases=PHASES)
    with pytest.raises(HnasError, match=r"sampler\.args\.phases: the last phase .* starts at epoch 3"):
        sampler.set_schedule(3)


# --- in the trainer: tiny space (depths 1-2, 3 widths), 2 epochs x 4 steps -------------------

TINY_PHASES = "[{until: 0.5}, {until: 1.0, depth: all}, {width: all}]"


def _ofa(tmp_path, *extra: str):
    return tiny_config(tmp_path, "sampler.name=ofa_ps", f"sampler.args={{num_subnets: 1, phases: {TINY_PHASES}}}",
                       *extra)


def _weights(root) -> dict[str, np.ndarray]:
    return {name: value.numpy() for name, value in paddle.load(str(root / LAST / "model.pdparams")).items()}


def test_trainer_reorders_at_the_width_phase_and_resume_lands_in_the_right_phase(tmp_path, caplog) -> None:
    assert TINY_SPACE.stage_blocks == (2, 2)
    caplog.set_level(logging.INFO)
    whole = train(_ofa(tmp_path / "whole"))
    assert whole.progress.global_step == 8
    log = caplog.text
    assert "progressive shrinking: phase 1/3" in log and "phase 3/3" in log
    assert log.count("re-ordering channels by importance before step 4") == 1
    caplog.clear()
    train(_ofa(tmp_path / "split", "max_steps=4"))  # stops right before the width phase
    assert "re-ordering" not in caplog.text
    with open(tmp_path / "split" / LAST / STATE_FILE, "rb") as stream:
        assert pickle.load(stream)["sampler"]["phase"] == 1  # the phase is in the checkpoint
    caplog.clear()
    train(_ofa(tmp_path / "split"), resume=True)
    assert "re-ordering channels by importance before step 4" in caplog.text
    assert "phase 3/3" in caplog.text and "phase 1/3" not in caplog.text
    expected, resumed = _weights(tmp_path / "whole"), _weights(tmp_path / "split")
    for name in expected:
        np.testing.assert_array_equal(resumed[name], expected[name], err_msg=name)
