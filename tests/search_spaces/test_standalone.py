"""build_standalone: the plain network of one spec has the spec's shapes."""

from __future__ import annotations

import paddle
import pytest

from hnas.search_spaces import SPACES
from hnas.search_spaces.resnet import block_shapes
from hnas.search_spaces.resnet.standalone import BasicBlock

ARCH1 = "1252233313000000223212122253130000000000006515000000"


@pytest.mark.parametrize("which", ["max", "min", "arch1"])
def test_tiny_standalone_shapes(which: str) -> None:
    space = SPACES.get("resnet48_tiny")
    spec = {"max": space.max_spec(), "min": space.min_spec(), "arch1": space.decode(ARCH1)}[which]
    net = space.build_standalone(spec)
    net.eval()
    assert net(paddle.randn([2, 1, 28, 28])).shape == [2, 10]
    assert [len(stage) for stage in net.stages] == list(spec.depths)
    state = net.state_dict()
    for shape in block_shapes(space, spec):
        prefix = f"stages.{shape.stage}.{shape.index}."
        assert state[prefix + "conv1.conv.weight"].shape == [shape.mid_channels, shape.in_channels, 3, 3]
        assert state[prefix + "conv2.bn._mean"].shape == [shape.out_channels]
        assert (prefix + "downsample.conv.weight" in state) == shape.downsample
    assert state["fc.weight"].shape == [space.channels(160, spec.out_codes[-1]), 10]


def test_competition_standalone_output_shape() -> None:
    space = SPACES.get("resnet48")
    net = space.build_standalone(space.min_spec())
    net.eval()
    assert net(paddle.randn([1, 3, 32, 32])).shape == [1, 1000]
    assert net.state_dict()["stem.conv.conv.weight"].shape == [48, 3, 7, 7]


def test_build_rejects_an_invalid_spec() -> None:
    space = SPACES.get("resnet48_tiny")
    bad = space.max_spec().__class__(resolution=28, depths=(9, 5, 8, 5), out_codes=(1,) * 4, mid_codes=((1,) * 9,) * 4)
    with pytest.raises(ValueError):
        space.build_standalone(bad)


def test_zero_init_residual_starts_every_block_as_its_shortcut() -> None:
    space = SPACES.get("resnet48_tiny")
    spec = space.max_spec()
    network = space.build_standalone(spec, zero_init_residual=True)
    scales = [layer.conv2.bn.weight.numpy() for layer in network.sublayers() if isinstance(layer, BasicBlock)]
    assert len(scales) == sum(spec.depths) and all((s == 0).all() for s in scales)
    assert (network.stem.conv.bn.weight.numpy() == 1).all()  # only the residual branches
    plain = space.build_standalone(spec)
    blocks = [layer for layer in plain.sublayers() if isinstance(layer, BasicBlock)]
    assert all((layer.conv2.bn.weight.numpy() == 1).all() for layer in blocks)
