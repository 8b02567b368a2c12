from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from hnas.errors import HnasError
from hnas.io.archs import (
    ArchEntry,
    ArchFileError,
    check_arch_file,
    entries_from_codes,
    load_arch_file,
    load_score_file,
    write_arch_file,
)
from hnas.search_spaces import SPACES

TEST_JSON = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "CVPR_2022_NAS_Track1_test.json"

ARCH1 = "1252233313000000223212122253130000000000006515000000"
ARCH2 = "1447233323333300331313230025153545153545003252000000"
ARCH3 = "1526421212322232112100000014443444143400006666764600"
SPACE = SPACES.get("resnet48")


def write_json(tmp_path: Path, data: Any, name: str = "archs.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def write_text(tmp_path: Path, text: str, name: str = "archs.json") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ArchFileError) as info:
        load_arch_file(path, SPACE)
    return info.value.problems


def test_loads_entries_in_file_order(tmp_path: Path) -> None:
    path = write_json(
        tmp_path,
        {"arch2": {"acc": 0.5, "arch": ARCH2}, "arch1": {"acc": 1, "arch": ARCH1}, "x": {"arch": ARCH3, "acc": 0.0}},
    )
    entries = load_arch_file(path, "resnet48")
    assert list(entries) == ["arch2", "arch1", "x"]
    assert entries["arch1"] == ArchEntry(key="arch1", arch=ARCH1, spec=SPACE.decode(ARCH1), acc=1.0)
    assert isinstance(entries["arch1"].acc, float)
    assert entries["x"].spec.depths == (5, 2, 6, 4)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d / "missing.json", r"missing\.json: no such arch file"),
        (lambda d: d, "is a directory"),
        (lambda d: write_text(d, ""), "file is empty"),
        (lambda d: write_text(d, "  \n\n"), "file is empty"),
        (lambda d: write_text(d, "arch1: 1252\n"), r"line 1 column 1: invalid JSON: Expecting value"),
        (
            lambda d: write_text(d, '{\n"a": {"acc": 0.0,\n  "arch" "1"}}'),
            r"line 3 column 10: invalid JSON: Expecting ':'",
        ),
        (lambda d: write_text(d, '{"arch1": {"acc": 0.0, "arch": "12522'), "looks truncated"),
        (lambda d: write_json(d, [ARCH1]), "top level is a JSON array, expected an object"),
        (lambda d: write_json(d, ARCH1), "top level is a JSON string"),
        (lambda d: write_json(d, {}), "contains no entries"),
    ],
)
def test_file_level_errors(tmp_path: Path, setup: Any, message: str) -> None:
    with pytest.raises(HnasError, match=message):
        load_arch_file(setup(tmp_path), SPACE)


def test_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "archs.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"a": {"acc": 0.5, "arch": ARCH1}}).encode())
    assert load_arch_file(path, SPACE)["a"].acc == 0.5


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "archs.json"
    path.write_bytes(b'{"a": "\xff\xfe"}')
    with pytest.raises(HnasError, match="not UTF-8"):
        load_arch_file(path, SPACE)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ([0.0, ARCH1], r"entry is a JSON array, expected an object"),
        (ARCH1, r"entry is a JSON string"),
        ({"acc": 0.0}, r"missing field 'arch'"),
        ({"arch": ARCH1}, r"missing field 'acc'"),
        ({}, r"missing fields 'acc', 'arch'"),
        ({"acc": 0.0, "arch": ARCH1, "top5": 0.9}, r"unexpected field 'top5'; an entry has exactly 'acc' and 'arch'"),
        ({"acc": "0.7", "arch": ARCH1}, r"'acc' is a JSON string \('0\.7'\), expected a number"),
        ({"acc": True, "arch": ARCH1}, r"'acc' is a JSON boolean"),
        ({"acc": None, "arch": ARCH1}, r"'acc' is a JSON null"),
        ({"acc": 0.0, "arch": 1252233313}, r"'arch' is a JSON number"),
        ({"acc": 0.0, "arch": ARCH1[:-1]}, r"length 51, expected 52"),
        ({"acc": 0.0, "arch": "9" + ARCH1[1:]}, r"position 0: image-size code is 9"),
        ({"acc": 0.0, "arch": ARCH1[:20] + "x" + ARCH1[21:]}, r"position 20: 'x' is not a digit"),
        ({"acc": 0.0, "arch": ARCH1[:2] + "9" + ARCH1[3:]}, r"position 2: depth of stage 2 is 9"),
    ],
)
def test_bad_entry_is_reported_with_key_and_reason(tmp_path: Path, entry: Any, message: str) -> None:
    path = write_json(tmp_path, {"arch1": {"acc": 0.0, "arch": ARCH1}, "arch7": entry})
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith("arch7: ")
    assert __import__("re").search(message, problems[0]), problems[0]


def test_duplicate_keys_and_fields_are_reported(tmp_path: Path) -> None:
    path = write_text(
        tmp_path,
        '{"arch1": {"acc": 0.0, "arch": "%s"}, "arch1": {"acc": 0.1, "arch": "%s"},'
        ' "arch2": {"acc": 0.0, "acc": 0.2, "arch": "%s"}}' % (ARCH1, ARCH2, ARCH2),
    )
    problems = problems_of(path)
    assert problems == [
        "arch1: key appears more than once",
        "arch2: field 'acc' appears more than once",
    ]


def test_whole_file_is_checked_and_message_lists_first_twenty(tmp_path: Path) -> None:
    data = {f"arch{i}": {"acc": 0.0, "arch": ARCH1 if i % 2 else "bad"} for i in range(1, 61)}
    path = write_json(tmp_path, data)
    with pytest.raises(ArchFileError) as info:
        load_arch_file(path, SPACE)
    error = info.value
    assert len(error.problems) == 30
    assert [p.split(":")[0] for p in error.problems] == [f"arch{i}" for i in range(2, 61, 2)]
    message = str(error)
    assert message.startswith(f"{path}: 30 problems in 60 entries:")
    assert "arch40: " in message and "arch42: " not in message
    assert message.endswith("... and 10 more")
    check = check_arch_file(path, SPACE)
    assert len(check.entries) == 30 and check.total == 60 and check.problems == error.problems


def test_codes_are_checked_against_the_given_space(tmp_path: Path) -> None:
    tiny = SPACES.get("resnet48_tiny")
    path = write_json(tmp_path, {"a": {"acc": 0.0, "arch": ARCH1}})
    assert load_arch_file(path, tiny)["a"].spec.resolution == 28
    assert load_arch_file(path, SPACE)["a"].spec.resolution == 224


def test_entries_from_codes_are_keyed_like_an_arch_file(tmp_path: Path) -> None:
    entries = entries_from_codes([ARCH2, ARCH1], "resnet48")
    assert list(entries) == ["arch1", "arch2"]
    assert entries["arch1"] == ArchEntry("arch1", ARCH2, SPACE.decode(ARCH2), 0.0)
    path = tmp_path / "written.json"
    write_arch_file(path, entries, {key: entry.acc for key, entry in entries.items()})
    assert load_arch_file(path, SPACE) == entries


def test_entries_from_codes_lists_every_bad_code() -> None:
    with pytest.raises(ArchFileError) as caught:
        entries_from_codes(["12", ARCH1, ARCH3[:-1] + "9"], SPACE, source="the command line")
    assert caught.value.path == "the command line" and caught.value.total == 3
    assert [problem.split(":")[0] for problem in caught.value.problems] == ["arch1", "arch3"]
    assert "the command line: 2 problems in 3 entries" in str(caught.value)


def test_write_keeps_order_and_round_trips(tmp_path: Path) -> None:
    source = write_json(tmp_path, {"b": {"acc": 0.0, "arch": ARCH2}, "a": {"acc": 0.0, "arch": ARCH1}})
    entries = load_arch_file(source, SPACE)
    out = tmp_path / "out" / "submission.json"
    write_arch_file(out, entries, {"a": 0.75, "b": 1})
    assert json.loads(out.read_text()) == {"b": {"acc": 1.0, "arch": ARCH2}, "a": {"acc": 0.75, "arch": ARCH1}}
    assert list(json.loads(out.read_text())) == ["b", "a"]
    assert [p.name for p in out.parent.iterdir()] == ["submission.json"]
    reloaded = load_arch_file(out, SPACE)
    assert [e.spec for e in reloaded.values()] == [e.spec for e in entries.values()]


def test_write_rejects_missing_extra_and_non_finite_accs(tmp_path: Path) -> None:
    entries = load_arch_file(write_json(tmp_path, {"a": {"acc": 0.0, "arch": ARCH1}}), SPACE)
    out = tmp_path / "out.json"
    with pytest.raises(HnasError, match=r"no accuracy for 1 entries \(a\)"):
        write_arch_file(out, entries, {})
    with pytest.raises(HnasError, match=r"1 accuracies for unknown keys \(z\)"):
        write_arch_file(out, entries, {"a": 0.5, "z": 0.1})
    with pytest.raises(ValueError, match="finite"):
        write_arch_file(out, entries, {"a": math.nan})
    assert not out.exists()


def test_score_file_accepts_both_layouts_and_keeps_strings_opaque(tmp_path: Path) -> None:
    plain = write_json(tmp_path, {"arch2": 0.5, "arch1": 1}, "plain.json")
    assert load_score_file(plain) == {"arch2": 0.5, "arch1": 1.0}
    competition = write_json(tmp_path, {"arch1": {"acc": 0.25, "arch": "not-a-code"}, "k": {"acc": 3}}, "comp.json")
    assert load_score_file(competition) == {"arch1": 0.25, "k": 3.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, "b": {"acc": 2}}', "mixes plain numbers"),
        ('{"a": "0.5"}', r"a: score is a JSON string \('0\.5'\), expected a number"),
        ('{"a": {"arch": "1"}}', r"a: entry has no 'acc' field"),
        ('{"a": NaN}', r"a: score is nan, expected a finite number"),
        ('{"a": 1, "a": 2}', r"a: key appears more than once"),
        ("[1, 2]", "top level is a JSON array"),
    ],
)
def test_score_file_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(HnasError, match=message) as info:
        load_score_file(write_text(tmp_path, text, "scores.json"))
    assert "score" in str(info.value) or "scores.json" in str(info.value)


def test_real_competition_file(tmp_path: Path) -> None:
    if not TEST_JSON.is_file():
        pytest.skip(f"{TEST_JSON} not present")
    start = time.perf_counter()
    entries = load_arch_file(TEST_JSON, SPACE)
    seconds = time.perf_counter() - start
    assert len(entries) == 45_000
    assert list(entries)[:3] == ["arch1", "arch2", "arch3"]
    assert entries["arch1"].arch == ARCH1 and entries["arch3"].arch == ARCH3
    assert all(entry.acc == 0.0 for entry in entries.values())
    assert seconds < 20, f"loading took {seconds:.1f} s"
    out = tmp_path / "copy.json"
    write_arch_file(out, entries, {key: entry.acc for key, entry in entries.items()})
    assert out.read_bytes() == TEST_JSON.read_bytes()
