"""Shared option groups: one default and one meaning per flag across commands; old spellings warn."""

from __future__ import annotations

import json
from pathlib import Path

import paddle

from hnas.cli import build_parser, main
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import SPACES

SCORING = ("batch_size", "bn_recal", "recal_batches", "recal_batch_size")


def _parse(*argv: str):
    return build_parser().parse_known_args(list(argv))[0]


def test_the_scoring_and_checkpoint_groups_have_one_default_everywhere() -> None:
    evaluated = _parse("eval", "a.json")
    searched = _parse("search", "--out", "s")
    for name in (*SCORING, "weights", "ckpt", "config"):
        assert getattr(evaluated, name) == getattr(searched, name), name
    assert evaluated.recal_batches == 8 and evaluated.bn_recal == "reset"
    exported = _parse("export", "1" * 10, "--out", "x")
    assert exported.recal_batches == evaluated.recal_batches and exported.recal_batch_size == 64
    assert exported.bn_recal == "none"  # the exported weights are the supernet's unless asked


def test_every_output_command_takes_out_and_force() -> None:
    for argv in (["eval", "a.json"], ["search", "--out", "s"], ["export", "1", "--out", "x"]):
        assert hasattr(_parse(*argv), "force") and hasattr(_parse(*argv), "out")


def test_export_bn_recal_as_a_number_is_a_deprecated_alias(tmp_path: Path, capsys) -> None:
    paddle.seed(0)
    space = SPACES.get("resnet48_tiny")
    weights = tmp_path / "supernet.pdparams"
    paddle.save(space.build_supernet().state_dict(), str(weights))
    code = sample_codes(space, 1, seed=4)[0]
    base = ["export", code, "--ckpt", str(weights), "--recal-batch-size", "16"]
    assert main([*base, "--out", str(tmp_path / "old"), "--bn-recal", "1"]) == 0
    err = capsys.readouterr().err
    assert "hnas: warning: --bn-recal 1 (a number of batches) is deprecated" in err
    assert "use --bn-recal reset --recal-batches 1" in err
    assert main([*base, "--out", str(tmp_path / "new"), "--bn-recal", "reset", "--recal-batches", "1"]) == 0
    assert "deprecated" not in capsys.readouterr().err
    old = paddle.load(str(tmp_path / "old" / "model.pdparams"))
    new = paddle.load(str(tmp_path / "new" / "model.pdparams"))
    assert all((old[key].numpy() == new[key].numpy()).all() for key in new)
    meta = json.loads((tmp_path / "new" / "subnet.json").read_text())
    assert meta["bn_recal_batches"] == 1


def test_bench_report_takes_overrides_as_train_does_and_set_is_a_deprecated_alias(capsys) -> None:
    parser = build_parser()
    args, unknown = parser.parse_known_args(["bench", "report", "epochs=1", "--optim.lr", "0.1"])
    assert args.accepts_overrides and unknown == ["epochs=1", "--optim.lr", "0.1"]
    assert capsys.readouterr().err == ""
    for _ in range(2):  # parsed twice: the default list is never shared between parses
        args = parser.parse_known_args(["bench", "report", "--set", "epochs=1", "--set", "seed=2"])[0]
        assert args.overrides == ["epochs=1", "seed=2"]
    assert capsys.readouterr().err.count("hnas: warning: --set epochs=1 is deprecated") == 2


#: Commands whose --out is not replaced by them: bench noise reads its --out (a ground truth);
#: fewshot train resumes its own folder.
NO_FORCE = {("bench", "noise"), ("fewshot", "train")}


def _output_parsers(parser, path=()):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _output_parsers(sub, (*path, name))
    options = {option for action in parser._actions for option in action.option_strings}
    if "--out" in options:
        yield path, options


def test_every_writer_takes_force_beside_out() -> None:
    found = dict(_output_parsers(build_parser()))
    assert len(found) >= 20
    assert [path for path, options in found.items() if "--force" not in options and path not in NO_FORCE] == []


def test_pools_refuses_an_existing_out_without_force_before_reading_the_checkpoint(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pools.json"
    out.write_text("keep")
    assert main(["pools", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert f"--out {out} exists; pass --force to replace it" in capsys.readouterr().err
    assert out.read_text() == "keep"
