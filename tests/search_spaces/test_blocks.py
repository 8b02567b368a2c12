"""Elastic BasicBlock: configured widths match the stand-alone block; reordering keeps its function."""

from __future__ import annotations

import numpy as np
import paddle
import pytest
from paddle import nn

from hnas.search_spaces.resnet import BlockShape
from hnas.search_spaces.resnet.blocks import ElasticBasicBlock
from hnas.search_spaces.resnet.standalone import BasicBlock


def _randomize_bn(layer: nn.Layer) -> None:
    for sublayer in layer.sublayers():
        if isinstance(sublayer, nn.BatchNorm2D):
            size = sublayer.weight.shape[0]
            sublayer.weight.set_value(paddle.rand([size]) + 0.5)
            sublayer.bias.set_value(paddle.randn([size]) * 0.1)
            sublayer._mean.set_value(paddle.randn([size]) * 0.1)
            sublayer._variance.set_value(paddle.rand([size]) + 0.5)


def _shape(in_channels: int, mid: int, out: int, stride: int = 2, downsample: bool = True) -> BlockShape:
    return BlockShape(0, 0, in_channels, mid, out, stride, downsample)


def _sliced_copy(block: ElasticBasicBlock, shape: BlockShape) -> BasicBlock:
    plain = BasicBlock(shape)
    state = block.state_dict()
    plain.set_state_dict(
        {name: state[name][tuple(slice(0, size) for size in value.shape)] for name, value in plain.state_dict().items()}
    )
    return plain


@pytest.mark.parametrize("downsample", [True, False])
def test_configured_block_equals_the_standalone_block(downsample: bool) -> None:
    stride = 2 if downsample else 1
    block = ElasticBasicBlock(12, 12, 12, stride, downsample)
    _randomize_bn(block)
    block.eval()
    for in_channels, mid, out in [(12, 12, 12), (9, 7, 9), (12, 5, 10)]:
        if not downsample and in_channels != out:
            continue
        shape = _shape(in_channels, mid, out, stride, downsample)
        block.configure(shape)
        plain = _sliced_copy(block, shape)
        plain.eval()
        x = paddle.randn([2, in_channels, 8, 8])
        np.testing.assert_allclose(block(x).numpy(), plain(x).numpy(), atol=1e-5)
        assert block.active_shapes(shape) == {name: tuple(v.shape) for name, v in plain.state_dict().items()}


def test_configure_rejects_shapes_that_do_not_fit() -> None:
    block = ElasticBasicBlock(8, 8, 8, 2, True)
    with pytest.raises(ValueError, match="stride"):
        block.configure(_shape(8, 8, 8, stride=1))
    with pytest.raises(ValueError, match="downsample"):
        block.configure(_shape(8, 8, 8, downsample=False))
    with pytest.raises(ValueError, match="exceed"):
        block.configure(_shape(8, 9, 8))


def test_reorder_sorts_by_importance_and_keeps_the_function() -> None:
    block = ElasticBasicBlock(6, 10, 8, 2, True)
    _randomize_bn(block)
    block.eval()
    x = paddle.randn([2, 6, 8, 8])
    before = block(x).numpy()
    parameters = [id(p) for p in block.parameters()]
    importance = block.channel_importance()
    old_conv1 = block.conv1.conv.weight.numpy().copy()
    old_mean = block.conv1.bn._mean.numpy().copy()

    order = block.reorder_by_importance()

    np.testing.assert_allclose(block(x).numpy(), before, atol=1e-5)
    np.testing.assert_array_equal(order, np.argsort(-importance, kind="stable"))
    assert np.all(np.diff(block.channel_importance()) <= 1e-6)
    np.testing.assert_array_equal(block.conv1.conv.weight.numpy(), old_conv1[order])
    np.testing.assert_array_equal(block.conv1.bn._mean.numpy(), old_mean[order])
    assert [id(p) for p in block.parameters()] == parameters
    assert sorted(order.tolist()) != order.tolist()  # the random weights did need a permutation
