"""The shufflenet family: SPOS's ShuffleNetV2 one-shot space (``spos_shufflenetv2``) and its tiny twin.

Spec-only names import without Paddle; the layers load on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from hnas.search_spaces.shufflenet.space import SHUFFLENET_SPACES, SPOS_PUBLISHED_CHOICES, ShuffleNetSpace
from hnas.search_spaces.shufflenet.spec import OPS, ChoiceShape, ShuffleSpec

_PADDLE_EXPORTS = {
    "ShuffleNetSupernet": "hnas.search_spaces.shufflenet.supernet",
    "StandaloneShuffleNet": "hnas.search_spaces.shufflenet.standalone",
}


def __getattr__(name: str) -> Any:
    if name in _PADDLE_EXPORTS:
        return getattr(importlib.import_module(_PADDLE_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["OPS", "SHUFFLENET_SPACES", "SPOS_PUBLISHED_CHOICES", "ChoiceShape", "ShuffleNetSpace",
           "ShuffleNetSupernet", "ShuffleSpec", "StandaloneShuffleNet"]
