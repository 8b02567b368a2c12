"""The hnas log format and the Paddle notices every process drops."""

from __future__ import annotations

import logging
import warnings

import paddle
import pytest

from hnas.logs import PADDLE_NOTICES, configure_logging, quiet_paddle_notices


@pytest.fixture()
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_configure_logging_replaces_the_root_handler_and_sets_the_level(restore_root_logger, capsys) -> None:
    logging.getLogger().addHandler(logging.StreamHandler())  # as importing Paddle does
    configure_logging(logging.WARNING)
    assert len(logging.getLogger().handlers) == 1
    logging.getLogger("hnas.probe").info("not shown")
    logging.getLogger("hnas.probe").warning("shown")
    err = capsys.readouterr().err
    assert "not shown" not in err
    assert err.rstrip().endswith(" WARNING hnas.probe: shown")


def test_training_mode_batch_norm_warns_only_without_the_filter() -> None:
    layer = paddle.nn.BatchNorm2D(2)
    layer.train()
    batch = paddle.ones([2, 2, 3, 3])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer(batch)
    assert any(PADDLE_NOTICES[1][0] in str(w.message) for w in caught)  # Paddle still emits it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_paddle_notices()
        layer(batch)
    assert not any(PADDLE_NOTICES[1][0] in str(w.message) for w in caught)
