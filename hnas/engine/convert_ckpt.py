"""Importing a supernet trained elsewhere: PaddleSlim OFA state dicts -> an hnas checkpoint folder.

``hnas convert-ckpt --from paddleslim SRC --out DIR`` reads the state dict of a PaddleSlim OFA
ResNet supernet in the official baseline's layer naming (``model.blocks.1.conv1.fn.weight``,
optionally under DataParallel ``_layers.``; see :mod:`hnas.engine.pretrained`), renames it to
hnas's supernet and writes an evaluation checkpoint folder that ``hnas eval --ckpt DIR``
accepts (:func:`hnas.engine.checkpoint.save_weights_checkpoint`).

Everything is checked before anything is written: every source key must have an hnas name
(the teacher copy of OFA distillation is skipped and reported), and names and shapes must fill
the supernet of the chosen space exactly; otherwise :class:`HnasError` lists the first
offending keys. Channels are not reordered: the weights were trained with their order.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from hnas.checkpoints.folder import save_weights_checkpoint
from hnas.config import config_to_dict
from hnas.engine.pretrained import KeyMapping, map_paddleslim_state
from hnas.errors import HnasError
from hnas.nn.state_dict import compare_state, read_state_dict
from hnas.search_spaces.base import SearchSpace
from hnas.train_config import TrainConfig

logger = logging.getLogger(__name__)

#: Formats ``--from`` accepts.
FORMATS: tuple[str, ...] = ("paddleslim",)
_SHOWN = 5


@dataclass(frozen=True)
class ConversionSummary:
    """What :func:`convert_paddleslim` wrote."""

    source: Path
    folder: Path
    space: str
    tensors: int
    skipped: tuple[str, ...]

    def describe(self) -> str:
        skipped = f"; skipped {len(self.skipped)} distillation-teacher keys" if self.skipped else ""
        return (f"{self.source} -> {self.folder}: {self.tensors} tensors mapped onto the {self.space} supernet, "
                f"0 unmapped{skipped}")


def _first(keys: tuple[str, ...] | list[str]) -> str:
    return ", ".join(keys[:_SHOWN]) + (", ..." if len(keys) > _SHOWN else "")


def check_mapping(mapping: KeyMapping, expected: dict[str, object], source: str, space: SearchSpace) -> None:
    """Raise naming the first unmapped, missing and wrong-shaped keys unless ``mapping`` fills ``expected``.

    Raises:
        HnasError: the state dict is not a PaddleSlim or hnas state dict of this space's layout.
    """
    unmapped = list(mapping.unmapped) + [mapping.origin[key] for key in mapping.state if key not in expected]
    known = {key: value for key, value in mapping.state.items() if key in expected}
    mismatch = compare_state(known, expected)
    if not unmapped and mismatch.ok:
        return
    problems = []
    if unmapped:
        problems.append(f"{len(unmapped)} unmapped key(s), first: {_first(unmapped)}")
    if mismatch.wrong_shapes:
        shown = ", ".join(f"{mapping.origin[key]} (checkpoint {list(found)}, {space.name} {list(wanted)})"
                          for key, found, wanted in mismatch.wrong_shapes[:_SHOWN])
        problems.append(f"{len(mismatch.wrong_shapes)} shape mismatch(es), first: {shown}")
    if mismatch.missing:
        problems.append(f"{len(mismatch.missing)} supernet tensor(s) not in the checkpoint, first: "
                        f"{_first(mismatch.missing)}")
    raise HnasError(
        f"{source} is not a PaddleSlim OFA (or hnas) supernet state dict of space {space.name!r}: "
        + "; ".join(problems)
        + ". Is it of another depth/width layout (pick --space) or another network?"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_output(out: Path, source: Path, force: bool) -> None:
    """Refuse an output that exists (without ``force``), is a file, or contains the source.

    Raises:
        HnasError: naming the problem.
    """
    if out.exists() and not out.is_dir():
        raise HnasError(f"--out {out} exists and is not a folder")
    if out.exists() and not force:
        raise HnasError(f"--out {out} exists; pass --force to replace it")
    if out.exists() and source.resolve().is_relative_to(out.resolve()):
        raise HnasError(f"--out {out} contains the source {source}; choose another folder")


def convert_paddleslim(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    space: SearchSpace,
    config: TrainConfig,
    force: bool = False,
) -> ConversionSummary:
    """Convert a PaddleSlim OFA ResNet supernet state-dict file into an hnas checkpoint folder.

    Args:
        source: ``.pdparams`` file saved from the OFA wrapper, its ``model`` or a DataParallel of either.
        out: folder to write (``model.pdparams``, ``meta.json``, ``config.yaml``).
        space: the hnas space whose supernet the weights fill (``resnet48`` for the baseline's ResNet48).
        config: the training config stored as ``config.yaml`` (data section used by ``hnas eval``).
        force: replace an existing ``out``.

    Raises:
        HnasError: unreadable source, unusable output, or keys / shapes that do not fit
            (nothing is written then).
    """
    source, out = Path(source), Path(out)
    if source.is_dir():
        raise HnasError(f"{source} is a folder; pass the state-dict file in it (e.g. final.pdparams)")
    if not source.is_file():
        raise HnasError(f"{source}: no such checkpoint file")
    check_output(out, source, force)
    state = read_state_dict(source, str(source))
    mapping = map_paddleslim_state(state, space)
    supernet = space.build_supernet()
    expected = supernet.state_dict()
    check_mapping(mapping, expected, str(source), space)
    supernet.set_state_dict(mapping.state)
    config_text = yaml.safe_dump(config_to_dict(config), sort_keys=False, default_flow_style=False)
    meta = {"converted_from": {"format": "paddleslim", "file": str(source), "sha256": _sha256(source),
                               "skipped_keys": len(mapping.skipped)}}
    save_weights_checkpoint(out, supernet.state_dict(), space, config_text, meta)
    logger.info("wrote %s", out)
    return ConversionSummary(source, out, space.name, len(mapping.state), mapping.skipped)
