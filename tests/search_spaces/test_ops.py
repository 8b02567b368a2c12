"""Elastic conv / BN / linear: slicing equals a plain layer of the smaller size."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest
from paddle import nn

from hnas.search_spaces.ops import (
    CONV_MODES,
    ElasticBatchNorm2D,
    ElasticConv2D,
    ElasticLinear,
    centre,
    leading_block,
)


def _randomize_bn(bn: nn.BatchNorm2D) -> None:
    size = bn.weight.shape[0]
    bn.weight.set_value(paddle.rand([size]) + 0.5)
    bn.bias.set_value(paddle.randn([size]))
    bn._mean.set_value(paddle.randn([size]))
    bn._variance.set_value(paddle.rand([size]) + 0.5)


def test_defaults_initialise_like_the_plain_layers() -> None:
    pairs = [
        (lambda: nn.Conv2D(6, 10, 3, bias_attr=False), lambda: ElasticConv2D(6, 10, 3)),
        (lambda: nn.BatchNorm2D(10), lambda: ElasticBatchNorm2D(10)),
        (lambda: nn.Linear(12, 5), lambda: ElasticLinear(12, 5)),
    ]
    for make_plain, make_elastic in pairs:
        paddle.seed(3)
        plain = make_plain().state_dict()
        paddle.seed(3)
        elastic = make_elastic().state_dict()
        assert list(plain) == list(elastic)
        for name in plain:
            np.testing.assert_array_equal(plain[name].numpy(), elastic[name].numpy())


def test_conv_slices_leading_filters_and_input_channels() -> None:
    conv = ElasticConv2D(6, 10, 3, stride=2)
    x = paddle.randn([2, 4, 9, 9])
    out = conv(x, 7)
    expected = F.conv2d(x, paddle.to_tensor(conv.weight.numpy()[:7, :4]), stride=2, padding=1)
    assert out.shape == [2, 7, 5, 5]
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-5)


def test_conv_at_full_width_uses_the_parameter_itself() -> None:
    conv = ElasticConv2D(6, 10, 3)
    assert conv.active_weight(6, 10) is conv.weight
    plain = nn.Conv2D(6, 10, 3, padding=1, bias_attr=False)
    plain.weight.set_value(conv.weight)
    x = paddle.randn([2, 6, 5, 5])
    np.testing.assert_array_equal(conv(x).numpy(), plain(x).numpy())


def test_bn_eval_uses_the_active_slice_of_every_statistic() -> None:
    elastic = ElasticBatchNorm2D(8)
    _randomize_bn(elastic)
    elastic.eval()
    plain = nn.BatchNorm2D(5)
    plain.set_state_dict({name: value[:5] for name, value in elastic.state_dict().items()})
    plain.eval()
    x = paddle.randn([3, 5, 4, 4])
    np.testing.assert_allclose(elastic(x).numpy(), plain(x).numpy(), atol=1e-6)


@pytest.fixture(params=[True, False], ids=["slice-is-view", "slice-is-copy"])
def stride_kernels(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run with Paddle's view slicing on and off: the running-stat write-back must work both ways."""
    flag = "FLAGS_use_stride_kernel"
    previous = paddle.get_flags([flag])[flag]
    paddle.set_flags({flag: request.param})
    yield
    paddle.set_flags({flag: previous})


@pytest.mark.usefixtures("stride_kernels")
def test_bn_train_updates_only_the_active_running_stats_like_the_plain_layer() -> None:
    elastic = ElasticBatchNorm2D(8)
    _randomize_bn(elastic)
    before = {name: value.numpy().copy() for name, value in elastic.state_dict().items()}
    plain = nn.BatchNorm2D(5)
    plain.set_state_dict({name: value[:5] for name, value in elastic.state_dict().items()})
    for _ in range(2):  # two updates: momentum compounds the same way
        x = paddle.randn([4, 5, 3, 3]) * 2 + 1
        np.testing.assert_allclose(elastic(x).numpy(), plain(x).numpy(), atol=1e-5)
    for name in ("_mean", "_variance"):
        full = getattr(elastic, name).numpy()
        np.testing.assert_allclose(full[:5], getattr(plain, name).numpy(), atol=1e-6)
        np.testing.assert_array_equal(full[5:], before[name][5:])
        assert not np.allclose(full[:5], before[name][:5])


def test_bn_full_width_train_equals_plain_layer() -> None:
    elastic = ElasticBatchNorm2D(6, momentum=0.5)
    plain = nn.BatchNorm2D(6, momentum=0.5)
    x = paddle.randn([4, 6, 3, 3]) + 2
    np.testing.assert_allclose(elastic(x).numpy(), plain(x).numpy(), atol=1e-6)
    np.testing.assert_allclose(elastic._mean.numpy(), plain._mean.numpy(), atol=1e-6)
    np.testing.assert_allclose(elastic._variance.numpy(), plain._variance.numpy(), atol=1e-6)


def test_linear_slices_input_features_and_keeps_outputs() -> None:
    linear = ElasticLinear(12, 5)
    linear.bias.set_value(paddle.randn([5]))
    x = paddle.randn([3, 9])
    expected = x.numpy() @ linear.weight.numpy()[:9] + linear.bias.numpy()
    np.testing.assert_allclose(linear(x).numpy(), expected, atol=1e-5)
    full = paddle.randn([3, 12])
    np.testing.assert_allclose(
        linear(full).numpy(), full.numpy() @ linear.weight.numpy() + linear.bias.numpy(), atol=1e-5
    )


def test_gradient_of_a_slice_is_zero_outside_it() -> None:
    conv = ElasticConv2D(6, 10, 3)
    conv(paddle.randn([2, 4, 5, 5]), 7).sum().backward()
    grad = conv.weight.grad.numpy()
    assert grad.shape == (10, 6, 3, 3)
    assert np.abs(grad[:7, :4]).sum() > 0
    assert not grad[7:].any() and not grad[:, 4:].any()


def _conv_step(conv: ElasticConv2D, x: paddle.Tensor, out_channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output, weight gradient and input gradient of ``conv(x, out_channels).sum()``-like loss."""
    x = x.detach()
    x.stop_gradient = False
    out = conv(x, out_channels)
    (out * out).sum().backward()
    weight_grad = conv.weight.grad.numpy().copy()
    conv.clear_gradients()
    return out.numpy(), weight_grad, x.grad.numpy()


@pytest.mark.parametrize(("in_channels", "out_channels", "stride"), [(4, 7, 2), (6, 7, 1), (4, 10, 1)])
def test_zero_padded_conv_equals_the_sliced_one(in_channels: int, out_channels: int, stride: int) -> None:
    paddle.seed(5)
    conv = ElasticConv2D(6, 10, 3, stride=stride)
    x = paddle.randn([2, in_channels, 7, 7])
    sliced = _conv_step(conv, x, out_channels)
    conv.zero_pad_positions = CONV_MODES["pad"]
    assert conv.zero_pads(x, out_channels)
    padded = _conv_step(conv, x, out_channels)
    size = 4 if stride == 2 else 7
    assert padded[0].shape == sliced[0].shape == (2, out_channels, size, size)
    for got, expected in zip(padded, sliced):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    grad = padded[1]
    assert np.abs(grad[:out_channels, :in_channels]).sum() > 0
    assert not grad[out_channels:].any() and not grad[:, in_channels:].any()


def test_auto_mode_zero_pads_only_small_narrower_outputs() -> None:
    conv = ElasticConv2D(6, 10, 3, stride=2)
    conv.zero_pad_positions = CONV_MODES["auto"]
    small, large = paddle.randn([2, 4, 7, 7]), paddle.randn([2, 4, 16, 16])
    assert conv.output_positions(small) == 2 * 4 * 4 <= CONV_MODES["auto"]
    assert conv.output_positions(large) == 2 * 8 * 8 > CONV_MODES["auto"]
    assert conv.zero_pads(small, 7) and not conv.zero_pads(large, 7)
    assert not conv.zero_pads(paddle.randn([2, 6, 7, 7]), 10), "the full width needs no padding"
    assert not ElasticConv2D(6, 10, 3).zero_pads(small, 7), "slicing is the default"


@pytest.mark.parametrize("sizes", [(7, 4), (7, 6), (10, 4), (7,), (10, 6)])
def test_leading_block_is_the_exact_prefix_and_its_gradient_is_zero_padded(sizes: tuple[int, ...]) -> None:
    weight = paddle.create_parameter([10, 6, 3, 3], "float32")
    weight.set_value(paddle.randn([10, 6, 3, 3]))
    block = leading_block(weight, sizes)
    prefix = tuple(slice(0, size) for size in sizes)
    np.testing.assert_array_equal(block.numpy(), weight.numpy()[prefix])
    if block is weight:
        assert sizes in ((10, 6),)
        return
    upstream = paddle.randn(block.shape)
    (block * upstream).sum().backward()
    expected = np.zeros([10, 6, 3, 3], dtype="float32")
    expected[prefix] = upstream.numpy()
    np.testing.assert_array_equal(weight.grad.numpy(), expected)


@pytest.mark.parametrize(("full", "size"), [(7, 5), (7, 3), (5, 3), (5, 5)])
def test_centre_is_the_exact_window_and_its_gradient_is_zero_padded(full: int, size: int) -> None:
    weight = paddle.create_parameter([4, 1, full, full], "float32")
    weight.set_value(paddle.randn([4, 1, full, full]))
    window = centre(weight, size)
    start = (full - size) // 2
    inner = (slice(None), slice(None), slice(start, start + size), slice(start, start + size))
    np.testing.assert_array_equal(window.numpy(), weight.numpy()[inner])
    if size == full:
        assert window is weight
        return
    upstream = paddle.randn(window.shape)
    (window * upstream).sum().backward()
    expected = np.zeros([4, 1, full, full], dtype="float32")
    expected[inner] = upstream.numpy()
    np.testing.assert_array_equal(weight.grad.numpy(), expected)
