"""Matching checkpoint state dicts to a model: DataParallel key prefixes and clear mismatch errors.

``paddle.DataParallel`` keeps the wrapped network in ``_layers``, so a state dict saved from the
wrapper has keys such as ``_layers.stem.conv.conv.weight`` (or ``model._layers.blocks...`` in
the competition's reference code) where the bare network has ``stem.conv.conv.weight``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import paddle
from paddle import nn

from hnas.errors import HnasError
from hnas.io.atomic import atomic_paddle_save

logger = logging.getLogger(__name__)

DATA_PARALLEL_PREFIX = "_layers."
_COMPONENT = DATA_PARALLEL_PREFIX.rstrip(".")


def strip_data_parallel(state: Mapping[str, Any]) -> dict[str, Any]:
    """Multi-GPU -> single: drop every ``_layers`` component from the keys (order kept)."""
    converted: dict[str, Any] = {}
    for key, value in state.items():
        new_key = ".".join(part for part in key.split(".") if part != _COMPONENT)
        if new_key in converted:
            raise HnasError(f"checkpoint keys collide after removing '{DATA_PARALLEL_PREFIX}': {new_key!r}")
        converted[new_key] = value
    return converted


def add_data_parallel(state: Mapping[str, Any]) -> dict[str, Any]:
    """Single -> multi-GPU: prefix ``_layers.`` to every key that has no ``_layers`` component."""
    return {
        key if _COMPONENT in key.split(".") else DATA_PARALLEL_PREFIX + key: value for key, value in state.items()
    }


def has_data_parallel_keys(state: Mapping[str, Any]) -> bool:
    return any(_COMPONENT in key.split(".") for key in state)


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(size) for size in getattr(value, "shape", ()))


@dataclass(frozen=True)
class KeyMismatch:
    """How a state dict differs from a model's own."""

    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    wrong_shapes: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.wrong_shapes)

    def describe(self, limit: int = 5) -> str:
        """Human-readable summary naming the first ``limit`` keys of each kind."""
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing key(s), first: {', '.join(self.missing[:limit])}")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} unexpected key(s), first: {', '.join(self.unexpected[:limit])}")
        if self.wrong_shapes:
            shown = ", ".join(
                f"{key} (checkpoint {list(found)}, model {list(wanted)})"
                for key, found, wanted in self.wrong_shapes[:limit]
            )
            parts.append(f"{len(self.wrong_shapes)} shape mismatch(es), first: {shown}")
        return "; ".join(parts) or "no differences"


def read_state_dict(path: str | os.PathLike[str], source: str) -> Mapping[str, Any]:
    """Load a Paddle state-dict file (``.pdparams``), turning every failure into a clear error.

    Args:
        path: the file.
        source: how messages name it, e.g. ``"checkpoint runs/supernet/last/model.pdparams"``.

    Raises:
        HnasError: unreadable or foreign file, or one holding something other than a mapping.
    """
    try:
        state = paddle.load(str(path))
    except Exception as error:  # paddle raises assorted types for a corrupt or foreign file
        raise HnasError(f"{source}: cannot read a Paddle state dict ({error})") from None
    if not isinstance(state, Mapping):
        raise HnasError(f"{source}: expected a state dict, found {type(state).__name__}")
    return state


def compare_state(state: Mapping[str, Any], expected: Mapping[str, Any]) -> KeyMismatch:
    """Missing and unexpected keys and shape differences of ``state`` against ``expected``."""
    return KeyMismatch(
        missing=tuple(key for key in expected if key not in state),
        unexpected=tuple(key for key in state if key not in expected),
        wrong_shapes=tuple(
            (key, _shape(state[key]), _shape(value))
            for key, value in expected.items()
            if key in state and _shape(state[key]) != _shape(value)
        ),
    )


def fit_state_dict(state: Mapping[str, Any], model: nn.Layer, source: str = "checkpoint") -> dict[str, Any]:
    """Return ``state`` with keys matching ``model``, converting a DataParallel prefix if needed.

    Args:
        state: the loaded state dict.
        model: the network it is meant for.
        source: name of the file, for messages.

    Raises:
        HnasError: naming the first missing and unexpected keys and wrong shapes when the state
            does not fit even after removing ``_layers.``.
    """
    expected = model.state_dict()
    mismatch = compare_state(state, expected)
    if mismatch.ok:
        return dict(state)
    if has_data_parallel_keys(state):
        converted = strip_data_parallel(state)
        if compare_state(converted, expected).ok:
            logger.warning(
                "%s was saved from a DataParallel wrapper; removed the '%s' prefix from its keys "
                "(utils/convert_model.py does this once, on disk)",
                source,
                DATA_PARALLEL_PREFIX,
            )
            return converted
    raise HnasError(
        f"{source} does not fit the {type(model).__name__} being built: {mismatch.describe()}. "
        "Was it trained with another search space or config? Pass the matching --config."
    )


def load_into(model: nn.Layer, state: Mapping[str, Any], source: str = "checkpoint") -> None:
    """Check ``state`` with :func:`fit_state_dict` and load it into ``model``."""
    model.set_state_dict(fit_state_dict(state, model, source))


#: Conversion direction -> key function, for :func:`convert_checkpoint_file`.
CONVERSIONS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "single": strip_data_parallel,
    "multi": add_data_parallel,
}


@dataclass(frozen=True)
class ConversionReport:
    """What :func:`convert_checkpoint_file` did."""

    source: Path
    target: Path
    direction: str
    keys: int
    renamed: int

    def describe(self) -> str:
        verb = "removed" if self.direction == "single" else "added"
        action = f"{verb} '{DATA_PARALLEL_PREFIX}'"
        note = "" if self.renamed else " (nothing to rename: the keys were already in that form)"
        return (
            f"{self.source} -> {self.target}: {self.keys} keys, {self.renamed} renamed "
            f"({'multi-GPU -> single' if self.direction == 'single' else 'single -> multi-GPU'}, {action}){note}"
        )


def convert_checkpoint_file(
    source: str | os.PathLike[str], target: str | os.PathLike[str], direction: str, force: bool = False
) -> ConversionReport:
    """Rewrite the keys of a state-dict file for single- or multi-GPU (DataParallel) use.

    Args:
        source: ``.pdparams`` state-dict file.
        target: output file; never ``source`` itself; an existing file only with ``force``.
        direction: ``"single"`` (strip ``_layers.``) or ``"multi"`` (prefix ``_layers.``).
        force: overwrite an existing ``target`` (other than ``source``).

    Raises:
        HnasError: unknown direction, missing or unreadable source, target equal to the source
            or existing without ``force``.
    """
    source, target = Path(source), Path(target)
    if direction not in CONVERSIONS:
        raise HnasError(f"unknown conversion {direction!r}; known: {', '.join(CONVERSIONS)}")
    if not source.is_file():
        raise HnasError(f"{source}: no such checkpoint file")
    from hnas.io.outputs import check_output_file

    check_output_file(target, [source], force, what="output")
    state = read_state_dict(source, str(source))
    converted = CONVERSIONS[direction](state)
    renamed = sum(old != new for old, new in zip(state, converted))
    atomic_paddle_save(converted, target)
    return ConversionReport(source, target, direction, keys=len(converted), renamed=renamed)
