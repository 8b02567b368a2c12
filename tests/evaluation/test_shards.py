from __future__ import annotations

from pathlib import Path

import pytest

from hnas.errors import HnasError
from hnas.evaluation.shards import (
    Shard,
    merge_entries,
    order_parts,
    parse_shard,
    part_of_path,
    part_path,
    shard_of,
    split_entries,
)

ENTRIES = {f"arch{i}": f"code{i}" for i in range(1, 11)}


@pytest.mark.parametrize("parts", [1, 3, 4, 10, 12])
def test_split_is_contiguous_balanced_and_ordered(parts: int) -> None:
    chunks = split_entries(ENTRIES, parts)
    assert len(chunks) == parts
    assert [key for chunk in chunks for key in chunk] == list(ENTRIES)
    sizes = [len(chunk) for chunk in chunks]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
    assert all(shard_of(ENTRIES, index, parts) == chunk for index, chunk in enumerate(chunks))


def test_split_sizes_for_the_competition_file() -> None:
    sizes = [len(chunk) for chunk in split_entries({str(i): i for i in range(45000)}, 16)]
    assert sizes == [2813] * 8 + [2812] * 8


def test_parse_shard() -> None:
    assert parse_shard("1/4") == Shard(1, 4)
    assert parse_shard("auto", {"PADDLE_TRAINER_ID": "3", "PADDLE_TRAINERS_NUM": "8"}) == Shard(3, 8)
    assert parse_shard("auto", {}) == Shard(0, 1)
    for bad in ("4/4", "1of4", "-1/2", "0/0"):
        with pytest.raises(HnasError):
            parse_shard(bad)


def test_part_names_round_trip() -> None:
    path = part_path(Path("out/submit_results.json"), Shard(2, 16))
    assert path == Path("out/submit_results_part2of16.json")
    assert part_of_path(path) == Shard(2, 16)
    assert part_of_path("out/other.json") is None


def test_order_parts_sorts_by_index_and_requires_all() -> None:
    names = [Path(f"s_part{i}of12.json") for i in (10, 2, 0, 1, 3, 4, 5, 6, 7, 8, 9, 11)]
    assert order_parts(names) == [Path(f"s_part{i}of12.json") for i in range(12)]
    with pytest.raises(HnasError, match="missing part file"):
        order_parts(names[1:])
    with pytest.raises(HnasError, match="different splits"):
        order_parts([Path("s_part0of2.json"), Path("s_part1of3.json")])
    with pytest.raises(HnasError, match="given twice"):
        order_parts([Path("s_part0of2.json"), Path("t/s_part0of2.json"), Path("s_part1of2.json")])


def test_merge_follows_the_original_order() -> None:
    rest = {key: code for key, code in ENTRIES.items() if key not in ("arch5", "arch6")}
    parts = [("b", {"arch6": "code6", "arch5": "code5"}), ("a", rest)]
    merged = merge_entries(parts, ENTRIES, arch_of=str)
    assert list(merged) == list(ENTRIES)


def test_merge_reports_every_kind_of_problem() -> None:
    first = {"arch1": "code1", "arch2": "code2"}
    second = {"arch2": "code2", "arch3": "WRONG", "arch99": "x"}
    with pytest.raises(HnasError) as error:
        original = {key: ENTRIES[key] for key in ("arch1", "arch2", "arch3", "arch4")}
        merge_entries([("p0", first), ("p1", second)], original, arch_of=str)
    message = str(error.value)
    assert "'arch2' appears in both p0 and p1" in message
    assert "1 key(s) of the original are in no part: arch4" in message
    assert "not in the original: arch99" in message
    assert "'arch3' in p1 has arch WRONG, the original has code3" in message
