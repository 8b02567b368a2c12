"""Latency tables: every key a subnet uses is measured, the prediction is the sum, foreign tables are refused."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from hnas.cli import main
from hnas.errors import HnasError
from hnas.proxies.latency import LatencyTable, build_table, write_table
from hnas.proxies.registry import latency_prior
from hnas.search_spaces.resnet import ResNetSpace
from hnas.search_spaces.spaces import SPACES

#: Two stages of two blocks at 8 px: a table of it takes about a second.
SMALL = ResNetSpace(name="small", stage_blocks=(2, 2), base_channels=(8, 8), stage_strides=(1, 2),
                    depth_choices=((1, 2), (1, 2)), width_ratios=(1.0, 0.5), channel_divisor=1, stem_kernel_size=3,
                    stem_stride=1, stem_max_pool=False, in_channels=1, num_classes=4, resolutions=(8,))


@pytest.fixture(scope="module")
def table_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("latency") / "table.json"
    write_table(build_table(SMALL, warmup=1, repeats=2), path)
    return path


def test_every_key_of_every_subnet_is_in_the_table_and_the_prediction_sums_them(table_file: Path) -> None:
    table = LatencyTable.load(table_file, SMALL)
    assert table.header["device"] == "cpu" and table.header["batch_size"] == 1 and table.header["paddle"]
    rng = random.Random(0)
    for _ in range(50):
        spec = SMALL.distribution().sample(rng)
        keys = SMALL.latency_keys(spec)
        assert len(keys) == 2 + sum(spec.depths)
        expected = sum(table.entries[json.dumps([k, list(v)])] for k, v in keys)
        assert table.predict(spec) == pytest.approx(expected)
    # Measured times are positive; their order (smallest net faster) is not asserted: on a loaded
    # machine one timing can be many times another, and this test checks the table, not the CPU.
    assert all(seconds > 0 for seconds in table.entries.values())
    assert latency_prior(SMALL, SMALL.max_spec(), table=str(table_file)) == -table.predict(SMALL.max_spec())


def test_tables_of_other_spaces_and_bad_files_are_refused(table_file: Path, tmp_path: Path) -> None:
    with pytest.raises(HnasError, match="measured for space 'small', not 'resnet48_tiny'"):
        LatencyTable.load(table_file, SPACES.get("resnet48_tiny"))
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    with pytest.raises(HnasError, match="unreadable"):
        LatencyTable.load(bad, SMALL)
    with pytest.raises(HnasError, match="needs a table"):
        latency_prior(SMALL, SMALL.max_spec())


def test_cli_refuses_an_existing_table(table_file: Path, capsys) -> None:
    assert main(["latency", "build", "--space", "resnet48_tiny", "--out", str(table_file)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
