"""Initialising a supernet from pretrained weights: a stand-alone state dict in the space's
reference naming (e.g. the competition's ``resnet48.pdparams`` under the official ResNet48 names,
:mod:`hnas.search_spaces.resnet.naming`) or another supernet checkpoint of the same space
(:func:`init_from_supernet`, how few-shot sub-supernets start from their parent).

A space maps a key of its family's reference implementation to its own names
(:meth:`~hnas.search_spaces.base.SearchSpace.from_reference_key`); a ``model.`` prefix and
DataParallel ``_layers.`` components are dropped first, and state dicts already in hnas naming
load unchanged. Families without a reference naming (``reference_naming = None``) take
supernet checkpoints only.

PaddleSlim OFA supernets of the reference network (the baseline's
``Convert(supernet(expand_ratio=[1.0]))`` wrapped in ``OFA``) keep its names with two additions,
removed by :func:`map_paddleslim_state`: the ``model.`` of the OFA wrapper and a ``fn`` component
inside every converted conv and FC (``Block(SuperConv2D)``: ``model.blocks.1.conv1.fn.weight``);
BN layers keep their names. The distillation teacher's copy (``ofa_teacher_model.``) is skipped.

After loading, the supernet's ``reorder_channels`` sorts each block's middle channels by
L1 importance, so that slicing the first ``k`` channels keeps the most important ones.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import paddle

from hnas.checkpoints.folder import MODEL_FILE, check_space, resolve_checkpoint
from hnas.errors import HnasError
from hnas.nn.state_dict import DATA_PARALLEL_PREFIX, load_into, read_state_dict, strip_data_parallel
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.resnet.naming import (  # the ResNet family's naming, named here for its callers
    OFA_BLOCK_COMPONENT,
    hnas_to_official_key,
    hnas_to_paddleslim_key,
    official_block_index,
    official_to_hnas_key,
)
from hnas.search_spaces.spaces import FAMILIES

__all__ = ["OFA_BLOCK_COMPONENT", "OFA_TEACHER_PREFIX", "KeyMapping", "hnas_to_official_key", "hnas_to_paddleslim_key",
           "init_from_standalone", "init_from_supernet", "map_paddleslim_state", "official_block_index",
           "official_to_hnas_key", "to_hnas_naming"]

logger = logging.getLogger(__name__)


def _drop_prefix(key: str, prefix: str) -> str:
    return key[len(prefix):] if key.startswith(prefix) else key


def to_hnas_naming(state: Mapping[str, Any], space: SearchSpace) -> dict[str, Any]:
    """``state`` with keys in the space's reference naming renamed; hnas names pass through.

    Raises:
        HnasError: a reference key without an hnas counterpart.
    """
    state = strip_data_parallel(state)
    state = {_drop_prefix(key, "model."): value for key, value in state.items()}
    return {space.from_reference_key(key) or key: value for key, value in state.items()}


#: Prefix of the distillation teacher's weights in a PaddleSlim OFA state dict.
OFA_TEACHER_PREFIX = "ofa_teacher_model."


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


def _paddleslim_key(key: str) -> str:
    """Reference name of a PaddleSlim OFA key (``model.``, ``fn`` removed; ``_layers`` already gone)."""
    return ".".join(part for part in _drop_prefix(key, "model.").split(".") if part != OFA_BLOCK_COMPONENT)


def map_paddleslim_state(state: Mapping[str, Any], space: SearchSpace) -> KeyMapping:
    """Rename a PaddleSlim OFA (or plain reference, or hnas) state dict to hnas names.

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
        try:
            name = space.from_reference_key(name) or name
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
    supernet: paddle.nn.Layer, path: str | os.PathLike[str], space: SearchSpace, reorder: bool = True
) -> None:
    """Load full-width stand-alone weights into ``supernet``, then optionally reorder channels.

    Raises:
        HnasError: unreadable file, unknown keys, or keys / shapes that do not match the
            supernet (the message lists the first mismatches).
    """
    if space.reference_naming is None:
        namings = " or the ".join(cls.reference_naming for cls in map(FAMILIES.get, FAMILIES.names())
                                  if cls.reference_naming)
        raise HnasError(f"checkpoint.init_from maps the {namings}; space {space.name!r} is of family "
                        f"{space.family!r}")
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
