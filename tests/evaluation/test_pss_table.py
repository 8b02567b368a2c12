"""PSS-Net's end-of-training table: the arch file to evaluate, the join with hnas eval's accuracies,
the markdown table and the plot."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hnas.errors import HnasError
from hnas.evaluation.pss_table import build_table, plot_table, render_markdown, table_archs, table_json
from hnas.search_spaces import SPACES
from hnas.search_spaces.distributions import cost_function

SPACE = SPACES.get("pss_mbv1_tiny")
ROWS = [("flops_pss", 150e3, [("2123214", -1.0), ("1222313", -1.5)]),
        ("flops_pss", 250e3, [("3222342", -0.5)]),
        ("params", 10e3, [("3223344", -2.0)])]


def test_the_arch_file_holds_max_every_member_and_min() -> None:
    archs = table_archs(ROWS, SPACE)
    assert list(archs) == ["max", "flops_pss@150000#1", "flops_pss@150000#2", "flops_pss@250000#1", "params@10000#1",
                           "min"]
    assert archs["max"]["arch"] == SPACE.encode(SPACE.max_spec()) and archs["min"]["arch"] == "1111111"
    assert archs["flops_pss@150000#2"] == {"acc": 0.0, "arch": "1222313"}


def test_each_bucket_shows_its_most_accurate_member_between_max_and_min() -> None:
    accs = {"max": 0.9, "min": 0.5, "flops_pss@150000#1": 0.6, "flops_pss@150000#2": 0.7,
            "flops_pss@250000#1": 0.8, "params@10000#1": 0.85}
    table = build_table(ROWS, accs, SPACE)
    assert list(table) == ["flops_pss", "params"]
    lines = table["flops_pss"]
    assert [row.label for row in lines] == ["max net", "150000", "250000", "min net"]
    assert lines[1].arch == "1222313" and lines[1].acc == 0.7 and lines[1].evaluated == 2
    assert math.isclose(lines[1].mean_acc, 0.65)
    assert lines[1].cost == cost_function(SPACE, "flops_pss")(SPACE.decode("1222313"))
    assert lines[0].acc == 0.9 and lines[-1].acc == 0.5
    markdown = render_markdown(table)
    assert "| bucket 150 k |" in markdown and "| 70.00 | 2 | 65.00 | `1222313` |" in markdown
    assert table_json(table)["params"][1]["arch"] == "3223344"


def test_missing_accuracies_are_refused() -> None:
    with pytest.raises(HnasError, match="no 'min' entry"):
        build_table(ROWS, {"max": 0.9}, SPACE)
    with pytest.raises(HnasError, match="none of the 1 subnets of pool flops_pss bucket 250000"):
        build_table(ROWS, {"max": 0.9, "min": 0.5, "flops_pss@150000#1": 0.6, "params@10000#1": 0.8}, SPACE)


def test_the_plot_is_written_whole(tmp_path: Path) -> None:
    accs = {key: 0.5 for key in table_archs(ROWS, SPACE)}
    plot_table(build_table(ROWS, accs, SPACE), tmp_path / "table.png", title="t")
    assert (tmp_path / "table.png").read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["table.png"]
