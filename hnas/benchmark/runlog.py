"""Append-only log of finished stand-alone runs, one JSON line per ``(arch, seed)``.

Layout::

    {"header": {...}}                                       # what the runs belong to
    {"key": "arch3", "arch": "1435...", "seed": 0, "acc": 0.81, ...}

Each record is one ``write`` on an ``O_APPEND`` descriptor followed by ``fsync``; a killed
build leaves at most a cut last line, which :meth:`RunLog.open` drops. Resuming under a
different header (other recipe or archs, or seeds that are not a superset of the logged ones)
is refused rather than mixing results; adding seeds to a finished build is allowed.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from hnas.benchmark.recipe import Recipe
from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRecord:
    """One finished stand-alone run.

    Attributes:
        key: the arch's key in the benchmark (``"arch7"``).
        arch: its arch code.
        seed: the training seed.
        acc: val top-1 in [0, 1].
        val_loss: mean val cross-entropy (nats).
        train_loss: mean training loss of the last epoch.
        seconds: wall time of the run.
    """

    key: str
    arch: str
    seed: int
    acc: float
    val_loss: float
    train_loss: float
    seconds: float

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> RunRecord:
        return cls(key=str(record["key"]), arch=str(record["arch"]), seed=int(record["seed"]),
                   acc=float(record["acc"]), val_loss=float(record["val_loss"]),
                   train_loss=float(record["train_loss"]), seconds=float(record["seconds"]))


def _normalise(value: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(dict(value)))


def read_runlog(path: str | os.PathLike[str]) -> tuple[dict[str, Any] | None, list[RunRecord]]:
    """The header and the complete records of a run log (a cut last line is ignored)."""
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    header: dict[str, Any] | None = None
    records: list[RunRecord] = []
    for number, line in enumerate(lines[:-1], start=1):  # the part after the last newline is cut
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if number == 1 and "header" in item:
                header = item["header"]
            else:
                records.append(RunRecord.from_json(item))
        except (ValueError, KeyError, TypeError) as error:
            raise HnasError(f"{path}: line {number} is not a run record ({error})") from None
    return header, records


def with_recipe_defaults(header: Mapping[str, Any]) -> dict[str, Any]:
    """``header`` with the recipe options it predates filled in with their defaults.

    A recipe option is added with the old behaviour as its default, so a log written before
    the option existed belongs to a build that sets it to the default.
    """
    filled = dict(header)
    if isinstance(filled.get("recipe"), Mapping):
        filled["recipe"] = _normalise(Recipe.from_dict(filled["recipe"]).to_dict())
    return filled


def extends(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a build with header ``new`` may continue the log of header ``old``.

    Every field must be equal, except that ``new["seeds"]`` may add seeds after the old ones.
    """
    rest_old = {key: value for key, value in old.items() if key != "seeds"}
    rest_new = {key: value for key, value in new.items() if key != "seeds"}
    old_seeds, new_seeds = list(old.get("seeds", [])), list(new.get("seeds", []))
    return rest_old == rest_new and new_seeds[:len(old_seeds)] == old_seeds


class RunLog:
    """The run log of one benchmark build.

    Args:
        path: the ``.jsonl`` file.
        header: JSON-ready description of the build (recipe, archs, seeds); resuming needs
            an equal header, or one that only appends seeds (see :func:`extends`).
    """

    def __init__(self, path: str | os.PathLike[str], header: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.header = _normalise(header)
        self._fd: int | None = None

    def open(self, restart: bool = False) -> list[RunRecord]:
        """Start or resume: returns the records already finished.

        Raises:
            HnasError: the file belongs to a build with a different header.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        records: list[RunRecord] = []
        if self.path.exists() and not restart:
            header, records = read_runlog(self.path)
            if header is not None:
                header = with_recipe_defaults(header)
            if header is not None and not extends(header, self.header):
                changed = sorted(k for k in set(header) | set(self.header)
                                 if header.get(k) != self.header.get(k))
                raise HnasError(f"{self.path} belongs to another build (differs in {changed}); "
                                "pass --restart to discard it or choose another --out")
            if header is None:
                records = []
        self._rewrite(records)  # also drops a cut last line
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        return records

    def _rewrite(self, records: list[RunRecord]) -> None:
        lines = [json.dumps({"header": self.header})] + [json.dumps(asdict(r)) for r in records]
        atomic_write_text(self.path, "\n".join(lines) + "\n")

    def append(self, record: RunRecord) -> None:
        if self._fd is None:
            raise RuntimeError("RunLog.append before open")
        os.write(self._fd, (json.dumps(asdict(record)) + "\n").encode("utf-8"))
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
