"""Atomic writes of files and folders: a reader sees the old version or the new one, never half of one.

Every writer of hnas that replaces a result goes through this module: a file through a temp
file and ``os.replace``; a folder (a checkpoint, an export) through a hidden temp folder that
is filled, then renamed over the target. When the filesystem refuses midway (``ENOSPC``, a
folder removed meanwhile) the temporary is removed and :class:`~hnas.errors.WriteError` names
the path and says that its previous version, if any, is untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from hnas.errors import WriteError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(temp_name: str, target: Path) -> None:
    # mkstemp creates files as 0600; give the result the mode a plain open() would.
    os.chmod(temp_name, 0o666 & ~_umask())
    os.replace(temp_name, target)


def cannot_write(target: Path, error: OSError, intact: str | None = None) -> WriteError:
    """The error for a refused write of ``target``; ``intact`` says what is still usable."""
    if intact is None:
        intact = (f"the previous {target.name} is unchanged" if target.exists()
                  else f"nothing was written to {target}")
    return WriteError(f"cannot write {target}: {error.strerror or error}; {intact}")


def _temp_file(target: Path) -> tuple[int, str]:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise cannot_write(target, error) from None


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``.

    Raises:
        WriteError: naming ``path``, if the filesystem refuses (folder not writable, disk full,
            ``path`` is a folder); the old file, if any, is left as it was.
    """
    target = Path(path)
    handle, temp_name = _temp_file(target)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        _publish(temp_name, target)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        raise cannot_write(target, error) from None
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_paddle_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """``paddle.save`` through a temp file and ``os.replace``."""
    import paddle

    target = Path(path)
    handle, temp_name = _temp_file(target)
    os.close(handle)
    try:
        paddle.save(obj, temp_name)
        _publish(temp_name, target)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        raise cannot_write(target, error) from None
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def fsync_files(folder: Path) -> None:
    """Flush every file directly in ``folder`` to disk."""
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as stream:
                os.fsync(stream.fileno())


def replace_folder(source: Path, target: Path) -> None:
    """Move the finished ``source`` to ``target``, replacing a previous ``target``.

    Replacing takes two renames (old -> ``.<name>.old-<pid>``, temp -> final); a reader that
    finds no ``target`` between them finds the backup (see ``hnas.checkpoints.folder``).
    """
    backup: Path | None = None
    if target.exists():
        backup = target.with_name(f".{target.name}.old-{os.getpid()}")
        if backup.exists():
            shutil.rmtree(backup)
        os.replace(target, backup)
    os.replace(source, target)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def atomic_write_folder(target: str | os.PathLike[str], fill: Callable[[Path], None],
                        intact: str | None = None) -> Path:
    """Create the folder ``target`` whole: ``fill(temp)`` writes into a hidden temp folder beside it,
    which then replaces ``target``. The folder gets the mode a plain ``mkdir`` would give.

    Args:
        target: the folder to write.
        fill: writes the folder's contents into the folder it is given.
        intact: what a failure leaves usable, for the error message (default: the previous
            ``target``, or nothing).

    Raises:
        WriteError: the filesystem refused (disk full ...); the temp folder is removed and
            ``target`` is as it was.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as error:
        raise cannot_write(target, error, intact) from None
    try:
        temp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700
        fill(temp)
        fsync_files(temp)
        replace_folder(temp, target)
    except OSError as error:
        shutil.rmtree(temp, ignore_errors=True)
        raise cannot_write(target, error, intact) from None
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return target
