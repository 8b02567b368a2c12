"""The mbv1 family: MobileNetV1 width spaces (PSS-Net's ``pss_mbv1``, DS-Net's ``dsnet_mbv1``).

Spec-only names import without Paddle; the layers load on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from hnas.search_spaces.mbv1.space import MBV1_SPACES, MBV1BlockShape, MBV1Space, MBV1Spec, multiplier_widths

_PADDLE_EXPORTS = {
    "MBV1Supernet": "hnas.search_spaces.mbv1.supernet",
    "StandaloneMBV1": "hnas.search_spaces.mbv1.standalone",
}


def __getattr__(name: str) -> Any:
    if name in _PADDLE_EXPORTS:
        return getattr(importlib.import_module(_PADDLE_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MBV1_SPACES", "MBV1BlockShape", "MBV1Space", "MBV1Spec", "MBV1Supernet", "StandaloneMBV1",
           "multiplier_widths"]
