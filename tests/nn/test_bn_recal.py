from __future__ import annotations

import numpy as np
import paddle
import pytest

from hnas.nn.accuracy import measure_accuracy
from hnas.nn.bn_recal import BNStatsSnapshot, batch_norm_layers, recalibrate_bn, recalibrated
from hnas.search_spaces.resnet.supernet import ResNetSupernet


def bn_state(net: paddle.nn.Layer) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in net.state_dict().items() if k.endswith(("_mean", "_variance"))}


def test_reset_gives_the_exact_mean_of_the_batch_statistics(supernet: ResNetSupernet, tiny_archs, recal_images) -> None:
    _, spec = tiny_archs["arch1"]
    supernet.apply(spec)
    recalibrate_bn(supernet, recal_images, "reset")
    recalibrated_net = supernet.export(spec)
    # Reference: the stand-alone net of the same subnet, statistics of each batch on its own.
    reference = supernet.export(spec)
    per_batch = []
    for batch in recal_images:
        for layer in batch_norm_layers(reference):
            layer._momentum = 0.0  # running := this batch's statistics
        reference.train()
        with paddle.no_grad():
            reference(batch)
        per_batch.append(bn_state(reference))
    got = bn_state(recalibrated_net)
    for name, value in got.items():
        np.testing.assert_allclose(value, np.mean([stats[name] for stats in per_batch], axis=0), rtol=2e-5, atol=2e-6)


def test_recalibration_restores_momentum_and_mode(supernet: ResNetSupernet, recal_images) -> None:
    momenta = [layer._momentum for layer in batch_norm_layers(supernet)]
    recalibrate_bn(supernet, recal_images, "reset")
    assert [layer._momentum for layer in batch_norm_layers(supernet)] == momenta
    assert not supernet.training


def test_mode_none_changes_nothing(supernet: ResNetSupernet, recal_images) -> None:
    before = bn_state(supernet)
    recalibrate_bn(supernet, recal_images, "none")
    after = bn_state(supernet)
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_statistics_do_not_leak_into_the_next_arch(supernet: ResNetSupernet, tiny_archs, images, recal_images) -> None:
    trained = bn_state(supernet)
    snapshot = BNStatsSnapshot(supernet)
    keys = list(tiny_archs)
    results = {}
    for key in keys + keys[:2]:  # the first two again, after others were recalibrated
        supernet.apply(tiny_archs[key][1])
        with recalibrated(supernet, recal_images, "reset", snapshot):
            results.setdefault(key, []).append(measure_accuracy(supernet, images))
        restored = bn_state(supernet)
        assert all(np.array_equal(trained[k], restored[k]) for k in trained), "BN statistics not restored"
    for key in keys[:2]:
        assert results[key][0] == results[key][1]


def test_recalibrated_restores_even_when_evaluation_fails(supernet: ResNetSupernet, recal_images) -> None:
    trained = bn_state(supernet)
    with pytest.raises(RuntimeError):
        with recalibrated(supernet, recal_images, "reset"):
            raise RuntimeError("boom")
    restored = bn_state(supernet)
    assert all(np.array_equal(trained[k], restored[k]) for k in trained)


def test_reset_needs_batches_and_a_known_mode(supernet: ResNetSupernet, recal_images) -> None:
    with pytest.raises(ValueError, match="at least one"):
        recalibrate_bn(supernet, [], "reset")
    with pytest.raises(ValueError, match="unknown BN recalibration mode"):
        recalibrate_bn(supernet, recal_images, "mean")
