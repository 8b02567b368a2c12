"""mbv2 latency keys: each key's layer takes the previous one's output, every subnet's keys are in the table."""

from __future__ import annotations

import json
import random

import paddle
import pytest

from hnas.proxies.latency import LatencyTable, build_table, write_table
from hnas.search_spaces import SPACES


@pytest.mark.parametrize("name", ["mbv2_tiny", "mbv2", "pss_mbv2_tiny", "pss_mbv2", "ofa_mbv3_tiny", "ofa_mbv3"])
def test_keys_chain_like_the_network_and_cover_every_subnet(name: str) -> None:
    space = SPACES.get(name)
    every = set(space.all_latency_keys())
    assert len(every) == len(space.all_latency_keys())
    rng = random.Random(0)
    for _ in range(30):
        spec = space.distribution().sample(rng)
        keys = space.latency_keys(spec)
        assert len(keys) == 3 + sum(spec.depths) and set(keys) <= every
    if not name.endswith("_tiny"):
        return  # layers at 224 px are too slow for the suite; the chain is checked on the tiny space
    spec = space.max_spec()
    paddle.seed(0)
    x = paddle.randn([2, space.in_channels, spec.resolution, spec.resolution])
    for key in space.latency_keys(spec):
        layer, shape = space.build_latency_key(key)
        assert tuple(x.shape[1:]) == shape, key
        layer.eval()
        x = layer(x)
    assert x.shape == [2, space.num_classes]
    assert tuple(space.build_standalone(spec)(paddle.randn([2, space.in_channels, spec.resolution,
                                                            spec.resolution])).shape) == tuple(x.shape)


def test_a_measured_mbv2_tiny_table_predicts_the_sum_of_a_subnets_keys(tmp_path) -> None:
    space = SPACES.get("mbv2_tiny")
    path = tmp_path / "table.json"
    write_table(build_table(space, warmup=0, repeats=1), path)
    table = LatencyTable.load(path, space)
    assert len(table.entries) == len(space.all_latency_keys())
    spec = space.distribution().sample(random.Random(1))
    expected = sum(table.entries[json.dumps([k, list(v)])] for k, v in space.latency_keys(spec))
    assert table.predict(spec) == pytest.approx(expected) and expected > 0


def test_mobilenetv3_keys_name_activation_and_gate() -> None:
    space = SPACES.get("ofa_mbv3")
    keys = space.latency_keys(space.max_spec())
    assert [kind for kind, _ in keys] == ["stem", "first", *["mbv3_block"] * 20, "mbv3_head"]
    blocks = [shape for kind, shape in keys if kind == "mbv3_block"]
    assert [(shape[6], shape[7] > 0) for shape in blocks[::4]] == [
        ("relu", False), ("relu", True), ("hswish", False), ("hswish", True), ("hswish", True)]
    assert keys[-1] == ("mbv3_head", (160, 960, 1280, 7, 1000))
    assert all(kind in ("stem", "first", "block", "head") for kind, _ in SPACES.get("mbv2").all_latency_keys())

