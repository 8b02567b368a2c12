"""Errors that the command line turns into a clear message and exit code 2."""

from __future__ import annotations

USAGE_EXIT_CODE = 2

#: Longest user value echoed whole into a message; longer ones are cut (a 200 MB arch string).
SHOWN_CHARS = 80


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters with the total length noted, for error messages."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


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
        super().__init__(f"arch code {shorten(repr(code))}: {where}: {reason}")


class WriteError(HnasError):
    """A write that the filesystem refused midway (disk full, folder removed meanwhile).

    The message names the path and what is still intact; the CLI adds the command's
    ``resume_hint`` (how to continue), if it has one.
    """
