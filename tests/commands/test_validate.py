from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hnas.cli import main

TEST_JSON = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "CVPR_2022_NAS_Track1_test.json"

ARCH1 = "1252233313000000223212122253130000000000006515000000"
ARCH2 = "1447233323333300331313230025153545153545003252000000"
ARCH3 = "1526421212322232112100000014443444143400006666764600"


def write_json(tmp_path: Path, data: Any, name: str) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def archs(accs: tuple[float, ...] = (0.0, 0.0, 0.0), codes: tuple[str, ...] = (ARCH1, ARCH2, ARCH3)) -> dict[str, Any]:
    return {f"arch{i}": {"acc": acc, "arch": code} for i, (acc, code) in enumerate(zip(accs, codes), start=1)}


def test_valid_file_prints_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_json(tmp_path, archs(), "test.json")
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("OK: 3 archs (space resnet48)")
    assert err == ""


def test_every_bad_entry_is_listed_and_exit_code_is_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = archs()
    data["arch2"] = {"acc": "high", "arch": ARCH2}
    data["arch3"]["arch"] = ARCH3[:5] + "9" + ARCH3[6:]
    data["arch4"] = {"arch": ARCH1}
    data["arch5"] = {"acc": 0.1, "arch": ARCH1, "note": "x"}
    path = write_json(tmp_path, data, "bad.json")
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"hnas: error: {path}: 4 problems in 5 entries:"
    assert lines[1] == "  arch2: 'acc' is a JSON string ('high'), expected a number"
    assert lines[2].startswith(f"  arch3: arch code '{data['arch3']['arch']}': position 5: stem width code is 9")
    assert lines[3] == "  arch4: missing field 'acc'"
    assert lines[4] == "  arch5: unexpected field 'note'; an entry has exactly 'acc' and 'arch'"
    assert len(lines) == 5


def test_more_than_twenty_problems_are_all_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_json(tmp_path, {f"k{i}": {"acc": 0.0, "arch": "1"} for i in range(30)}, "bad.json")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("length 1, expected 52") == 30
    assert "... and" not in err


def test_file_level_error_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cut.json"
    path.write_text('{"arch1": {"acc": 0.0, "arch": "1252')
    assert main(["validate", str(path)]) == 2
    assert "line 1 column" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "none.json")]) == 2
    assert "no such arch file" in capsys.readouterr().err


def test_space_option_changes_what_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_json(tmp_path, archs(), "test.json")
    assert main(["validate", str(path), "--space", "resnet48_tiny"]) == 0
    assert "space resnet48_tiny" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["validate", str(path), "--space", "nope"])
    assert info.value.code == 2


def test_submission_requires_finite_and_not_all_equal_accs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unfilled = write_json(tmp_path, archs(), "unfilled.json")
    assert main(["validate", str(unfilled), "--submission"]) == 2
    assert "all 3 accuracies are 0.0, which ranks nothing" in capsys.readouterr().err

    nan = tmp_path / "nan.json"
    nan.write_text(json.dumps(archs((0.5, float("nan"), 0.7))))
    assert main(["validate", str(nan)]) == 0  # NaN is a number to the plain check
    capsys.readouterr()
    assert main(["validate", str(nan), "--submission"]) == 2
    assert "arch2: acc is nan; a submission needs a finite number" in capsys.readouterr().err

    good = write_json(tmp_path, archs((0.5, 0.6, 0.7)), "good.json")
    assert main(["validate", str(good), "--submission"]) == 0
    assert "submission checks passed" in capsys.readouterr().out


def test_against_checks_keys_and_arch_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    test = write_json(tmp_path, archs(), "test.json")
    submission = archs((0.5, 0.6, 0.7))
    good = write_json(tmp_path, submission, "good.json")
    assert main(["validate", str(good), "--submission", "--against", str(test)]) == 0
    assert f"same keys and archs as {test}" in capsys.readouterr().out

    del submission["arch1"]
    submission["arch2"]["arch"] = ARCH1
    submission["arch9"] = {"acc": 0.1, "arch": ARCH3}
    submission["arch3"]["acc"] = "x"
    bad = write_json(tmp_path, submission, "bad.json")
    assert main(["validate", str(bad), "--against", str(test)]) == 2
    err = capsys.readouterr().err
    assert "arch3: 'acc' is a JSON string" in err
    assert f"arch9: not in {test}" in err
    assert f"arch1: missing (it is in {test})" in err
    assert f"arch2: arch {ARCH1} differs from {ARCH2} in {test}" in err
    assert "arch3: missing" not in err  # a bad entry is reported once, not also as missing
    assert "4 problems in 3 entries" in err


def test_bad_reference_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_json(tmp_path, archs(), "good.json")
    assert main(["validate", str(good), "--against", str(tmp_path / "absent.json")]) == 2
    assert "absent.json: no such arch file" in capsys.readouterr().err


def test_real_test_file(capsys: pytest.CaptureFixture[str]) -> None:
    if not TEST_JSON.is_file():
        pytest.skip(f"{TEST_JSON} not present")
    assert main(["validate", str(TEST_JSON), "--submission"]) == 2
    err = capsys.readouterr().err
    assert "1 problem in 45000 entries" in err
    assert "all 45000 accuracies are 0.0" in err
