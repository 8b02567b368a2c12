"""Append-only progress file: one JSON line per evaluated architecture, so a killed run resumes.

Layout (JSON lines, UTF-8)::

    {"settings": {...}}                                   # first line: what produced the results
    {"key": "arch1", "arch": "1252...", "top1": 0.5, "top5": 0.9, "loss": 1.3}
    ...

Each record is written with a single ``write`` system call on an ``O_APPEND`` descriptor, so a
``kill -9`` leaves at most the last line cut short; :meth:`ProgressLog.open` drops such a line
and truncates the file back to the last complete record. Records are ``fsync``-ed at most
``fsync_interval`` seconds apart (a killed process loses nothing already written; the interval
bounds what a power cut can lose). Records carry the arch string and the first line the
evaluation settings, so resuming with a different input or different settings is refused
instead of mixing results. An exclusive ``flock`` keeps two processes off the same file.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping

from hnas.errors import HnasError, WriteError

logger = logging.getLogger(__name__)

PROGRESS_SUFFIX = ".progress.jsonl"


@dataclass(frozen=True)
class ArchResult:
    """Evaluation of one architecture on the validation images.

    Attributes:
        key: the architecture's key in the input file (``"arch17"``).
        arch: its arch code, as given in the input file.
        top1: top-1 accuracy as a fraction in [0, 1].
        top5: top-5 accuracy as a fraction in [0, 1].
        loss: mean cross-entropy per image (nats).
    """

    key: str
    arch: str
    top1: float
    top5: float
    loss: float

    def to_line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> ArchResult:
        return cls(
            key=str(record["key"]),
            arch=str(record["arch"]),
            top1=float(record["top1"]),
            top5=float(record["top5"]),
            loss=float(record["loss"]),
        )


def progress_path(result_path: str | os.PathLike[str]) -> Path:
    """The progress file belonging to a result file: ``out.json`` -> ``out.progress.jsonl``."""
    path = Path(result_path)
    return path.with_name(path.stem + PROGRESS_SUFFIX)


class ProgressLog:
    """The progress file of one result file (one shard); use as a context manager.

    Args:
        path: the progress file.
        settings: JSON-serialisable description of what produces the results (checkpoint,
            validation subset, BN recalibration, ...). Resuming requires equal settings.
        fsync_interval: seconds between ``fsync`` calls; 0 syncs every record.
    """

    def __init__(self, path: str | os.PathLike[str], settings: Mapping[str, Any], fsync_interval: float = 1.0):
        self.path = Path(path)
        self.settings = json.loads(json.dumps(dict(settings)))  # normalise tuples -> lists
        self.fsync_interval = fsync_interval
        self._fd: int | None = None
        self._last_sync = 0.0
        self._unsynced = 0

    def open(self, expected: Mapping[str, str], restart: bool = False) -> dict[str, ArchResult]:
        """Lock the file, load finished results and get ready to append.

        Args:
            expected: arch code per key of the input (shard) being evaluated.
            restart: discard any existing progress instead of resuming.

        Returns:
            Finished results by key, in file order.

        Raises:
            HnasError: another process holds the file, the file was written with other
                settings, or it holds keys or arch codes that differ from ``expected``.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise HnasError(f"{self.path}: another process is writing this progress file") from None
        self._fd = fd
        try:
            if restart:
                os.ftruncate(fd, 0)
            results = self._load(expected)
        except BaseException:
            self.close()
            raise
        self._last_sync = time.monotonic()
        return results

    def append(self, result: ArchResult) -> None:
        """Append one record (one ``write`` call), ``fsync``-ing per ``fsync_interval``."""
        self._write(result.to_line())
        self._unsynced += 1
        now = time.monotonic()
        if now - self._last_sync >= self.fsync_interval:
            self.sync()

    def sync(self) -> None:
        if self._fd is not None and self._unsynced:
            try:
                os.fsync(self._fd)
            except OSError as error:
                raise self._refused(error) from None
            self._unsynced = 0
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self.sync()
        finally:
            os.close(self._fd)  # also releases the flock
            self._fd = None

    def __enter__(self) -> ProgressLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, line: str) -> None:
        if self._fd is None:
            raise RuntimeError("ProgressLog.open() must be called before writing")
        data = line.encode("utf-8")
        end = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, data)
            if written != len(data):  # regular files take the whole buffer unless the disk is full
                raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} ({written} of {len(data)} bytes written)")
        except OSError as error:
            try:
                os.ftruncate(self._fd, end)  # drop a partial record: the file stays a valid progress file
            except OSError:
                pass  # a cut line is dropped on resume anyway
            raise self._refused(error) from None

    def _refused(self, error: OSError) -> WriteError:
        return WriteError(f"cannot write {self.path}: {error.strerror or error}; the results already in it "
                          "are intact")

    def _load(self, expected: Mapping[str, str]) -> dict[str, ArchResult]:
        assert self._fd is not None
        with open(self.path, "rb") as stream:
            data = stream.read()
        lines, good_end = _complete_lines(self.path, data)
        if good_end < len(data):
            logger.warning(
                "%s: dropping an incomplete last record (%d bytes), left by an interrupted run",
                self.path,
                len(data) - good_end,
            )
            os.ftruncate(self._fd, good_end)
        if not lines:
            self._write(json.dumps({"settings": self.settings}, sort_keys=True) + "\n")
            os.fsync(self._fd)
            return {}
        self._check_settings(lines[0])
        return self._check_records(lines[1:], expected)

    def _check_settings(self, first: dict[str, Any]) -> None:
        found = first.get("settings")
        if found == self.settings:
            return
        if not isinstance(found, dict):
            raise HnasError(f"{self.path}: line 1 is not a settings header; not an hnas progress file?")
        changed = sorted(k for k in set(found) | set(self.settings) if found.get(k) != self.settings.get(k))
        details = ", ".join(f"{k}: {found.get(k)!r} then, {self.settings.get(k)!r} now" for k in changed)
        raise HnasError(
            f"{self.path} holds results from other settings ({details}); delete it, pass --restart, "
            "or write to another --out"
        )

    def _check_records(self, lines: list[dict[str, Any]], expected: Mapping[str, str]) -> dict[str, ArchResult]:
        results: dict[str, ArchResult] = {}
        for number, record in enumerate(lines, start=2):
            try:
                result = ArchResult.from_json(record)
            except (KeyError, TypeError, ValueError) as error:
                raise HnasError(f"{self.path}: line {number}: bad record ({error})") from None
            if result.key not in expected:
                raise HnasError(
                    f"{self.path}: line {number}: key {result.key!r} is not in the input being evaluated; "
                    "the progress file belongs to another input (delete it, pass --restart, or use another --out)"
                )
            if expected[result.key] != result.arch:
                raise HnasError(
                    f"{self.path}: line {number}: key {result.key!r} was evaluated as arch {result.arch} "
                    f"but the input now says {expected[result.key]}; the input changed since that run "
                    "(delete the progress file, pass --restart, or use another --out)"
                )
            results.setdefault(result.key, result)
        return results


def _complete_lines(path: Path, data: bytes) -> tuple[list[dict[str, Any]], int]:
    """Parse newline-terminated JSON lines; return them and the byte offset after the last good one.

    Only the final line may be damaged (cut short by a kill); damage earlier is an error.
    """
    records: list[dict[str, Any]] = []
    offset = 0
    while offset < len(data):
        end = data.find(b"\n", offset)
        if end == -1:  # unterminated tail: the write was cut short
            return records, offset
        try:
            record = json.loads(data[offset:end])
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            if data.find(b"\n", end + 1) == -1:  # nothing complete follows: a cut-short tail
                return records, offset
            line_number = data.count(b"\n", 0, offset) + 1
            raise HnasError(f"{path}: line {line_number}: corrupt progress record ({error})") from None
        records.append(record)
        offset = end + 1
    return records, offset
