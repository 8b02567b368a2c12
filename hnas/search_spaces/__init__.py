"""Search spaces: what can be built.

``SPACES`` maps a name to a :class:`SpaceDef`; YAML configs refer to these names and may
override single fields (see :func:`hnas.search_spaces.spaces.resolve_space`).
"""

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

__all__ = [
    "SPACES",
    "BlockShape",
    "SpaceDef",
    "SubnetSpec",
    "block_shapes",
    "decode",
    "encode",
    "max_spec",
    "min_spec",
    "resolve_space",
]
