from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.errors import HnasError
from hnas.evaluation.progress import ArchResult, ProgressLog, progress_path

SETTINGS = {"val_images": 100, "bn_recal": "reset", "shard": "0/1"}
EXPECTED = {"arch1": "1111", "arch2": "2222", "arch3": "3333"}


def result(key: str, top1: float = 0.5) -> ArchResult:
    return ArchResult(key=key, arch=EXPECTED[key], top1=top1, top5=0.9, loss=1.25)


def write_two(path: Path) -> None:
    with ProgressLog(path, SETTINGS) as log:
        assert log.open(EXPECTED) == {}
        log.append(result("arch1", 0.125))
        log.append(result("arch2", 0.1 + 0.2))  # a float that needs all its digits


def test_progress_path_is_next_to_the_result() -> None:
    assert progress_path("out/sub_part1of2.json") == Path("out/sub_part1of2.progress.jsonl")


def test_records_round_trip_exactly(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    write_two(path)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"settings": SETTINGS}
    assert json.loads(lines[1]) == {"key": "arch1", "arch": "1111", "top1": 0.125, "top5": 0.9, "loss": 1.25}
    with ProgressLog(path, SETTINGS) as log:
        loaded = log.open(EXPECTED)
    assert loaded == {"arch1": result("arch1", 0.125), "arch2": result("arch2", 0.1 + 0.2)}


CUT_SHORT = [b'{"key":"arch3","arch":"33', b'{"key":"arch3","arch":"3333","top1":0.5,"top5":0.9,"lo\n', b"\x00\x00"]


@pytest.mark.parametrize("tail", CUT_SHORT)
def test_a_cut_short_last_line_is_dropped_and_the_file_repaired(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "p.jsonl"
    write_two(path)
    good = path.read_bytes()
    path.write_bytes(good + tail)
    with ProgressLog(path, SETTINGS) as log:
        assert set(log.open(EXPECTED)) == {"arch1", "arch2"}
        assert path.read_bytes() == good  # truncated back to the last complete record
        log.append(result("arch3"))
    with ProgressLog(path, SETTINGS) as log:
        assert set(log.open(EXPECTED)) == {"arch1", "arch2", "arch3"}


def test_a_half_written_header_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"settings": {"val_')
    with ProgressLog(path, SETTINGS) as log:
        assert log.open(EXPECTED) == {}
    assert json.loads(path.read_text().splitlines()[0]) == {"settings": SETTINGS}


def test_damage_before_the_last_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    write_two(path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "garbage\n" + lines[2])
    with pytest.raises(HnasError, match="line 2: corrupt progress record"):
        ProgressLog(path, SETTINGS).open(EXPECTED)


def test_other_settings_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    write_two(path)
    with pytest.raises(HnasError, match=r"other settings \(val_images: 100 then, 50 now\)"):
        ProgressLog(path, {**SETTINGS, "val_images": 50}).open(EXPECTED)


def test_a_changed_input_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    write_two(path)
    with pytest.raises(HnasError, match="'arch2' was evaluated as arch 2222 but the input now says 9999"):
        ProgressLog(path, SETTINGS).open({**EXPECTED, "arch2": "9999"})
    with pytest.raises(HnasError, match="'arch1' is not in the input"):
        ProgressLog(path, SETTINGS).open({"arch2": "2222"})


def test_restart_discards_progress(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    write_two(path)
    with ProgressLog(path, {**SETTINGS, "val_images": 50}) as log:
        assert log.open(EXPECTED, restart=True) == {}
    assert len(path.read_text().splitlines()) == 1


def test_two_writers_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    with ProgressLog(path, SETTINGS) as first:
        first.open(EXPECTED)
        with pytest.raises(HnasError, match="another process is writing"):
            ProgressLog(path, SETTINGS).open(EXPECTED)
    with ProgressLog(path, SETTINGS) as again:  # the lock is released on close
        again.open(EXPECTED)
