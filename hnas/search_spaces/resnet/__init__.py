"""The ResNet family: the CVPR 2022 NAS Track 1 ResNet48 layout and its scaled variants.

Spec-only names (code, choices, costs) import without Paddle; the layers (blocks, the
weight-sharing :class:`ResNetSupernet`, the stand-alone network) load on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from hnas.search_spaces.resnet.space import (
    COMPETITION_MAX_WIDTH_CODE,
    BlockShape,
    ResNetSpace,
    ResNetSpec,
    block_shapes,
    final_channels,
    make_divisible,
    stem_channels,
)

_PADDLE_EXPORTS = {
    "ElasticBasicBlock": "hnas.search_spaces.resnet.blocks",
    "ElasticConvBN": "hnas.search_spaces.resnet.blocks",
    "ResNetSupernet": "hnas.search_spaces.resnet.supernet",
    "StandaloneResNet": "hnas.search_spaces.resnet.standalone",
    "BasicBlock": "hnas.search_spaces.resnet.standalone",
    "build_standalone": "hnas.search_spaces.resnet.standalone",
}


def __getattr__(name: str) -> Any:
    if name in _PADDLE_EXPORTS:
        return getattr(importlib.import_module(_PADDLE_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "COMPETITION_MAX_WIDTH_CODE",
    "BasicBlock",
    "BlockShape",
    "ElasticBasicBlock",
    "ElasticConvBN",
    "ResNetSpace",
    "ResNetSpec",
    "ResNetSupernet",
    "StandaloneResNet",
    "block_shapes",
    "build_standalone",
    "final_channels",
    "make_divisible",
    "stem_channels",
]
