"""Tests of hnas/nn/scorer.py: a subnet is recalibrated and measured at its own resolution."""

from __future__ import annotations

import numpy as np
import pytest

from hnas.nn.accuracy import measure_accuracy
from hnas.nn.bn_recal import recalibrate_bn
from hnas.nn.resize import resize_images
from hnas.nn.scorer import SubnetScorer
from hnas.search_spaces.spaces import SPACES


@pytest.fixture
def tiny_space():
    """resnet48_tiny with an elastic resolution; the data comes at 28 px (overrides the conftest fixture)."""
    return SPACES.get("resnet48_tiny").replace({"resolutions": (20, 24, 28)})


def _at(space, spec, resolution: int):
    return space.from_choices({**space.choices(spec), "resolution": resolution})


def _resized(batches, resolution: int):
    return [(resize_images(images, resolution), labels) for images, labels in batches]


def test_a_subnet_is_measured_at_its_resolution_like_the_standalone_net(tiny_space, supernet, images) -> None:
    spec = _at(tiny_space, tiny_space.min_spec(), 20)
    measured = SubnetScorer(supernet, images, recal_mode="none").measure(spec)
    network = supernet.export(spec)
    network.eval()
    standalone = measure_accuracy(network, _resized(images, 20))
    assert measured.images == standalone.images == 10
    assert measured.top1 == standalone.top1 and measured.loss == pytest.approx(standalone.loss, rel=1e-5)
    # Same logits on the same resized images; the 28 px images would give others.
    small = resize_images(images[0][0], 20)
    supernet.apply(spec)
    np.testing.assert_allclose(supernet(small).numpy(), network(small).numpy(), rtol=1e-5, atol=1e-5)
    assert measure_accuracy(network, images).loss != pytest.approx(standalone.loss, rel=1e-3)


def test_bn_recalibration_runs_at_the_subnet_resolution(tiny_space, supernet, images, recal_images) -> None:
    spec = _at(tiny_space, tiny_space.max_spec(), 24)
    measured = SubnetScorer(supernet, images, recal_images, "reset").measure(spec)
    supernet.apply(spec)
    recalibrate_bn(supernet, [resize_images(batch, 24) for batch in recal_images])
    network = supernet.export(spec)
    network.eval()
    reference = measure_accuracy(network, _resized(images, 24))
    assert measured.loss == pytest.approx(reference.loss, rel=1e-5) and measured.top1 == reference.top1


def test_score_all_scores_in_input_order_like_score_with_groups_by_prefix() -> None:
    from tests.prefix_archs import prefix_sharing_codes
    from tests.prefix_nets import random_data, trained_like

    space = SPACES.get("resnet48_tiny")
    net = trained_like("resnet48_tiny")
    val, recal = random_data(1)
    specs = [space.decode(code) for code in prefix_sharing_codes(space, groups=1, per_group=3, singles=2)]
    specs = [specs[3], *specs[:3], specs[4]]  # a single first: scores come back in input order all the same
    shared = SubnetScorer(net, val[:1], recal[:1], "reset")
    assert shared.groups(specs) == [[0], [1, 2, 3], [4]]
    assert SubnetScorer(net, val[:1], recal[:1], "reset", shared_prefix=False).groups(specs) == [[i] for i in range(5)]
    assert shared.score_all(specs) == [shared.score(spec) for spec in specs]
