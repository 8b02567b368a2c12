"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hnas.errors import HnasError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(temp_name: str, target: Path) -> None:
    # mkstemp creates files as 0600; give the result the mode a plain open() would.
    os.chmod(temp_name, 0o666 & ~_umask())
    os.replace(temp_name, target)


def _cannot_write(target: Path, error: OSError) -> HnasError:
    return HnasError(f"cannot write {target}: {error.strerror or error}")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``.

    Raises:
        HnasError: naming ``path``, if the filesystem refuses (folder not writable, disk full,
            ``path`` is a folder); the old file, if any, is left as it was.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise _cannot_write(target, error) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        _publish(temp_name, target)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        raise _cannot_write(target, error) from None
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_paddle_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """``paddle.save`` through a temp file and ``os.replace``."""
    import paddle

    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise _cannot_write(target, error) from None
    os.close(handle)
    try:
        paddle.save(obj, temp_name)
        _publish(temp_name, target)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        raise _cannot_write(target, error) from None
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
