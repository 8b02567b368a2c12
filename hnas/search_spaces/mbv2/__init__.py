"""The mbv2 family: OFA / ProxylessNAS-style MobileNetV2 spaces (elastic kernel, expand ratio, depth).

Spec-only names import without Paddle; the layers load on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from hnas.search_spaces.mbv2.named import MBV2_SPACES
from hnas.search_spaces.mbv2.space import MBBlockShape, MBV2Space, MBV2Spec

_PADDLE_EXPORTS = {
    "MBV2Supernet": "hnas.search_spaces.mbv2.supernet",
    "StandaloneMBV2": "hnas.search_spaces.mbv2.standalone",
    "ElasticDepthwiseConv2D": "hnas.search_spaces.mbv2.layers",
}


def __getattr__(name: str) -> Any:
    if name in _PADDLE_EXPORTS:
        return getattr(importlib.import_module(_PADDLE_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MBV2_SPACES", "ElasticDepthwiseConv2D", "MBBlockShape", "MBV2Space", "MBV2Spec", "MBV2Supernet",
           "StandaloneMBV2"]
