"""Initialising a supernet from pretrained weights: a stand-alone ResNet state dict (e.g. the
competition's ``resnet48.pdparams``) or another supernet checkpoint of the same space
(:func:`init_from_supernet`, how few-shot sub-supernets start from their parent).

The competition shipped ImageNet weights of the full ResNet48 under the official model's
names (the baseline's ``hnas/models/resnet.py``): one flat ``blocks`` list holding the stem,
the 23 BasicBlocks of all stages in order, then the head. hnas names the same tensors by
stage and block. The mapping, for a space with ``stage_blocks = (5, 5, 8, 5)``::

    official                                   hnas (supernet / StandaloneResNet)
    blocks.0.conv.weight                       stem.conv.conv.weight
    blocks.0.bn.{weight,bias,_mean,_variance}  stem.conv.bn.{...}
    blocks.{i}.conv1.weight                    stages.{s}.{b}.conv1.conv.weight
    blocks.{i}.bn1.{...}                       stages.{s}.{b}.conv1.bn.{...}
    blocks.{i}.conv2.weight                    stages.{s}.{b}.conv2.conv.weight
    blocks.{i}.bn2.{...}                       stages.{s}.{b}.conv2.bn.{...}
    blocks.{i}.downsample.0.weight             stages.{s}.{b}.downsample.conv.weight
    blocks.{i}.downsample.1.{...}              stages.{s}.{b}.downsample.bn.{...}
    blocks.{i}.relu2._weight                   stages.{s}.{b}.outer_act._weight
    blocks.24.fc.{weight,bias}                 fc.{weight,bias}

with ``i = 1 + sum(stage_blocks[:s]) + b`` (so stage 2 block 0 is ``blocks.6``) and the head
at ``1 + sum(stage_blocks)``. ``relu2`` is the activation after the residual addition in the
3rd-place solution's ``resnet48_prelu`` / ``resnet48_mish`` (``relu1`` the one inside the block);
only a PReLU there has a tensor, its single slope (space ``outer_activation: prelu``). A
``model.`` prefix and DataParallel ``_layers.`` components are dropped first. State dicts
already in hnas naming load unchanged.

PaddleSlim OFA supernets of that network (the baseline's ``Convert(supernet(expand_ratio=[1.0]))``
wrapped in ``OFA``) keep these names with two additions, removed by :func:`map_paddleslim_state`:
the ``model.`` of the OFA wrapper and a ``fn`` component inside every converted conv and FC
(``Block(SuperConv2D)``: ``model.blocks.1.conv1.fn.weight``); BN layers keep their names. The
distillation teacher's copy (``ofa_teacher_model.``) is skipped.

After loading, :meth:`ResNetSupernet.reorder_channels` sorts each block's middle channels by
L1 importance, so that slicing the first ``k`` channels keeps the most important ones.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import paddle

from hnas.checkpoints.folder import MODEL_FILE, check_space, resolve_checkpoint
from hnas.errors import HnasError
from hnas.nn.state_dict import DATA_PARALLEL_PREFIX, load_into, read_state_dict, strip_data_parallel
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.resnet import ResNetSpace

logger = logging.getLogger(__name__)

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


def _drop_prefix(key: str, prefix: str) -> str:
    return key[len(prefix):] if key.startswith(prefix) else key


def to_hnas_naming(state: Mapping[str, Any], space: ResNetSpace) -> dict[str, Any]:
    """``state`` with official keys renamed; hnas-named state dicts pass through."""
    state = strip_data_parallel(state)
    state = {_drop_prefix(key, "model."): value for key, value in state.items()}
    if not any(key.startswith("blocks.") for key in state):
        return dict(state)
    return {official_to_hnas_key(key, space): value for key, value in state.items()}


#: Prefix of the distillation teacher's weights in a PaddleSlim OFA state dict.
OFA_TEACHER_PREFIX = "ofa_teacher_model."
#: Key component of the layer that PaddleSlim's ``Block`` wraps (``conv1.fn.weight``).
OFA_BLOCK_COMPONENT = "fn"


@dataclass(frozen=True)
class KeyMapping:
    """A foreign state dict renamed to hnas names.

    Attributes:
        state: the tensors that have an hnas name, under that name (source order).
        origin: hnas name -> the source key it came from (for messages).
        unmapped: source keys with no hnas counterpart (after removing ``_layers``/``model.``/``fn``).
        skipped: source keys deliberately left out (the OFA distillation teacher's copy).
    """

    state: dict[str, Any]
    origin: dict[str, str]
    unmapped: tuple[str, ...]
    skipped: tuple[str, ...]


#: Official layer names whose weights PaddleSlim's ``Convert`` wraps in a ``Block`` (convs and the FC).
_OFA_WRAPPED = frozenset({"conv", "conv1", "conv2", "downsample.0", "fc"})


def hnas_to_paddleslim_key(key: str, space: ResNetSpace) -> str:
    """The key PaddleSlim's OFA wrapper of the baseline network uses for hnas key ``key``.

    Inverse of :func:`map_paddleslim_state` for one key (used to build PaddleSlim-format fixtures
    without PaddleSlim; ``tests/paddleslim_ext`` checks it against a real OFA state dict).
    """
    official = hnas_to_official_key(key, space)
    layer, _, tensor = official.rpartition(".")
    local = layer.split(".", 2)[2]  # drop "blocks.N."
    if local in _OFA_WRAPPED:
        official = f"{layer}.{OFA_BLOCK_COMPONENT}.{tensor}"
    return "model." + official


def _paddleslim_key(key: str) -> str:
    """Official name of a PaddleSlim OFA key (``model.``, ``fn`` removed; ``_layers`` already gone)."""
    return ".".join(part for part in _drop_prefix(key, "model.").split(".") if part != OFA_BLOCK_COMPONENT)


def map_paddleslim_state(state: Mapping[str, Any], space: ResNetSpace) -> KeyMapping:
    """Rename a PaddleSlim OFA (or plain official, or hnas) ResNet state dict to hnas names.

    DataParallel ``_layers`` components are dropped first (anywhere in a key). Keys already in
    hnas naming pass through, so an hnas state dict maps to itself. Nothing is checked against a
    network here: compare ``mapping.state`` with the supernet's state dict for shapes and gaps.

    Raises:
        HnasError: two source keys map to the same hnas name.
    """
    component = DATA_PARALLEL_PREFIX.rstrip(".")
    source_keys = {".".join(part for part in key.split(".") if part != component): key for key in state}
    state = strip_data_parallel(state)
    renamed: dict[str, Any] = {}
    origin: dict[str, str] = {}
    unmapped: list[str] = []
    skipped = tuple(key for key in state if _drop_prefix(key, "model.").startswith(OFA_TEACHER_PREFIX))
    for key, value in state.items():
        if key in skipped:
            continue
        name = _paddleslim_key(key)
        if name.startswith("blocks."):
            try:
                name = official_to_hnas_key(name, space)
            except HnasError:
                unmapped.append(source_keys[key])
                continue
        # Anything else passes as hnas naming; the caller checks it against the supernet.
        if name in renamed:
            raise HnasError(f"keys {origin[name]!r} and {source_keys[key]!r} both map to hnas key {name!r}")
        renamed[name] = value
        origin[name] = source_keys[key]
    return KeyMapping(state=renamed, origin=origin, unmapped=tuple(unmapped),
                      skipped=tuple(source_keys[key] for key in skipped))


def init_from_standalone(
    supernet: paddle.nn.Layer, path: str | os.PathLike[str], space: ResNetSpace, reorder: bool = True
) -> None:
    """Load full-width stand-alone weights into ``supernet``, then optionally reorder channels.

    Raises:
        HnasError: unreadable file, unknown keys, or keys / shapes that do not match the
            supernet (the message lists the first mismatches).
    """
    if space.family != "resnet":
        raise HnasError(f"checkpoint.init_from maps the official ResNet48 key naming; space {space.name!r} is of "
                        f"family {space.family!r}")
    path = Path(path)
    if not path.is_file():
        raise HnasError(f"checkpoint.init_from: {path} is not a file")
    state = read_state_dict(path, f"checkpoint.init_from {path}")
    load_into(supernet, to_hnas_naming(state, space), source=f"checkpoint.init_from {path}")
    logger.info("initialised the supernet from %s", path)
    if reorder:
        supernet.reorder_channels()
        logger.info("reordered middle channels by L1 importance")


def init_from_supernet(supernet: paddle.nn.Layer, path: str | os.PathLike[str], space: SearchSpace) -> Path:
    """Load the weights of the supernet checkpoint ``path`` (a checkpoint or a root holding ``last``).

    The checkpoint must be of the same space, field for field; its optimizer state, schedule
    and sampler state are not used (a new run starts from these weights). Channels are not
    re-ordered: that would change which weights each subnet inherits.

    Returns:
        The checkpoint folder the weights came from.

    Raises:
        HnasError: no complete checkpoint there, another space, or mismatching tensors.
    """
    folder = resolve_checkpoint(path, weights_only=True)
    check_space(folder, space)
    weights = folder / MODEL_FILE
    state = read_state_dict(weights, f"checkpoint.init_from {weights}")
    load_into(supernet, strip_data_parallel(state), source=f"checkpoint.init_from {weights}")
    logger.info("initialised the supernet from the supernet checkpoint %s", folder)
    return folder
