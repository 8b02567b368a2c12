"""Bad sampler settings stop ``hnas train`` before any data loads; ``hnas pools`` lists a pss run's pools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hnas import cli
from hnas.checkpoints.folder import LAST
from hnas.engine import trainer
from hnas.errors import HnasError
from tests.engine.tiny import tiny_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

BAD = [
    ("pss", "{pool_size: 0}", r"sampler\.args\.pool_size"),
    ("pss", "{ranges: {flops: [2000, 1000, 100]}}", r"sampler\.args\.ranges\.flops.*empty bucket range"),
    ("pss", "{metrics: [flops], ranges: {flops: [10, 100, 10]}}", r"sampler\.args\.ranges\.flops: bucket"),
    ("ofa_ps", "{phases: [{until: 1, depth: all}]}", r"sampler\.args\.phases: the last phase must open the full"),
    ("ofa_ps", "{phases: [{until: 5}, {depth: all, width: all}]}", r"sampler\.args\.phases: the last phase \(the full"),
    ("spos", "{bin_range: [1, 10]}", r"sampler\.args\.bins"),
]


@pytest.mark.parametrize(("name", "args", "message"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_settings_are_refused_before_the_data_loads(tmp_path, monkeypatch, name, args, message) -> None:
    def no_data(*_: object) -> None:
        raise AssertionError("the data was loaded before the sampler settings were checked")

    monkeypatch.setattr(trainer, "build_datasets", no_data)
    with pytest.raises(HnasError, match=message):
        trainer.train(tiny_config(tmp_path / "ckpt", f"sampler.name={name}", f"sampler.args={args}"))
    assert not (tmp_path / "ckpt").exists()


def test_cli_exits_2_naming_the_option(tmp_path, capsys) -> None:
    code = cli.main(["train", "--config", str(CONFIGS / "pss.yaml"), "--sampler.args.pool_size", "0",
                     "--checkpoint.dir", str(tmp_path / "c")])
    assert code == 2
    assert "hnas: error: sampler.args.pool_size" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_pools_command_lists_the_top_of_each_pool(tmp_path, capsys) -> None:
    trainer.train(tiny_config(tmp_path / "ckpt", "sampler.name=pss", "epochs=1",
                              "sampler.args={metrics: [flops], buckets: 2, pool_size: 2, map_size: 300}"))
    assert cli.main(["pools", str(tmp_path / "ckpt"), "--top", "1", "--out", str(tmp_path / "top.json")]) == 0
    printed = capsys.readouterr().out
    rows = json.loads((tmp_path / "top.json").read_text())
    assert [row["metric"] for row in rows] == ["flops"] * 3
    trained = [row for row in rows if row["subnets"]]
    assert trained and all(len(row["subnets"]) == 1 and row["subnets"][0]["score"] < 0 for row in trained)
    assert "flops bucket" in printed and trained[0]["subnets"][0]["arch"] in printed
    assert cli.main(["pools", str(tmp_path / "ckpt" / LAST), "--top", "0"]) == 2
    trainer.train(tiny_config(tmp_path / "other", "max_steps=1"))
    assert cli.main(["pools", str(tmp_path / "other")]) == 2
    assert "not 'pss'" in capsys.readouterr().err
