"""``hnas flops``: table output, arch files, --out and exit code 2 on bad codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas.cli import main
from hnas.proxies import count_flops, count_params
from hnas.search_spaces import SPACES

LARGEST = "1558511111111111111111111111111111111111111111111111"
SMALLEST = "1222277777000000777700000077770000000000007777000000"
ARCH1 = "1252233313000000223212122253130000000000006515000000"
FIGURES = {LARGEST: (5_292_349_440, 34_067_880), SMALLEST: (946_450_400, 5_839_800), ARCH1: (2_110_725_120, 9_631_120)}


def _write_arch_file(path: Path, codes: list[str]) -> Path:
    entries = {f"arch{index}": {"acc": 0.0, "arch": code} for index, code in enumerate(codes, start=1)}
    path.write_text(json.dumps(entries))
    return path


def test_codes_print_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flops", LARGEST, SMALLEST]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["key", "arch", "flops", "params"]
    assert lines[1].split() == ["arch1", LARGEST, "5,292,349,440", "34,067,880"]
    assert lines[2].split() == ["arch2", SMALLEST, "946,450,400", "5,839,800"]
    assert len(lines) == 3  # no summary for codes on the command line


def test_out_file_has_exact_integers(tmp_path: Path) -> None:
    out = tmp_path / "flops.json"
    assert main(["flops", ARCH1, LARGEST, "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == {
        "arch1": {"arch": ARCH1, "flops": 2_110_725_120, "params": 9_631_120},
        "arch2": {"arch": LARGEST, "flops": 5_292_349_440, "params": 34_067_880},
    }
    assert [path.name for path in tmp_path.iterdir()] == ["flops.json"]  # no temp file left


def test_arch_file_prints_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archs = _write_arch_file(tmp_path / "test.json", [LARGEST, SMALLEST, ARCH1])
    out = tmp_path / "flops.json"
    assert main(["flops", "--json", str(archs), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "n: 3" in printed
    assert "flops min / median / max: 946,450,400 / 2,110,725,120 / 5,292,349,440" in printed
    assert "params min / median / max: 5,839,800 / 9,631,120 / 34,067,880" in printed
    assert "archs/s" in printed
    rows = json.loads(out.read_text())
    assert list(rows) == ["arch1", "arch2", "arch3"]
    assert {row["arch"]: (row["flops"], row["params"]) for row in rows.values()} == FIGURES


def test_resolution_space_and_convention_options(tmp_path: Path) -> None:
    out = tmp_path / "flops.json"
    assert main(["flops", LARGEST, "--resolution", "112", "--out", str(out)]) == 0
    at_112 = json.loads(out.read_text())["arch1"]["flops"]
    assert main(["flops", LARGEST, "--convention", "macs", "--out", str(out), "--force"]) == 0
    macs = json.loads(out.read_text())["arch1"]["flops"]
    assert main(["flops", LARGEST, "--space", "resnet48_tiny", "--out", str(out), "--force"]) == 0
    tiny = json.loads(out.read_text())["arch1"]
    space, tiny_space = SPACES.get("resnet48"), SPACES.get("resnet48_tiny")
    assert at_112 == count_flops(space, space.decode(LARGEST), resolution=112) < 5_292_349_440
    assert macs == count_flops(space, space.decode(LARGEST), convention="macs") < 5_292_349_440
    tiny_spec = tiny_space.decode(LARGEST)
    assert tiny["flops"] == count_flops(tiny_space, tiny_spec)
    assert tiny["params"] == count_params(tiny_space, tiny_spec)


def test_bad_code_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "flops.json"
    bad = ARCH1[:19] + "1" + ARCH1[20:]
    assert main(["flops", LARGEST, bad, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "command-line arch codes: 1 problem in 2 entries" in error
    assert "arch2: arch code" in error
    assert "position 19" in error
    assert "residual additions tie" in error
    assert not out.exists()


def test_bad_entry_in_arch_file_names_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archs = _write_arch_file(tmp_path / "test.json", [LARGEST, "1" * 51])
    out = tmp_path / "flops.json"
    assert main(["flops", "--json", str(archs), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "arch2" in error and "length 51, expected 52" in error
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["flops"], "no archs given"),
        (["flops", LARGEST, "--json", "x.json"], "not both"),
        (["flops", LARGEST, "--space", "vgg"], "unknown search space 'vgg'"),
        (["flops", LARGEST, "--resolution", "0"], "resolution must be a positive"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_pss_convention_counts_pss_nets_own_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """PSS-Net's MobileNetV1 max / min net in its own convention: 568.79 M / 106.78 M."""
    assert main(["flops", "--space", "pss_mbv1", "--convention", "pss", "132355991717171717173333",
                 "011111110101010101010101"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[2] == "568,790,528" and lines[2].split()[2] == "106,782,720"


def test_a_width_outside_its_slot_exits_2_naming_position_and_space(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flops", "--space", "pss_mbv1", "132355991717171717173334"]) == 2
    err = capsys.readouterr().err
    assert "position 22: width index of stage 13 is 34, space 'pss_mbv1' takes 1..33 (768..1024 step 8" in err


def test_pss_convention_is_generic_across_families(capsys: pytest.CaptureFixture[str]) -> None:
    """PSS-Net's MobileNetV2 max / min net (spaces.md: 300.84 M / 69.15 M) through the same convention."""
    space = SPACES.get("pss_mbv2")
    codes = [space.encode(space.max_spec()), space.encode(space.min_spec())]
    assert main(["flops", "--space", "pss_mbv2", "--convention", "pss", *codes]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[2] == "300,836,992" and lines[2].split()[2] == "69,150,208"


SPOS_PUBLISHED = "121012020202300003233"


def test_spos_published_arch_in_macs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flops", "--space", "spos_shufflenetv2", "--convention", "macs", SPOS_PUBLISHED]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == ["arch1", SPOS_PUBLISHED, "322,918,720", "3,587,616"]


def test_spos_choice_out_of_range_exits_2_naming_position_and_space(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "flops.json"
    bad = SPOS_PUBLISHED[:19] + "5" + SPOS_PUBLISHED[20:]
    assert main(["flops", "--space", "spos_shufflenetv2", bad, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "position 19" in err and "'spos_shufflenetv2'" in err and "expected one of [0, 1, 2, 3]" in err
    assert not out.exists()


def test_help_names_each_space_reachable_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["flops", "--help"])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.split()[:1] == ["spos_shufflenetv2"])
    assert line.split()[1:] == ["278.6M..411.5M", "(270.4M..398.6M)"]
