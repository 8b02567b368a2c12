"""A small progress reporter for long loops: a redrawn bar on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

logger = logging.getLogger(__name__)


def format_duration(seconds: float) -> str:
    """``3725`` -> ``"1:02:05"``, ``65`` -> ``"01:05"``."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class ProgressReporter:
    """Reports ``done/total``, rate and ETA of a loop.

    On a terminal a single line is redrawn at most every ``min_interval`` seconds; elsewhere
    (logs, CI, ``nohup``) one log line is written every ``log_every`` items and at the end.

    Args:
        total: items to process in this run.
        unit: item name in the output ("archs").
        stream: where the bar goes; its ``isatty()`` picks the mode.
        log_every: items between log lines when not on a terminal (default: about 20 lines per run).
        min_interval: seconds between redraws on a terminal.
        label: prefix of every line (e.g. the shard).
    """

    def __init__(
        self,
        total: int,
        unit: str = "archs",
        stream: TextIO | None = None,
        log_every: int | None = None,
        min_interval: float = 0.2,
        label: str = "",
    ) -> None:
        self.total = total
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_every = log_every or max(1, total // 20)
        self.min_interval = min_interval
        self.label = f"{label} " if label else ""
        self.done = 0
        self._start = time.monotonic()
        self._last_draw = 0.0

    @property
    def rate(self) -> float:
        """Items per second so far (0 before the first item)."""
        elapsed = time.monotonic() - self._start
        return self.done / elapsed if elapsed > 0 and self.done else 0.0

    def line(self) -> str:
        rate = self.rate
        eta = format_duration((self.total - self.done) / rate) if rate else "--:--"
        percent = 100.0 * self.done / self.total if self.total else 100.0
        return (
            f"{self.label}{self.done}/{self.total} {self.unit} ({percent:5.1f}%) "
            f"{rate:.2f} {self.unit}/s ETA {eta} elapsed {format_duration(time.monotonic() - self._start)}"
        )

    def update(self, count: int = 1) -> None:
        self.done += count
        finished = self.done >= self.total
        if self.interactive:
            now = time.monotonic()
            if finished or now - self._last_draw >= self.min_interval:
                self._last_draw = now
                self.stream.write("\r" + self.line() + "\x1b[K")
                self.stream.flush()
        elif finished or self.done % self.log_every == 0:
            logger.info("%s", self.line())

    def close(self) -> None:
        if self.interactive and self.done:
            self.stream.write("\n")
            self.stream.flush()
