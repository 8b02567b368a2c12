"""The one rule every hnas command follows about the paths it writes.

Every output path is checked *before* the command does any work, so a bad path costs
nothing and leaves nothing behind:

1. **Never an input.** An output may not be one of the command's inputs: not the same path,
   and not the same file reached through a link or another spelling (``os.path.samefile``
   for existing files, resolved paths otherwise). Refused even with ``--force``.
2. **Existing outputs need ``--force``.** A file output that exists is replaced only with
   ``--force``. A resumable command continuing its *own* earlier result (``hnas eval`` with
   that result's progress file, ``hnas bench build``, ``hnas train --resume``) is not
   replacing someone else's file and needs no ``--force``.
3. **The kind must fit.** A file output may not be an existing folder, a folder output not an
   existing file.
4. **The folder must exist and be writable.** A file goes into an existing folder (a mistyped
   path is reported, not silently created); a folder output is created, under an existing
   writable folder. Writability is probed by creating (and removing) a temporary file, so a
   read-only filesystem is caught too, also for root.

Failures raise :class:`~hnas.errors.HnasError` naming the path, which the CLI prints as
``hnas: error: ...`` with exit code 2. :func:`write_errors` turns an ``OSError`` of a later
write (disk full, folder removed meanwhile) into the same kind of message.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from hnas.errors import HnasError

PathLike = str | os.PathLike[str]


def same_file(first: PathLike, second: PathLike) -> bool:
    """Whether two paths name the same file: ``os.path.samefile`` if both exist, else resolved paths."""
    a, b = Path(first), Path(second)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_not_input(output: PathLike, inputs: Iterable[PathLike | None], what: str = "output") -> None:
    """Rule 1: raise if ``output`` is (or is the same file as) one of ``inputs``."""
    for source in inputs:
        if source is not None and same_file(output, source):
            how = "" if Path(output) == Path(source) else f" (the same file as {what} {output})"
            raise HnasError(f"{what} {output}: refusing to overwrite the input {source}{how}; "
                            "choose another path")


def _probe_writable(folder: Path) -> None:
    """Create and remove a temporary file in ``folder``; raise :class:`HnasError` if that fails."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".hnas-probe-"):
            pass
    except OSError as error:
        raise HnasError(f"cannot write into folder {folder}: {error.strerror or error}") from None


def check_output_file(
    path: PathLike,
    inputs: Iterable[PathLike | None] = (),
    force: bool = False,
    what: str = "output",
    own_result: bool = False,
) -> Path:
    """Apply the rule to a file that a command will write; returns ``path`` as a :class:`Path`.

    Args:
        path: the file to be written.
        inputs: the command's input files (None entries are ignored).
        force: replace an existing file.
        what: how messages name the path (``--out``, ``--plot``, ...).
        own_result: the existing file is the command's own earlier result that it continues
            (rule 2: no ``--force`` needed).

    Raises:
        HnasError: ``path`` is an input, a folder, exists without ``force``, or its folder is
            missing or not writable.
    """
    target = Path(path)
    check_not_input(target, inputs, what)
    if target.is_dir():
        raise HnasError(f"{what} {target} is a folder; give a file path")
    if target.exists() and not (force or own_result):
        raise HnasError(f"{what} {target} exists; pass --force to replace it")
    folder = target.parent
    if not folder.exists():
        raise HnasError(f"{what} {target}: folder {folder} does not exist (create it first)")
    if not folder.is_dir():
        raise HnasError(f"{what} {target}: {folder} is a file, not a folder")
    _probe_writable(folder)
    return target


def check_output_dir(path: PathLike, inputs: Iterable[PathLike | None] = (), what: str = "output folder") -> Path:
    """Apply the rule to a folder a command will create or write into (rules 1, 3 and 4).

    Whether existing contents may be replaced is the caller's decision (``hnas train``:
    ``--resume`` / ``--overwrite``; ``hnas split``: ``--force`` per part file).

    Raises:
        HnasError: ``path`` is an input or an existing file, or it (or, if missing, its nearest
            existing ancestor) is not a writable folder.
    """
    target = Path(path)
    check_not_input(target, inputs, what)
    if target.exists() and not target.is_dir():
        raise HnasError(f"{what} {target} is a file, not a folder")
    ancestor = target
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise HnasError(f"{what} {target}: {ancestor} is a file, not a folder")
    _probe_writable(ancestor)
    return target


@contextmanager
def write_errors(path: PathLike, what: str = "output") -> Iterator[None]:
    """Turn an ``OSError`` raised while writing ``path`` into :class:`HnasError` naming it."""
    try:
        yield
    except OSError as error:
        raise HnasError(f"cannot write {what} {path}: {error.strerror or error}") from None
