"""Arch JSON files in the CVPR 2022 NAS Track 1 format, and score files.

The competition format maps a key to an arch code and an accuracy::

    {"arch1": {"acc": 0.0, "arch": "1252233313000000223212122253130000000000006515000000"}, ...}

The test file ships with ``acc`` 0.0 everywhere; a submission is the same file with ``acc``
filled in. :func:`load_arch_file` checks the whole file and reports every bad entry at
once, so one run of ``hnas validate`` shows everything there is to fix.
"""

from __future__ import annotations

import json
import math
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple

from hnas.errors import ArchCodeError, HnasError, shorten
from hnas.io.atomic import atomic_write_text
from hnas.search_spaces.base import SearchSpace, Spec
from hnas.search_spaces.spaces import SPACES

#: Fields of one entry of the competition format, in the order they are written.
ENTRY_FIELDS: tuple[str, ...] = ("acc", "arch")

#: How many problems an exception message spells out before it only counts the rest.
MAX_LISTED_PROBLEMS = 20


@dataclass(frozen=True)
class ArchEntry:
    """One entry of an arch file.

    Attributes:
        key: the entry's name in the file (``arch1`` ...), kept as given.
        arch: the arch code as written in the file.
        spec: the parsed arch code.
        acc: the accuracy field (0.0 in the released test file).
    """

    key: str
    arch: str
    spec: Spec
    acc: float


class ArchFileError(HnasError):
    """An arch or score file with bad entries; ``problems`` lists all of them."""

    def __init__(self, path: str | os.PathLike[str], problems: list[str], total: int | None = None) -> None:
        self.path = str(path)
        self.problems = problems
        self.total = total
        super().__init__(format_problems(self.path, problems, total, limit=MAX_LISTED_PROBLEMS))


def format_problems(path: str, problems: list[str], total: int | None = None, limit: int | None = None) -> str:
    """``"<path>: 3 problems in 10 entries:"`` and one indented line per problem (``limit`` at most)."""
    noun = "problem" if len(problems) == 1 else "problems"
    scope = f" in {total} {'entry' if total == 1 else 'entries'}" if total is not None else ""
    shown = problems if limit is None else problems[:limit]
    lines = [f"{path}: {len(problems)} {noun}{scope}:"]
    lines += [f"  {problem}" for problem in shown]
    if len(shown) < len(problems):
        lines.append(f"  ... and {len(problems) - len(shown)} more")
    return "\n".join(lines)


class JsonObject(dict):
    """A JSON object that remembers keys given more than once (``json`` keeps the last)."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> JsonObject:
    result = JsonObject(pairs)
    result.duplicates = []
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                result.duplicates.append(key)
            seen.add(key)
    return result


def read_json_object(path: str | os.PathLike[str], what: str = "arch file") -> JsonObject:
    """Read a JSON file whose top level must be a non-empty object.

    Raises:
        HnasError: missing or unreadable file, empty file, invalid JSON (with line and
            column), a top level that is not an object or an empty object. Keys given more
            than once are left in ``duplicates`` for the caller to report with its other problems.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")  # tolerate a byte-order mark
    except FileNotFoundError:
        raise HnasError(f"{source}: no such {what}") from None
    except IsADirectoryError:
        raise HnasError(f"{source}: is a directory, expected a JSON {what}") from None
    except UnicodeDecodeError as error:
        raise HnasError(f"{source}: not UTF-8 text (byte {error.start}): not a JSON {what}") from None
    except OSError as error:
        raise HnasError(f"{source}: cannot read {what} ({error.strerror})") from None
    if not text.strip():
        raise HnasError(f"{source}: file is empty, expected a JSON {what}")
    try:
        data = json.loads(text, object_pairs_hook=_object_pairs)
    except json.JSONDecodeError as error:
        body = text.strip()
        truncated = " (the file looks truncated)" if body[0] in "{[" and body[-1] not in "}]" else ""
        raise HnasError(
            f"{source}: line {error.lineno} column {error.colno}: invalid JSON: {error.msg}{truncated}"
        ) from None
    except RecursionError:
        raise HnasError(f"{source}: JSON nested too deeply; expected a JSON {what}") from None
    if not isinstance(data, JsonObject):
        raise HnasError(f"{source}: top level is a JSON {_json_type(data)}, expected an object mapping keys to entries")
    if not data:
        raise HnasError(f"{source}: contains no entries")
    return data


def _duplicate_problems(data: JsonObject) -> list[str]:
    return [f"{key}: key appears more than once" for key in data.duplicates]


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _resolve_space(space: SearchSpace | str) -> SearchSpace:
    return SPACES.get(space) if isinstance(space, str) else space


def parse_entry(key: str, value: Any, space: SearchSpace) -> ArchEntry:
    """Check one ``"key": {"acc": ..., "arch": ...}`` entry and parse its arch code.

    Raises:
        HnasError: the message names the problem (not the key or the file).
    """
    if not isinstance(value, dict):
        raise HnasError(f'entry is a JSON {_json_type(value)}, expected an object {{"acc": ..., "arch": ...}}')
    if isinstance(value, JsonObject) and value.duplicates:
        raise HnasError(f"field {value.duplicates[0]!r} appears more than once")
    missing = [name for name in ENTRY_FIELDS if name not in value]
    if missing:
        raise HnasError(f"missing field{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}")
    unexpected = [name for name in value if name not in ENTRY_FIELDS]
    if unexpected:
        raise HnasError(
            f"unexpected field{'s' if len(unexpected) > 1 else ''} {', '.join(map(repr, unexpected))}; "
            "an entry has exactly 'acc' and 'arch'"
        )
    acc = value["acc"]
    if not _is_number(acc):
        raise HnasError(f"'acc' is a JSON {_json_type(acc)} ({acc!r}), expected a number")
    arch = value["arch"]
    if not isinstance(arch, str):
        raise HnasError(f"'arch' is a JSON {_json_type(arch)} ({shorten(repr(arch))}), expected a string of digits")
    try:
        spec = space.decode(arch)
    except ArchCodeError as error:
        message = str(error)
        named = f"space {space.name!r}" in message or f"space {space.name} " in message
        raise HnasError(message if named else f"{message} (space {space.name})") from None
    return ArchEntry(key=key, arch=arch, spec=spec, acc=float(acc))


class ArchFileCheck(NamedTuple):
    """Result of :func:`check_arch_file`.

    Attributes:
        entries: the good entries, in file order.
        problems: one ``"<key>: <reason>"`` line per bad entry, in file order.
        total: number of entries written in the file (a repeated key counts each time).
        keys: every distinct key of the file, good or bad, in file order.
    """

    entries: dict[str, ArchEntry]
    problems: list[str]
    total: int
    keys: tuple[str, ...]


def check_arch_file(path: str | os.PathLike[str], space: SearchSpace | str) -> ArchFileCheck:
    """Parse every entry of an arch file, collecting the bad ones instead of raising.

    File-level problems (missing, empty, invalid JSON, wrong top level) still raise
    :class:`HnasError`, since there are no entries to report on.
    """
    space = _resolve_space(space)
    data = read_json_object(path)
    entries: dict[str, ArchEntry] = {}
    problems = _duplicate_problems(data)
    for key, value in data.items():
        try:
            entries[key] = parse_entry(key, value, space)
        except HnasError as error:
            problems.append(f"{key}: {error}")
    return ArchFileCheck(entries, problems, total=len(data) + len(data.duplicates), keys=tuple(data))


def load_arch_file(path: str | os.PathLike[str], space: SearchSpace | str) -> dict[str, ArchEntry]:
    """Load a competition-format arch file, in file order, checking every entry.

    Args:
        path: JSON file ``{"arch1": {"acc": 0.0, "arch": "<code>"}, ...}``.
        space: the :class:`SearchSpace` (or its ``SPACES`` name) the codes belong to.

    Raises:
        ArchFileError: listing every bad entry (the message spells out the first 20).
        HnasError: if the file as a whole cannot be read as an arch file.
    """
    check = check_arch_file(path, space)
    if check.problems:
        raise ArchFileError(path, check.problems, total=check.total)
    return check.entries


def entries_from_codes(
    codes: Iterable[str], space: SearchSpace | str, source: str = "arch codes"
) -> dict[str, ArchEntry]:
    """Entries ``arch1``, ``arch2``, ... for arch codes given in order, each with ``acc`` 0.0.

    The keys are those of the competition file, so codes given one by one (on the command
    line, by a sampler) are handled and written like an arch file.

    Args:
        codes: arch codes; the i-th (from 1) becomes ``arch<i>``.
        space: the :class:`SearchSpace` (or its ``SPACES`` name) the codes belong to.
        source: how error messages name where the codes came from.

    Raises:
        ArchFileError: listing every bad code.
    """
    space = _resolve_space(space)
    entries: dict[str, ArchEntry] = {}
    problems: list[str] = []
    codes = list(codes)
    for index, code in enumerate(codes, start=1):
        key = f"arch{index}"
        try:
            entries[key] = ArchEntry(key=key, arch=code, spec=space.decode(code), acc=0.0)
        except ArchCodeError as error:
            problems.append(f"{key}: {error}")
    if problems:
        raise ArchFileError(source, problems, total=len(codes))
    return entries


def sample_entries(entries: Mapping[str, ArchEntry], n: int, seed: int) -> dict[str, ArchEntry]:
    """A seeded random subset of ``n`` entries, keeping their keys and the file's order.

    Raises:
        HnasError: if ``n`` is not in ``1..len(entries)``.
    """
    if not 1 <= n <= len(entries):
        raise HnasError(f"cannot draw {n} archs from a file of {len(entries)}")
    chosen = set(random.Random(seed).sample(range(len(entries)), n))
    return {key: entry for index, (key, entry) in enumerate(entries.items()) if index in chosen}


def submission_problems(entries: Mapping[str, ArchEntry]) -> list[str]:
    """What keeps parsed entries from being a submission: non-finite or all-equal accuracies.

    Equal accuracies everywhere (0.0 in the released test file) rank nothing, so Kendall
    tau and Pearson are undefined; that usually means ``acc`` was never filled in.
    """
    problems = [
        f"{key}: acc is {entry.acc!r}; a submission needs a finite number"
        for key, entry in entries.items()
        if not math.isfinite(entry.acc)
    ]
    accs = {entry.acc for entry in entries.values()}
    if len(entries) > 1 and len(accs) == 1:
        problems.append(
            f"(all entries): all {len(entries)} accuracies are {next(iter(accs))!r}, which ranks nothing; "
            "was acc filled in?"
        )
    return problems


def reference_problems(
    keys: Iterable[str], entries: Mapping[str, ArchEntry], reference: Mapping[str, ArchEntry], reference_name: str
) -> list[str]:
    """Differences from a reference arch file (the test file a submission answers).

    Args:
        keys: every key of the checked file, including entries that failed to parse.
        entries: its parsed entries; arch codes are compared for keys in both files.
        reference: the parsed reference file.
        reference_name: how messages name the reference (usually its path).
    """
    keys = list(keys)
    key_set = set(keys)
    problems = [f"{key}: not in {reference_name}" for key in keys if key not in reference]
    problems += [f"{key}: missing (it is in {reference_name})" for key in reference if key not in key_set]
    problems += [
        f"{key}: arch {entries[key].arch} differs from {reference[key].arch} in {reference_name}"
        for key in keys
        if key in entries and key in reference and entries[key].arch != reference[key].arch
    ]
    return problems


def write_arch_file(path: str | os.PathLike[str], entries: Mapping[str, ArchEntry], accs: Mapping[str, float]) -> None:
    """Write ``entries`` with ``acc`` taken from ``accs``, atomically, in the order of ``entries``.

    The layout is that of the competition file (one line, ``json`` default separators), so
    writing a loaded test file with its own accuracies reproduces it byte for byte.

    Raises:
        HnasError: if ``accs`` misses keys of ``entries`` or has keys not in it.
        ValueError: if an accuracy is not a finite number.
    """
    missing = [key for key in entries if key not in accs]
    extra = [key for key in accs if key not in entries]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no accuracy for {len(missing)} entries ({_preview(missing)})")
        if extra:
            parts.append(f"{len(extra)} accuracies for unknown keys ({_preview(extra)})")
        raise HnasError(f"cannot write {path}: " + "; ".join(parts))
    document: dict[str, dict[str, Any]] = {}
    for key, entry in entries.items():
        acc = accs[key]
        if not _is_number(acc) or not math.isfinite(acc):
            raise ValueError(f"accuracy of {key!r} is {acc!r}, expected a finite number")
        document[key] = {"acc": float(acc), "arch": entry.arch}
    atomic_write_text(path, json.dumps(document, allow_nan=False))


def _preview(keys: Iterable[str], limit: int = 5) -> str:
    keys = list(keys)
    shown = ", ".join(keys[:limit])
    return shown + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")


def load_score_file(path: str | os.PathLike[str]) -> dict[str, float]:
    """Read ``{key: number}`` or the competition format ``{key: {"acc": number, ...}}``.

    Arch strings are not parsed (keys and any other fields are opaque), so this reads score
    files of any space. Both layouts may not be mixed.

    Raises:
        ArchFileError: listing every entry without a finite number.
        HnasError: if the file as a whole cannot be read.
    """
    data = read_json_object(path, what="score file")
    scores: dict[str, float] = {}
    problems = _duplicate_problems(data)
    layouts: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict):
            layouts.add("object")
            if "acc" not in value:
                problems.append(f"{key}: entry has no 'acc' field")
                continue
            value = value["acc"]
        else:
            layouts.add("number")
        if not _is_number(value):
            problems.append(f"{key}: score is a JSON {_json_type(value)} ({shorten(repr(value))}), expected a number")
        elif not math.isfinite(value):
            problems.append(f"{key}: score is {value!r}, expected a finite number")
        else:
            scores[key] = float(value)
    if len(layouts) > 1:
        problems.insert(0, 'mixes plain numbers and {"acc": ...} objects; use one layout')
    if problems:
        raise ArchFileError(path, problems, total=len(data) + len(data.duplicates))
    return scores
