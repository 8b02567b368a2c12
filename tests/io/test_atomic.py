"""Atomic writes: content replaced whole, files get the umask's mode, failures leave no trace."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hnas.io.atomic import atomic_write_bytes, atomic_write_text


def test_replaces_content_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [path.name for path in tmp_path.iterdir()] == ["out.json"]


def test_mode_follows_the_umask_like_a_plain_open(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o644


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("keep")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "keep"
    assert [path.name for path in tmp_path.iterdir()] == ["out.txt"]
