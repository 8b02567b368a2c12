from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import paddle
import pytest

from hnas.errors import HnasError
from hnas.nn.state_dict import (
    add_data_parallel,
    compare_state,
    convert_checkpoint_file,
    fit_state_dict,
    load_into,
    read_state_dict,
    strip_data_parallel,
)
from hnas.search_spaces.resnet.supernet import ResNetSupernet


def test_strip_and_add_are_inverse() -> None:
    single = {"stem.conv.conv.weight": 1, "fc.bias": 2}
    multi = add_data_parallel(single)
    assert list(multi) == ["_layers.stem.conv.conv.weight", "_layers.fc.bias"]
    assert add_data_parallel(multi) == multi  # already multi: unchanged
    assert strip_data_parallel(multi) == single
    # The reference code's hapi layout keeps its outer prefix.
    assert strip_data_parallel({"model._layers.blocks.13.bn2.weight": 0}) == {"model.blocks.13.bn2.weight": 0}


def test_a_data_parallel_checkpoint_loads_with_a_notice(supernet: ResNetSupernet, caplog) -> None:
    state = add_data_parallel(supernet.state_dict())
    fresh = supernet.space.build_supernet()
    with caplog.at_level(logging.WARNING):
        load_into(fresh, state, source="ckpt.pdparams")
    assert "DataParallel" in caplog.text and "ckpt.pdparams" in caplog.text
    np.testing.assert_array_equal(fresh.fc.weight.numpy(), supernet.fc.weight.numpy())


def test_a_checkpoint_of_another_space_is_refused_with_the_keys(supernet: ResNetSupernet) -> None:
    wrong = dict(supernet.state_dict())
    wrong["stem.conv.conv.weight"] = paddle.zeros([64, 3, 7, 7])
    del wrong["fc.bias"]
    wrong["head.weight"] = paddle.zeros([2])
    with pytest.raises(HnasError) as error:
        fit_state_dict(wrong, supernet, source="ckpt.pdparams")
    message = str(error.value)
    assert "1 missing key(s), first: fc.bias" in message
    assert "1 unexpected key(s), first: head.weight" in message
    assert "stem.conv.conv.weight (checkpoint [64, 3, 7, 7], model [20, 1, 3, 3])" in message


def test_compare_state_of_equal_dicts_is_ok(supernet: ResNetSupernet) -> None:
    assert compare_state(supernet.state_dict(), supernet.state_dict()).ok


def test_convert_file_both_ways_and_never_over_the_input(tmp_path: Path, supernet: ResNetSupernet) -> None:
    single = tmp_path / "single.pdparams"
    paddle.save(supernet.state_dict(), str(single))
    multi = tmp_path / "multi.pdparams"
    report = convert_checkpoint_file(single, multi, "multi")
    assert report.renamed == report.keys == len(supernet.state_dict())
    assert all(key.startswith("_layers.") for key in paddle.load(str(multi)))
    back = tmp_path / "back.pdparams"
    assert "multi-GPU -> single" in convert_checkpoint_file(multi, back, "single").describe()
    restored = paddle.load(str(back))
    assert list(restored) == list(supernet.state_dict())
    np.testing.assert_array_equal(restored["fc.weight"].numpy(), supernet.fc.weight.numpy())

    before = multi.read_bytes()
    with pytest.raises(HnasError, match="refusing to overwrite the input"):
        convert_checkpoint_file(multi, tmp_path / "." / "multi.pdparams", "single", force=True)
    with pytest.raises(HnasError, match="exists; pass --force"):
        convert_checkpoint_file(single, back, "single")
    assert multi.read_bytes() == before


def test_read_state_dict_names_the_file_when_it_is_not_one(tmp_path: Path) -> None:
    good, foreign, listed = tmp_path / "good.pdparams", tmp_path / "foreign.pdparams", tmp_path / "list.pdparams"
    paddle.save({"fc.bias": paddle.zeros([2])}, str(good))
    foreign.write_bytes(b"not a paddle file")
    paddle.save([paddle.zeros([2])], str(listed))
    assert list(read_state_dict(good, "weights")) == ["fc.bias"]
    with pytest.raises(HnasError, match="^checkpoint x: cannot read a Paddle state dict"):
        read_state_dict(foreign, "checkpoint x")
    with pytest.raises(HnasError, match="^checkpoint y: expected a state dict, found list"):
        read_state_dict(listed, "checkpoint y")
