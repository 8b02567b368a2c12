"""The compared methods: selection and that every supernet method's overrides form a valid config."""

from __future__ import annotations

import pytest

from hnas.benchmark.methods import METHODS, select_methods
from hnas.config import load_config
from hnas.engine.config import TrainConfig
from hnas.engine.trainer import build_sampler
from hnas.errors import HnasError
from hnas.proxies.registry import PROXIES
from hnas.search_spaces.spaces import resolve_space


def test_select_keeps_requested_order() -> None:
    assert [m.name for m in select_methods(["uniform", "flops"])] == ["uniform", "flops"]
    assert select_methods(None) == METHODS


@pytest.mark.parametrize("names, message", [(["nope"], "unknown method"), (["flops", "flops"], "twice")])
def test_select_rejects_bad_names(names: list[str], message: str) -> None:
    with pytest.raises(HnasError, match=message):
        select_methods(names)


def test_issue_methods_are_all_present() -> None:
    names = {m.name for m in METHODS}
    assert {"flops", "params", "zen", "uniform", "sandwich", "sandwich_flops", "sandwich_zen",
            "sandwich_alpha"} <= names
    for method in METHODS:
        if method.is_prior:
            PROXIES.get(method.prior)  # registered


@pytest.mark.parametrize("method", [m for m in METHODS if not m.is_prior], ids=lambda m: m.name)
def test_supernet_overrides_build_their_sampler(method) -> None:
    cfg = load_config(None, list(method.overrides), schema=TrainConfig)
    sampler = build_sampler(cfg, resolve_space(cfg.space.name))
    nets = sampler.sample(0, 0)
    roles = [net.role for net in nets]
    if method.name == "uniform":
        assert roles == ["single"]
    else:
        assert roles[:2] == ["teacher", "student"] and len(nets) == 4
        assert ("rank" in roles) == (method.name in {"sandwich_flops", "sandwich_zen"})
    if method.name == "sandwich_alpha":
        assert cfg.loss.distill == "alpha"
