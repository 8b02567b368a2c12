"""Splitting an arch file into contiguous shards, naming their files, and merging them back.

Shards are 0-based (``--shard 0/4`` .. ``--shard 3/4``), like ``PADDLE_TRAINER_ID``. Shard ``i``
of ``N`` is a contiguous run of the input in its original order; sizes differ by at most one,
the first ``len % N`` shards taking the extra entry.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence, TypeVar

from hnas.errors import HnasError
from hnas.io.archs import ArchEntry, load_arch_file, write_arch_file
from hnas.io.outputs import check_not_input, check_output_dir
from hnas.search_spaces.base import SearchSpace

V = TypeVar("V")

_PART_PATTERN = re.compile(r"^(?P<stem>.*)_part(?P<index>\d+)of(?P<count>\d+)$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise HnasError(f"shard {self.index}/{self.count}: need count >= 1 and 0 <= index < count")

    @property
    def is_whole(self) -> bool:
        return self.count == 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str, environ: Mapping[str, str] | None = None) -> Shard:
    """Parse ``"i/N"``; ``"auto"`` reads ``PADDLE_TRAINER_ID``/``PADDLE_TRAINERS_NUM``.

    ``auto`` outside ``paddle.distributed.launch`` (no such variables) means the whole file.
    """
    if text == "auto":
        env = os.environ if environ is None else environ
        rank, world = env.get("PADDLE_TRAINER_ID"), env.get("PADDLE_TRAINERS_NUM")
        if rank is None or world is None:
            return Shard(0, 1)
        text = f"{rank}/{world}"
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise HnasError(f"shard {text!r}: expected INDEX/COUNT with a 0-based index, e.g. 0/4, or 'auto'")
    return Shard(int(match.group(1)), int(match.group(2)))


def shard_bounds(total: int, shard: Shard) -> tuple[int, int]:
    """``[start, stop)`` of ``shard`` in a sequence of ``total`` items."""
    base, extra = divmod(total, shard.count)
    start = shard.index * base + min(shard.index, extra)
    return start, start + base + (1 if shard.index < extra else 0)


def split_entries(entries: Mapping[str, V], parts: int) -> list[dict[str, V]]:
    """Split ``entries`` into ``parts`` contiguous, balanced dicts keeping their order.

    Parts may be empty when ``parts > len(entries)``.
    """
    if parts < 1:
        raise HnasError(f"cannot split into {parts} parts; need at least 1")
    items = list(entries.items())
    result = []
    for index in range(parts):
        start, stop = shard_bounds(len(items), Shard(index, parts))
        result.append(dict(items[start:stop]))
    return result


def shard_of(entries: Mapping[str, V], index: int, count: int) -> dict[str, V]:
    """Shard ``index`` of ``count`` of ``entries`` (see :func:`split_entries`)."""
    shard = Shard(index, count)
    items = list(entries.items())
    start, stop = shard_bounds(len(items), shard)
    return dict(items[start:stop])


def part_path(path: str | os.PathLike[str], shard: Shard) -> Path:
    """``dir/name.json`` -> ``dir/name_part{i}of{N}.json``."""
    target = Path(path)
    return target.with_name(f"{target.stem}_part{shard.index}of{shard.count}{target.suffix}")


def part_of_path(path: str | os.PathLike[str]) -> Shard | None:
    """The shard a file named by :func:`part_path` belongs to, or ``None`` for other names."""
    match = _PART_PATTERN.match(Path(path).stem)
    if not match:
        return None
    try:
        return Shard(int(match.group("index")), int(match.group("count")))
    except HnasError:
        return None


def order_parts(paths: Sequence[Path]) -> list[Path]:
    """Sort part files by shard index when all follow :func:`part_path` naming.

    Raises:
        HnasError: named parts disagree on the count, repeat an index, or leave one out.
    """
    shards = [part_of_path(path) for path in paths]
    if any(shard is None for shard in shards):
        return list(paths)
    counts = {shard.count for shard in shards if shard is not None}
    if len(counts) != 1:
        raise HnasError(f"part files come from different splits (counts {sorted(counts)}): {list(map(str, paths))}")
    count = counts.pop()
    by_index: dict[int, Path] = {}
    for path, shard in zip(paths, shards):
        assert shard is not None
        if shard.index in by_index:
            raise HnasError(f"part {shard} given twice: {by_index[shard.index]} and {path}")
        by_index[shard.index] = path
    absent = [str(i) for i in range(count) if i not in by_index]
    if absent:
        raise HnasError(f"missing part file(s) {', '.join(absent)} of {count} (0-based)")
    return [by_index[i] for i in range(count)]


def merge_entries(
    parts: Sequence[tuple[str, Mapping[str, V]]],
    original: Mapping[str, V] | None = None,
    arch_of: Callable[[V], str | None] | None = None,
) -> dict[str, V]:
    """Concatenate part dicts, checking that no key repeats.

    Args:
        parts: ``(name, entries)`` per part file, in order; names go into error messages.
        original: the file that was split; when given, the key sets must be equal, the arch
            codes must match, and the result follows the original's key order.
        arch_of: extracts the arch code of an entry (``None`` when it has none).

    Raises:
        HnasError: listing duplicate keys, keys missing from the parts, keys unknown to the
            original and arch-code mismatches (the first few of each).
    """
    merged: dict[str, V] = {}
    source: dict[str, str] = {}
    problems: list[str] = []
    for name, entries in parts:
        for key, value in entries.items():
            if key in merged:
                problems.append(f"key {key!r} appears in both {source[key]} and {name}")
                continue
            merged[key] = value
            source[key] = name
    if original is not None:
        missing = [key for key in original if key not in merged]
        unknown = [key for key in merged if key not in original]
        if missing:
            problems.append(f"{len(missing)} key(s) of the original are in no part: {_preview(missing)}")
        if unknown:
            problems.append(f"{len(unknown)} key(s) are not in the original: {_preview(unknown)}")
        if arch_of is not None:
            for key, value in merged.items():
                if key in original:
                    mine, theirs = arch_of(value), arch_of(original[key])
                    if mine is not None and theirs is not None and mine != theirs:
                        problems.append(f"key {key!r} in {source[key]} has arch {mine}, the original has {theirs}")
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise HnasError("cannot merge:\n  " + "\n  ".join(shown))
    if original is None:
        return merged
    return {key: merged[key] for key in original}


def _preview(keys: Sequence[str], limit: int = 10) -> str:
    text = ", ".join(keys[:limit])
    return text + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")


# --- files ---------------------------------------------------------------------------------


def load_part_file(path: str | os.PathLike[str], space: SearchSpace | str) -> dict[str, ArchEntry]:
    """Load one part file; unlike an input file, a part may be empty (``{}``: an empty shard)."""
    try:
        if Path(path).read_text(encoding="utf-8").strip() == "{}":
            return {}
    except OSError:
        pass  # load_arch_file reports it
    return load_arch_file(path, space)


def split_file(
    path: str | os.PathLike[str],
    parts: int,
    out_dir: str | os.PathLike[str],
    space: SearchSpace | str,
    force: bool = False,
) -> list[Path]:
    """Write ``out_dir/<stem>_part{i}of{N}.json`` for the ``parts`` shards of an arch file.

    The whole input is validated first; existing part files are refused unless ``force``.
    Each file is written atomically.

    Raises:
        HnasError: a bad input file, ``parts`` outside 1..entries, or existing outputs.
    """
    check_output_dir(out_dir, [path], what="--out")
    entries = load_arch_file(path, space)
    if not 1 <= parts <= len(entries):
        raise HnasError(f"--parts must be between 1 and the {len(entries)} entries of {path}, got {parts}")
    targets = [part_path(Path(out_dir) / Path(path).name, Shard(index, parts)) for index in range(parts)]
    for target in targets:
        check_not_input(target, [path], what="part file")
        if target.is_dir():
            raise HnasError(f"part file {target} is a folder")
    existing = [str(target) for target in targets if target.exists()]
    if existing and not force:
        raise HnasError(f"refusing to overwrite {len(existing)} existing file(s) ({_preview(existing)}); pass --force")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for target, chunk in zip(targets, split_entries(entries, parts)):
        write_arch_file(target, chunk, {key: entry.acc for key, entry in chunk.items()})
    return targets


def merge_files(
    parts: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    space: SearchSpace | str,
    against: str | os.PathLike[str] | None = None,
) -> dict[str, ArchEntry]:
    """Merge part files into one arch file at ``out`` (atomically).

    Parts named ``*_part{i}of{N}.json`` are put in index order and must be complete; every
    key must appear exactly once. With ``against`` (the file that was split), the key sets
    must be equal, arch codes must match and the output follows its key order.

    Raises:
        HnasError: bad files, or every problem found in the keys (nothing is written).
    """
    check_not_input(out, [*parts, against], what="merge output")
    ordered = order_parts([Path(part) for part in parts])
    loaded = [(str(part), load_part_file(part, space)) for part in ordered]
    original = load_arch_file(against, space) if against is not None else None
    merged = merge_entries(loaded, original, arch_of=lambda entry: entry.arch)
    if not merged:
        raise HnasError("the part files hold no entries")
    write_arch_file(out, merged, {key: entry.acc for key, entry in merged.items()})
    return merged
