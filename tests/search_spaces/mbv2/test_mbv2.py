"""The mbv2 family beyond the shared contract: code layout, kernel crop and transform, expand slicing."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import random

import numpy as np
import paddle
import pytest

from hnas.errors import ArchCodeError
from hnas.search_spaces import SPACES
from hnas.search_spaces.mbv2 import MBV2Spec
from hnas.search_spaces.mbv2.layers import ElasticDepthwiseConv2D

TINY = SPACES.get("mbv2_tiny")
FULL = SPACES.get("mbv2")

pytestmark = pytest.mark.filterwarnings("ignore:Conversion of an array with ndim > 0:DeprecationWarning")


def test_code_layout_is_depths_then_kernel_expand_pairs() -> None:
    code = "1" + "2343" + "34760000" + "73747600" + "53545456" + "33343600"
    spec = TINY.decode(code)
    assert spec == MBV2Spec(28, (2, 3, 4, 3), ((3, 7), (7, 7, 7), (5, 5, 5, 5), (3, 3, 3)),
                            ((4, 6), (3, 4, 6), (3, 4, 4, 6), (3, 4, 6)))
    assert TINY.encode(spec) == code
    assert len(code) == TINY.code_length == 37 and FULL.code_length == 55


@pytest.mark.parametrize(("position", "digit", "reason"), [
    (0, "2", "image-size code is 2"),
    (1, "5", "depth of stage 1 is 5"),
    (5, "4", "kernel size of stage 1 block 1 is 4"),
    (6, "5", "expand ratio of stage 1 block 1 is 5"),
    (9, "3", "stage 1 block 3 is inactive"),
])
def test_bad_digits_are_named(position: int, digit: str, reason: str) -> None:
    code = TINY.encode(TINY.min_spec())
    bad = code[:position] + digit + code[position + 1:]
    with pytest.raises(ArchCodeError, match=reason) as caught:
        TINY.decode(bad)
    assert caught.value.position == position


def test_max_and_min_are_the_extremes_of_every_choice() -> None:
    largest, smallest = TINY.max_spec(), TINY.min_spec()
    assert set(largest.depths) == {4} and {k for s in largest.kernels for k in s} == {7}
    assert {e for s in largest.expands for e in s} == {6}
    assert set(smallest.depths) == {2} and {k for s in smallest.kernels for k in s} == {3}
    assert TINY.width_ratio(smallest) == pytest.approx(0.5) and TINY.num_blocks(largest) == 16


def test_kernel_crop_takes_the_centre_of_the_largest_kernel() -> None:
    paddle.seed(0)
    conv = ElasticDepthwiseConv2D(6, (3, 5, 7), stride=1)
    full = conv.weight.numpy()
    np.testing.assert_array_equal(conv.active_weight(4, 5).numpy(), full[:4, :, 1:6, 1:6])
    np.testing.assert_array_equal(conv.active_weight(6, 3).numpy(), full[:, :, 2:5, 2:5])
    with pytest.raises(ValueError, match="kernel 4"):
        conv.active_weight(6, 4)


def test_kernel_transform_starts_as_the_crop_and_learns() -> None:
    paddle.seed(0)
    conv = ElasticDepthwiseConv2D(4, (3, 5, 7), stride=1, transform=True)
    np.testing.assert_allclose(conv.active_weight(4, 3).numpy(), conv.weight.numpy()[:, :, 2:5, 2:5], rtol=1e-6)
    assert [tuple(p.shape) for p in conv.transform_parameters(3)] == [(25, 25), (9, 9)]
    assert conv.transform_parameters(7) == []
    x = paddle.randn([2, 4, 8, 8])
    conv(x, 3).sum().backward()
    assert conv.transform_5to3.grad is not None and conv.transform_7to5.grad is not None


def test_transform_space_exports_the_transformed_kernels() -> None:
    paddle.seed(1)
    space = dataclasses.replace(TINY, kernel_transform=True)
    supernet = space.build_supernet()
    for block in supernet.stages[0]:
        matrix = block.dw.conv.transform_7to5
        matrix.set_value(paddle.randn(matrix.shape) * 0.2)
    supernet.eval()
    spec = space.decode("1" + "2222" + "53340000" * 4)  # kernels 5 and 3: both transforms in use
    supernet.apply(spec)
    net = supernet.export(spec)
    net.eval()
    x = paddle.randn([2, 1, 28, 28])
    np.testing.assert_allclose(supernet(x).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-5)
    assert not any("transform" in name for name in net.state_dict())
    assert "stages.0.0.dw.conv.transform_7to5" in supernet.state_dict()


def test_expand_ratio_slices_the_leading_middle_channels() -> None:
    spec = TINY.max_spec()
    shapes = TINY.block_shapes(spec)
    first = shapes[0]
    assert (first.in_channels, first.mid_channels, first.out_channels) == (8, 48, 12)
    small = dataclasses.replace(spec, expands=((3,) * 4,) + spec.expands[1:])
    assert TINY.block_shapes(small)[0].mid_channels == 24
    assert FULL.block_shapes(FULL.max_spec())[0].mid_channels == 96  # make_divisible(16 * 6, 8)


def test_reorder_keeps_the_full_network_function() -> None:
    paddle.seed(2)
    supernet = TINY.build_supernet()
    supernet.eval()
    x = paddle.randn([2, 1, 28, 28])
    before = supernet(x).numpy()
    supernet.reorder_channels()
    np.testing.assert_allclose(supernet(x).numpy(), before, rtol=1e-4, atol=1e-5)


def test_zero_init_residual_zeroes_the_residual_blocks_last_bn() -> None:
    net = TINY.build_standalone(TINY.max_spec(), zero_init_residual=True)
    blocks = net.blocks()
    assert all(float(b.project.bn.weight.abs().sum()) == 0 for b in blocks if b.residual)
    assert all(float(b.project.bn.weight.abs().sum()) > 0 for b in blocks if not b.residual)


def test_imagenet_variant_flops_equal_paddle_at_a_small_input() -> None:
    rng = random.Random(0)
    for spec in (FULL.max_spec(), FULL.distribution().sample(rng)):
        net = FULL.build_standalone(spec)
        with contextlib.redirect_stdout(io.StringIO()):
            expected = paddle.flops(net, [1, 3, 64, 64])
        assert FULL.flops(spec, resolution=64) == expected
        assert FULL.params(spec) == sum(int(p.numel()) for p in net.parameters())
