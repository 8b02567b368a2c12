"""``hnas zen``: table, --json input, --out file and exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.cli import main
from hnas.proxies.zen_score import zen_score
from hnas.search_spaces import SPACES

LARGEST = "1558511111111111111111111111111111111111111111111111"
ARCH1 = "1252233313000000223212122253130000000000006515000000"
FAST = ["--space", "resnet48_tiny", "--repeats", "2", "--batch-size", "2"]


def test_codes_print_a_table_and_write_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "zen.json"
    assert main(["zen", *FAST, ARCH1, LARGEST, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["key", "arch", "zen", "std", "ci95"]
    assert [line.split()[:2] for line in lines[1:3]] == [["arch1", ARCH1], ["arch2", LARGEST]]
    scores = json.loads(out.read_text())
    space = SPACES.get("resnet48_tiny")
    expected = zen_score(space, space.decode(ARCH1), batch_size=2, repeats=2)
    assert scores["arch1"] == {"arch": ARCH1, "zen": expected.mean, "std": expected.std, "ci95": expected.ci95}
    assert scores["arch2"]["zen"] > scores["arch1"]["zen"]


def test_json_file_keeps_its_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archs = tmp_path / "archs.json"
    archs.write_text(json.dumps({"arch7": {"acc": 0.0, "arch": ARCH1}}))
    assert main(["zen", *FAST, "--seed", "1", "--json", str(archs)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["arch7", ARCH1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["zen", "1558"], "arch1: arch code '1558'"),
        (["zen"], "no archs given"),
        (["zen", *FAST, "--repeats", "0", ARCH1], "repeats must be >= 1"),
        (["zen", "--space", "resnet99", ARCH1], "unknown search space"),
    ],
)
def test_bad_input_exits_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_zen_takes_a_resolution(capsys) -> None:
    code = "1558511111111111111111111111111111111111111111111111"
    assert main(["zen", code, "--space", "resnet48_tiny", "--repeats", "2", "--resolution", "16"]) == 0
    at_16 = capsys.readouterr().out
    assert main(["zen", code, "--space", "resnet48_tiny", "--repeats", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[1] != at_16.splitlines()[1]
    assert main(["zen", code, "--resolution", "0"]) == 2
