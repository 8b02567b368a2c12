"""Tests of hnas/engine/pretrained.py: official key mapping, init with channel reordering, init from a supernet."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from hnas.engine.pretrained import (
    hnas_to_official_key,
    init_from_standalone,
    init_from_supernet,
    official_block_index,
    official_to_hnas_key,
    to_hnas_naming,
)
from hnas.errors import HnasError
from hnas.search_spaces import SPACES


def test_official_names_of_resnet48() -> None:
    space = SPACES.get("resnet48")
    assert official_block_index(space, 0, 0) == 1
    assert official_block_index(space, 1, 0) == 6
    assert official_block_index(space, 3, 4) == 23
    assert official_to_hnas_key("blocks.0.conv.weight", space) == "stem.conv.conv.weight"
    assert official_to_hnas_key("blocks.0.bn._variance", space) == "stem.conv.bn._variance"
    assert official_to_hnas_key("blocks.6.downsample.1._mean", space) == "stages.1.0.downsample.bn._mean"
    assert official_to_hnas_key("blocks.19.bn2.weight", space) == "stages.3.0.conv2.bn.weight"
    assert official_to_hnas_key("blocks.24.fc.bias", space) == "fc.bias"
    with pytest.raises(HnasError, match="blocks 0..24"):
        official_to_hnas_key("blocks.25.fc.bias", space)
    with pytest.raises(HnasError, match="no counterpart"):
        official_to_hnas_key("blocks.3.se.weight", space)


def test_every_resnet48_key_maps_both_ways() -> None:
    space = SPACES.get("resnet48")
    keys = list(space.build_standalone(space.max_spec()).state_dict())
    official = [hnas_to_official_key(key, space) for key in keys]
    assert len(set(official)) == len(keys) == 252
    assert {int(key.split(".")[1]) for key in official} == set(range(25))
    assert [official_to_hnas_key(key, space) for key in official] == keys


def _official_file(tmp_path, space, prefix: str = ""):
    paddle.seed(1)
    standalone = space.build_standalone(space.max_spec())
    state = standalone.state_dict()
    for name, tensor in state.items():
        if name.endswith(("_mean", "_variance")):  # non-trivial BN statistics
            tensor.set_value(paddle.rand(tensor.shape) + 0.5)
    path = tmp_path / "resnet.pdparams"
    paddle.save({prefix + hnas_to_official_key(name, space): value for name, value in state.items()}, str(path))
    return standalone, path


def test_init_loads_official_weights_exactly(tmp_path, tiny_space) -> None:
    standalone, path = _official_file(tmp_path, tiny_space, prefix="model._layers.")
    supernet = tiny_space.build_supernet()
    init_from_standalone(supernet, path, tiny_space, reorder=False)
    loaded = supernet.state_dict()
    for name, tensor in standalone.state_dict().items():
        np.testing.assert_array_equal(loaded[name].numpy(), tensor.numpy(), err_msg=name)


def test_reordered_supernet_computes_the_same_full_network(tmp_path, tiny_space) -> None:
    standalone, path = _official_file(tmp_path, tiny_space)
    supernet = tiny_space.build_supernet()
    init_from_standalone(supernet, path, tiny_space, reorder=True)
    assert not np.array_equal(
        supernet.state_dict()["stages.0.0.conv1.conv.weight"].numpy(),
        standalone.state_dict()["stages.0.0.conv1.conv.weight"].numpy(),
    )
    importance = np.abs(supernet.state_dict()["stages.0.0.conv2.conv.weight"].numpy()).sum(axis=(0, 2, 3))
    assert np.all(np.diff(importance) <= 1e-6)  # most important middle channels first
    images = paddle.randn([2, tiny_space.in_channels, 16, 16])
    supernet.eval()
    standalone.eval()
    supernet.apply(tiny_space.max_spec())
    np.testing.assert_allclose(supernet(images).numpy(), standalone(images).numpy(), rtol=1e-4, atol=1e-5)


def test_hnas_named_weights_pass_through_and_bad_files_fail(tmp_path, tiny_space) -> None:
    state = {"stem.conv.conv.weight": 1, "fc.bias": 2}
    assert to_hnas_naming(state, tiny_space) == state
    with pytest.raises(HnasError, match="is not a file"):
        init_from_standalone(tiny_space.build_supernet(), tmp_path / "missing.pdparams", tiny_space)
    partial = tmp_path / "partial.pdparams"
    paddle.save({"blocks.0.conv.weight": paddle.zeros([8, 3, 3, 3])}, str(partial))
    with pytest.raises(HnasError):
        init_from_standalone(tiny_space.build_supernet(), partial, tiny_space)


def test_init_from_refuses_another_family(tmp_path) -> None:
    space = SPACES.get("mbv2_tiny")
    with pytest.raises(HnasError, match="official ResNet48 key naming; space 'mbv2_tiny' is of family 'mbv2'"):
        init_from_standalone(space.build_supernet(), tmp_path / "x.pdparams", space)


def test_paddleslim_keys_map_to_hnas_with_prefixes_and_teacher_removed() -> None:
    from hnas.engine.pretrained import hnas_to_paddleslim_key, map_paddleslim_state

    space = SPACES.get("resnet48")
    assert hnas_to_paddleslim_key("stages.1.0.downsample.conv.weight", space) == "model.blocks.6.downsample.0.fn.weight"
    assert hnas_to_paddleslim_key("stages.1.0.downsample.bn._mean", space) == "model.blocks.6.downsample.1._mean"
    assert hnas_to_paddleslim_key("fc.bias", space) == "model.blocks.24.fc.fn.bias"
    state = {
        "_layers.model.blocks.0.conv.fn.weight": 1,
        "model._layers.blocks.1.bn1._variance": 2,
        "ofa_teacher_model.model.blocks.0.conv.weight": 3,
        "blocks.25.fc.fn.weight": 4,
        "fc.bias": 5,
    }
    mapping = map_paddleslim_state(state, space)
    assert mapping.state == {"stem.conv.conv.weight": 1, "stages.0.0.conv1.bn._variance": 2, "fc.bias": 5}
    assert mapping.origin["stem.conv.conv.weight"] == "_layers.model.blocks.0.conv.fn.weight"
    assert mapping.unmapped == ("blocks.25.fc.fn.weight",)
    assert mapping.skipped == ("ofa_teacher_model.model.blocks.0.conv.weight",)
    with pytest.raises(HnasError, match="both map to hnas key 'fc.bias'"):
        map_paddleslim_state({"model.blocks.24.fc.fn.bias": 1, "fc.bias": 2}, space)


def test_init_from_a_supernet_checkpoint_copies_its_weights(tmp_path) -> None:
    from hnas.checkpoints.folder import LAST, MODEL_FILE, read_meta
    from hnas.engine.trainer import train
    from hnas.search_spaces.spaces import space_from_fields
    from tests.engine.tiny import TINY_SPACE_OVERRIDE, tiny_config

    train(tiny_config(tmp_path / "parent", "max_steps=2"))
    tiny_space = space_from_fields(read_meta(tmp_path / "parent" / LAST)["space"], "resnet")
    paddle.seed(7)
    fresh = tiny_space.build_supernet()
    assert init_from_supernet(fresh, tmp_path / "parent", tiny_space) == tmp_path / "parent" / LAST
    stored = paddle.load(str(tmp_path / "parent" / LAST / MODEL_FILE))
    loaded = fresh.state_dict()
    assert stored.keys() == loaded.keys()
    for name, value in stored.items():
        np.testing.assert_array_equal(loaded[name].numpy(), value.numpy(), err_msg=name)

    wider_space = TINY_SPACE_OVERRIDE.replace("base_channels: [8, 8]", "base_channels: [8, 12]")
    wider = tiny_config(tmp_path / "wider", wider_space, "max_steps=1")
    train(wider)
    with pytest.raises(HnasError, match="base_channels"):
        init_from_supernet(tiny_space.build_supernet(), tmp_path / "wider", tiny_space)
    with pytest.raises(HnasError, match="no checkpoint|not a checkpoint|no such"):
        init_from_supernet(tiny_space.build_supernet(), tmp_path / "none", tiny_space)
