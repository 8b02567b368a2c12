"""The ResNet family's reference naming: the official ResNet48 keys and PaddleSlim's OFA wrapper of them.

The competition shipped ImageNet weights of the full ResNet48 under the official model's names
(the baseline's ``hnas/models/resnet.py``): one flat ``blocks`` list holding the stem, every
residual block in order and the classifier::

    official                                   hnas (supernet / StandaloneResNet)
    blocks.0.conv.weight                       stem.conv.conv.weight
    blocks.0.bn.{weight,bias,_mean,_variance}  stem.conv.bn.*
    blocks.{i}.conv1.weight / bn1.*            stages.{s}.{b}.conv1.conv.weight / conv1.bn.*
    blocks.{i}.conv2.weight / bn2.*            stages.{s}.{b}.conv2.conv.weight / conv2.bn.*
    blocks.{i}.downsample.0.weight / .1.*      stages.{s}.{b}.downsample.conv.weight / .bn.*
    blocks.{i}.relu2._weight                   stages.{s}.{b}.outer_act._weight
    blocks.{last}.fc.{weight,bias}             fc.{weight,bias}

with ``i = 1 + sum(stage_blocks[:s]) + b``. ``relu2`` is the activation after the residual addition
in the 3rd-place solution's ``resnet48_prelu`` / ``resnet48_mish`` (``relu1`` the one inside the
block); only a PReLU there has a tensor, its single slope (space ``outer_activation: prelu``).
PaddleSlim's OFA ``Convert`` wraps the convs and the
classifier in a ``Block`` (``blocks.1.conv1.fn.weight``) and its model lives under ``model.``.
:meth:`~hnas.search_spaces.resnet.space.ResNetSpace.from_reference_key` is what the engine
(``checkpoint.init_from``, ``hnas convert-ckpt``) calls; the other functions build fixtures.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Mapping

from hnas.errors import HnasError

if TYPE_CHECKING:
    from hnas.search_spaces.resnet.space import ResNetSpace

_OFFICIAL_KEY = re.compile(r"^blocks\.(\d+)\.(.+)$")
_BLOCK_PARTS = {
    "conv1.": "conv1.conv.",
    "bn1.": "conv1.bn.",
    "conv2.": "conv2.conv.",
    "bn2.": "conv2.bn.",
    "downsample.0.": "downsample.conv.",
    "downsample.1.": "downsample.bn.",
    "relu2.": "outer_act.",
}
_STEM_PARTS = {"conv.": "stem.conv.conv.", "bn.": "stem.conv.bn."}

#: Key component of the layer that PaddleSlim's ``Block`` wraps (``conv1.fn.weight``).
OFA_BLOCK_COMPONENT = "fn"
#: Official layer names whose weights PaddleSlim's ``Convert`` wraps in a ``Block`` (convs and the FC).
_OFA_WRAPPED = frozenset({"conv", "conv1", "conv2", "downsample.0", "fc"})


def official_block_index(space: ResNetSpace, stage: int, block: int) -> int:
    """Index in the official flat ``blocks`` list of block ``block`` of ``stage`` (0-based)."""
    return 1 + sum(space.stage_blocks[:stage]) + block


def _block_positions(space: ResNetSpace) -> dict[int, tuple[int, int]]:
    return {
        official_block_index(space, stage, block): (stage, block)
        for stage in range(space.num_stages)
        for block in range(space.stage_blocks[stage])
    }


def official_to_hnas_key(key: str, space: ResNetSpace) -> str:
    """The hnas name of official key ``key``.

    Raises:
        HnasError: for a key the official ResNet does not have.
    """
    match = _OFFICIAL_KEY.match(key)
    if match is None:
        raise HnasError(f"stand-alone weights: key {key!r} is not an official 'blocks.N....' name")
    index, rest = int(match.group(1)), match.group(2)
    head = 1 + sum(space.stage_blocks)
    parts: Mapping[str, str]
    if index == 0:
        prefix, parts = "", _STEM_PARTS
    elif index == head:
        prefix, parts = "", {"fc.": "fc."}
    elif index in _block_positions(space):
        stage, block = _block_positions(space)[index]
        prefix, parts = f"stages.{stage}.{block}.", _BLOCK_PARTS
    else:
        raise HnasError(f"stand-alone weights: key {key!r} names block {index}, but the space has blocks 0..{head}")
    for old, new in parts.items():
        if rest.startswith(old):
            return prefix + new + rest[len(old):]
    raise HnasError(f"stand-alone weights: key {key!r} has no counterpart in the hnas ResNet")


def hnas_to_official_key(key: str, space: ResNetSpace) -> str:
    """Inverse of :func:`official_to_hnas_key` (used to build official-style test fixtures)."""
    for old, new in _STEM_PARTS.items():
        if key.startswith(new):
            return f"blocks.0.{old}{key[len(new):]}"
    if key.startswith("fc."):
        return f"blocks.{1 + sum(space.stage_blocks)}.{key}"
    match = re.match(r"^stages\.(\d+)\.(\d+)\.(.+)$", key)
    if match is None:
        raise HnasError(f"key {key!r} is not an hnas ResNet name")
    stage, block, rest = int(match.group(1)), int(match.group(2)), match.group(3)
    for old, new in _BLOCK_PARTS.items():
        if rest.startswith(new):
            return f"blocks.{official_block_index(space, stage, block)}.{old}{rest[len(new):]}"
    raise HnasError(f"key {key!r} has no official counterpart")


def hnas_to_paddleslim_key(key: str, space: ResNetSpace) -> str:
    """The key PaddleSlim's OFA wrapper of the baseline network uses for hnas key ``key``.

    Inverse of :func:`hnas.engine.pretrained.map_paddleslim_state` for one key (used to build
    PaddleSlim-format fixtures without PaddleSlim; ``tests/paddleslim_ext`` checks it against a
    real OFA state dict).
    """
    official = hnas_to_official_key(key, space)
    layer, _, tensor = official.rpartition(".")
    local = layer.split(".", 2)[2]  # drop "blocks.N."
    if local in _OFA_WRAPPED:
        official = f"{layer}.{OFA_BLOCK_COMPONENT}.{tensor}"
    return "model." + official
