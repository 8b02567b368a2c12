"""Fixtures of the engine tests (helpers live in ``tests/engine/tiny.py``)."""

from __future__ import annotations

import pytest

from hnas.search_spaces.resnet import ResNetSpace
from tests.engine.tiny import TINY_SPACE


@pytest.fixture
def tiny_space() -> ResNetSpace:
    return TINY_SPACE
