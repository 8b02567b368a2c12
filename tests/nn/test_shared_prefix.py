"""Shared-prefix evaluation gives exactly the per-arch results (both families, both recal modes, chunked or not)."""

from __future__ import annotations

import dataclasses

import numpy as np
import paddle
import pytest

import hnas.nn.scorer as scorer_module
from hnas.nn.scorer import SubnetScorer
from hnas.nn.shared_prefix import measure_group, prefix_groups
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.resnet import ResNetSpace
from hnas.search_spaces.spaces import SPACES
from tests.prefix_archs import prefix_sharing_codes
from tests.prefix_nets import random_data, trained_like


def test_groups_follow_first_appearance_and_are_cut_at_max_group() -> None:
    keys = ["a", "b", None, "a", "b", "a", None, "a"]
    assert prefix_groups(keys, lambda key: key) == [[0, 3, 5, 7], [1, 4], [2], [6]]
    assert prefix_groups(keys, lambda key: key, max_group=3) == [[0, 3, 5], [7], [1, 4], [2], [6]]
    with pytest.raises(ValueError, match="max_group"):
        prefix_groups(keys, lambda key: key, max_group=0)


@pytest.mark.parametrize("space_name", ["resnet48_tiny", "mbv2_tiny"])
@pytest.mark.parametrize("mode", ["reset", "none"])
@pytest.mark.parametrize("cache_bytes", [512 * 1024**2, 1], ids=["fits", "one-batch-chunks"])
def test_shared_prefix_results_equal_per_arch_results(space_name: str, mode: str, cache_bytes: int) -> None:
    space = SPACES.get(space_name)
    net = trained_like(space_name)
    specs = [space.decode(code) for code in prefix_sharing_codes(space, groups=2, per_group=3, singles=1)]
    assert space.prefix_key(specs[0]) is not None  # the family names its prefix
    val, recal = random_data(space.in_channels)
    trained = {name: tensor.numpy().copy() for name, tensor in net.state_dict().items()}
    per_arch = SubnetScorer(net, val, recal, mode, shared_prefix=False)
    expected = [per_arch.measure(spec) for spec in specs]
    shared = SubnetScorer(net, val, recal, mode, cache_bytes=cache_bytes)
    assert shared.shared_prefix
    got = dict(shared.measure_all(specs))
    assert [got[index] for index in range(len(specs))] == expected  # bit-identical floats
    assert len({accuracy.loss for accuracy in expected}) > 1  # the archs differ
    for name, tensor in net.state_dict().items():  # the trained statistics are back
        np.testing.assert_array_equal(tensor.numpy(), trained[name], err_msg=name)
    assert not net.training


def test_groups_are_measured_once_per_prefix(monkeypatch) -> None:
    space = SPACES.get("resnet48_tiny")
    net = trained_like("resnet48_tiny")
    specs = [space.decode(code) for code in prefix_sharing_codes(space, groups=2, per_group=3, singles=2)]
    val, recal = random_data(1)
    calls: list[int] = []

    def counting(network, group, *args, **kwargs):
        calls.append(len(group))
        return measure_group(network, group, *args, **kwargs)

    monkeypatch.setattr(scorer_module, "measure_group", counting)
    prefixes: list[tuple] = []
    original = type(net).forward_prefix
    monkeypatch.setattr(type(net), "forward_prefix", lambda self, x: prefixes.append(x.shape) or original(self, x))
    order = [index for index, _ in SubnetScorer(net, val, recal, "reset").measure_all(specs)]
    assert calls == [3, 3] and sorted(order) == list(range(8))
    # Each group runs its prefix once per batch (3 recal + 3 val); singles run whole (6 forwards each).
    assert len(prefixes) == 2 * 6 + 2 * 6


def test_a_space_without_prefixes_falls_back_to_per_arch_evaluation(monkeypatch) -> None:
    @dataclasses.dataclass(frozen=True)
    class NoPrefixSpace(ResNetSpace):
        prefix_key = SearchSpace.prefix_key  # the protocol's default: no prefix

    tiny = SPACES.get("resnet48_tiny")
    space = NoPrefixSpace.from_fields({**tiny.fields(), "name": "no_prefix"})
    paddle.seed(1)
    net = space.build_supernet()
    net.eval()
    monkeypatch.setattr(scorer_module, "measure_group", lambda *args, **kwargs: pytest.fail("grouped"))
    specs = [space.decode(code) for code in prefix_sharing_codes(tiny, groups=1, per_group=3, singles=0)]
    assert len({tiny.prefix_key(spec) for spec in specs}) == 1 and space.prefix_key(specs[0]) is None
    val, recal = random_data(1)
    scorer = SubnetScorer(net, val, recal, "reset")
    assert [accuracy for _, accuracy in scorer.measure_all(specs)] == [scorer.measure(spec) for spec in specs]


def test_reset_without_recalibration_images_is_refused() -> None:
    space = SPACES.get("resnet48_tiny")
    net = trained_like("resnet48_tiny")
    specs = [space.decode(code) for code in prefix_sharing_codes(space, groups=1, per_group=2, singles=0)]
    val, _ = random_data(1)
    with pytest.raises(ValueError, match="at least one training batch"):
        measure_group(net, specs, val, [], "reset")
    assert not net.training
