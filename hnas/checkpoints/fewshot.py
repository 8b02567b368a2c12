"""The few-shot folder: ``fewshot.json`` and one training checkpoint root per part.

.. code-block:: text

    DIR/fewshot.json              format, parent checkpoint, space record, split, parts, epochs
    DIR/part0_depth3-2/last/ ...  a normal ``hnas train`` checkpoint root per part
    DIR/part1_depth3-3/last/ ...

``hnas eval --ckpt DIR`` reads the manifest and scores each arch with the sub-supernet of its
part; ``hnas train``, ``hnas search`` and ``hnas export`` take one part's folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hnas.checkpoints.space_record import read_space, space_record
from hnas.errors import HnasError
from hnas.fewshot.split import Split
from hnas.io.atomic import atomic_write_text
from hnas.search_spaces.base import SearchSpace

MANIFEST_FILE = "fewshot.json"
FORMAT = "hnas-fewshot"
VERSION = 1


@dataclass(frozen=True)
class FewShotManifest:
    """A few-shot folder's description.

    Attributes:
        root: the folder holding the manifest.
        split: the partition of the space.
        parent: the parent supernet checkpoint every part started from.
        space: the search space (stored as a space record, :mod:`hnas.checkpoints.space_record`).
        parts: each part's folder name under ``root``, in split order.
        epochs: training epochs of each part.
    """

    root: Path
    split: Split
    parent: Path
    space: SearchSpace
    parts: tuple[str, ...]
    epochs: int

    def part_dir(self, index: int) -> Path:
        return self.root / self.parts[index]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "parent": str(self.parent),
            **space_record(self.space),
            "split": self.split.to_json(),
            "parts": list(self.parts),
            "epochs": self.epochs,
        }

    def write(self) -> Path:
        path = self.root / MANIFEST_FILE
        atomic_write_text(path, json.dumps(self.to_json(), indent=2) + "\n")
        return path


def is_fewshot_dir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a few-shot folder (holds ``fewshot.json``)."""
    return (Path(path) / MANIFEST_FILE).is_file()


def read_manifest(root: str | os.PathLike[str]) -> FewShotManifest:
    """Read and check ``ROOT/fewshot.json``.

    Raises:
        HnasError: unreadable, not a few-shot manifest, or inconsistent (parts vs split).
    """
    root = Path(root)
    path = root / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HnasError(f"{path}: cannot read the few-shot manifest ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise HnasError(f"{path}: not a few-shot manifest (expected \"format\": \"{FORMAT}\")")
    if data.get("version") != VERSION:
        raise HnasError(f"{path}: few-shot manifest version {data.get('version')!r}; this hnas reads {VERSION}")
    try:
        manifest = FewShotManifest(
            root=root,
            split=Split.from_json(data["split"]),
            parent=Path(data["parent"]),
            space=read_space(data, str(path)),
            parts=tuple(str(part) for part in data["parts"]),
            epochs=int(data["epochs"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise HnasError(f"{path}: incomplete few-shot manifest ({error!r})") from None
    if len(manifest.parts) != len(manifest.split.groups):
        raise HnasError(f"{path}: {len(manifest.parts)} part folders for {len(manifest.split.groups)} groups")
    return manifest
