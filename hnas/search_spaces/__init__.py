"""Search spaces: what can be built.

``SPACES`` maps a name to a :class:`SpaceDef`; YAML configs refer to these names and may
override single fields (see :func:`hnas.search_spaces.spaces.resolve_space`).

The Paddle layers (elastic ops in ``ops``, blocks in ``blocks``, the weight-sharing
``ResNetSupernet`` in ``supernet``) are exported too, but loaded on first access, so that
spec-only users (arch-code checks, analytic FLOPs) do not pay for importing Paddle.
"""

from __future__ import annotations

import importlib
from typing import Any

from hnas.search_spaces.spaces import SPACES, resolve_space
from hnas.search_spaces.spec import (
    BlockShape,
    SpaceDef,
    SubnetSpec,
    block_shapes,
    decode,
    encode,
    max_spec,
    min_spec,
)

#: Public names backed by Paddle, and the module defining each.
_PADDLE_EXPORTS = {
    "ElasticBatchNorm2D": "hnas.search_spaces.ops",
    "ElasticConv2D": "hnas.search_spaces.ops",
    "ElasticLinear": "hnas.search_spaces.ops",
    "ElasticBasicBlock": "hnas.search_spaces.blocks",
    "ElasticConvBN": "hnas.search_spaces.blocks",
    "ResNetSupernet": "hnas.search_spaces.supernet",
    "StandaloneResNet": "hnas.search_spaces.standalone",
    "build_standalone": "hnas.search_spaces.standalone",
}


def __getattr__(name: str) -> Any:
    if name in _PADDLE_EXPORTS:
        return getattr(importlib.import_module(_PADDLE_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SPACES",
    "BlockShape",
    "ElasticBasicBlock",
    "ElasticBatchNorm2D",
    "ElasticConv2D",
    "ElasticConvBN",
    "ElasticLinear",
    "ResNetSupernet",
    "SpaceDef",
    "StandaloneResNet",
    "SubnetSpec",
    "block_shapes",
    "build_standalone",
    "decode",
    "encode",
    "max_spec",
    "min_spec",
    "resolve_space",
]
