"""Errors that the command line turns into a clear message and exit code 2."""

from __future__ import annotations

USAGE_EXIT_CODE = 2


class HnasError(Exception):
    """Bad input from the user: a file, a config, an arch code or a checkpoint.

    The CLI prints ``hnas: error: <message>`` and exits with code 2; nothing is written.
    """


class ArchCodeError(HnasError, ValueError):
    """A malformed arch code; the message names the character position and the reason."""

    def __init__(self, code: str, position: int | None, reason: str) -> None:
        self.code = code
        self.position = position
        self.reason = reason
        where = f"position {position}" if position is not None else "whole code"
        super().__init__(f"arch code {code!r}: {where}: {reason}")
