"""Tests of hnas/io/outputs.py: the one rule about output paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text
from hnas.io.outputs import check_output_dir, check_output_file, same_file


def test_same_file_sees_links_and_spellings(tmp_path: Path) -> None:
    source = tmp_path / "a.json"
    source.write_text("{}")
    (tmp_path / "l.json").symlink_to(source)
    os.link(source, tmp_path / "h.json")
    assert same_file(source, tmp_path / "l.json") and same_file(source, tmp_path / "h.json")
    assert same_file(source, tmp_path / "sub" / ".." / "a.json")
    assert not same_file(source, tmp_path / "b.json")


def test_check_output_file_rules(tmp_path: Path) -> None:
    source, out = tmp_path / "in.json", tmp_path / "out.json"
    source.write_text("{}")
    assert check_output_file(out, [source, None]) == out
    with pytest.raises(HnasError, match="refusing to overwrite the input"):
        check_output_file(source, [source], force=True)
    out.write_text("old")
    with pytest.raises(HnasError, match="exists; pass --force"):
        check_output_file(out, [source])
    check_output_file(out, [source], force=True)
    check_output_file(out, [source], own_result=True)
    with pytest.raises(HnasError, match="does not exist"):
        check_output_file(tmp_path / "no" / "x.json")


def test_check_output_dir_creates_nothing_and_refuses_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    assert check_output_dir(target) == target and not (tmp_path / "a").exists()
    (tmp_path / "f").write_text("x")
    with pytest.raises(HnasError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "f")
    with pytest.raises(HnasError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "f" / "sub")


def test_atomic_write_errors_name_the_path(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(HnasError, match=r"cannot write .*f/x\.json"):
        atomic_write_text(tmp_path / "f" / "x.json", "{}")
