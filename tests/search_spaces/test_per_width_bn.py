"""Per-width BN: private running statistics per width, shared affine, the BN reset, export."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from hnas.errors import HnasError
from hnas.nn.bn_recal import BNStatsSnapshot, recalibrate_bn, reset_bn_per_width
from hnas.search_spaces.bn_option import check_bn_mode
from hnas.search_spaces.per_width_bn import PerWidthBatchNorm2D, bn_channel_counts
from tests.dynamic.tiny import WIDTHS, TinySpace, TinySpec


def _images(seed: int, n: int = 6) -> paddle.Tensor:
    return paddle.to_tensor(np.random.default_rng(seed).normal(size=(n, 1, 8, 8)).astype("float32"))


def test_each_width_updates_only_its_own_statistics() -> None:
    bn = PerWidthBatchNorm2D(8, (4, 8))
    bn.train()
    x = paddle.to_tensor(np.random.default_rng(0).normal(3.0, 2.0, size=(16, 4, 3, 3)).astype("float32"))
    bn(x)
    assert not np.allclose(bn.width_mean[0, :4].numpy(), 0.0)
    np.testing.assert_array_equal(bn.width_mean[1].numpy(), np.zeros(8, "float32"))
    np.testing.assert_array_equal(bn.width_variance[1].numpy(), np.ones(8, "float32"))
    expected = 0.1 * x.numpy().mean(axis=(0, 2, 3))  # momentum 0.9 from 0
    np.testing.assert_allclose(bn.width_mean[0, :4].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_affine_parameters_are_shared_and_statistics_private() -> None:
    bn = PerWidthBatchNorm2D(8, (4, 8))
    with paddle.no_grad():
        bn.weight.set_value(paddle.arange(1, 9, dtype="float32"))
        bn.width_mean[0] = paddle.full([8], 1.0)
        bn.width_mean[1] = paddle.full([8], -1.0)
    bn.eval()
    narrow = bn(paddle.zeros([1, 4, 1, 1])).numpy().ravel()
    wide = bn(paddle.zeros([1, 8, 1, 1])).numpy().ravel()
    scale = 1 / np.sqrt(1 + 1e-5)
    np.testing.assert_allclose(narrow, -np.arange(1, 5) * scale, rtol=1e-5)  # weight[:4] with width 4's mean
    np.testing.assert_allclose(wide, np.arange(1, 9) * scale, rtol=1e-5)     # the same weight, width 8's mean
    assert [name for name, p in bn.named_parameters() if not p.stop_gradient] == ["weight", "bias"]


def test_gradient_reaches_the_shared_weight_from_every_width() -> None:
    bn = PerWidthBatchNorm2D(8, (4, 8))
    bn.train()
    x = paddle.to_tensor(np.random.default_rng(1).normal(size=(4, 4, 2, 2)).astype("float32"))
    (bn(x) * paddle.arange(4, dtype="float32").reshape([1, 4, 1, 1])).sum().backward()
    assert np.abs(bn.weight.grad.numpy()[1:4]).sum() > 0


def test_an_unknown_width_is_refused() -> None:
    bn = PerWidthBatchNorm2D(8, (4, 8))
    with pytest.raises(HnasError, match=r"statistics for \[4, 8\] channels, got an input of 6"):
        bn(paddle.zeros([1, 6, 2, 2]))


def test_the_space_option_swaps_every_bn_with_the_widths_of_the_levels() -> None:
    net = TinySpace("per_width").build_supernet()
    layers = {name: layer for name, layer in net.named_sublayers() if isinstance(layer, PerWidthBatchNorm2D)}
    assert set(layers) == {"stem_bn", "conv_bn", "pw_bn", "pw2_bn"}
    assert layers["pw_bn"].widths == WIDTHS
    assert layers["pw2_bn"].widths == tuple(2 * w for w in WIDTHS)
    assert layers["stem_bn"].widths == (4,)
    assert bn_channel_counts(TinySpace().build_supernet(), TinySpace().width_levels())["pw_bn"] == WIDTHS


def test_bn_mode_checks() -> None:
    check_bn_mode("s", "shared", None)
    with pytest.raises(ValueError, match="no ordered width levels"):
        check_bn_mode("s", "per_width", ())
    with pytest.raises(ValueError, match="bn must be one of"):
        check_bn_mode("s", "private", ())


def test_bn_reset_re_estimates_every_width_exactly() -> None:
    space = TinySpace("per_width")
    net = space.build_supernet()
    batches = [_images(seed) for seed in range(3)]
    reset_bn_per_width(net, space.width_levels(), batches)
    for level in space.width_levels():
        # the exact statistics of one level: a shared-BN copy recalibrated on the same batches
        reference = TinySpace().build_supernet()
        reference.set_state_dict({k: v for k, v in net.state_dict().items() if "width_" not in k})
        reference.apply(level)
        recalibrate_bn(reference, batches, "reset")
        width = WIDTHS[level.level]
        np.testing.assert_allclose(net.pw_bn.width_mean[level.level, :width].numpy(),
                                   reference.pw_bn._mean[:width].numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(net.pw2_bn.width_variance[level.level, :2 * width].numpy(),
                                   reference.pw2_bn._variance[:2 * width].numpy(), rtol=1e-5, atol=1e-6)
    assert net.active_spec == TinySpec(len(WIDTHS) - 1)


def test_snapshot_restores_the_per_width_statistics() -> None:
    net = TinySpace("per_width").build_supernet()
    reset_bn_per_width(net, TinySpace().width_levels(), [_images(0)])
    before = net.pw_bn.width_mean.numpy().copy()
    snapshot = BNStatsSnapshot(net)
    net.apply(TinySpec(2))
    recalibrate_bn(net, [_images(5)], "reset")
    assert not np.allclose(net.pw_bn.width_mean.numpy(), before)
    snapshot.restore()
    np.testing.assert_array_equal(net.pw_bn.width_mean.numpy(), before)
