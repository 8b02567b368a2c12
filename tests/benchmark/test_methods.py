"""The compared methods: selection and that every supernet method's overrides form a valid config."""

from __future__ import annotations

import pytest

from hnas.benchmark.methods import METHODS, select_methods
from hnas.config import load_config
from hnas.engine.trainer import build_sampler
from hnas.errors import HnasError
from hnas.proxies.registry import PROXIES
from hnas.search_spaces.spaces import resolve_space
from hnas.train_config import TrainConfig


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
    if method.name in {"uniform", "spos", "rss", "rss_anchor"}:
        assert roles == ["single"]
    elif method.name == "fairnas":
        assert set(roles) == {"single"} and len(nets) == 7
    elif method.name in {"pss", "ofa_ps"}:
        assert roles == ["teacher", "student", "student"]
        assert cfg.loss.distill == "kd"
    else:
        assert roles[:2] == ["teacher", "student"] and len(nets) == 4
        assert ("rank" in roles) == (method.name in {"sandwich_flops", "sandwich_zen"})
    if method.name == "sandwich_alpha":
        assert cfg.loss.distill == "alpha"
    outer = {"sandwich_prelu": "prelu", "sandwich_mish": "mish"}.get(method.name, "relu")
    assert resolve_space(cfg.space.name, cfg.space.overrides).outer_activation == outer


def test_the_method_marked_embedded_default_is_the_embedded_config() -> None:
    """The demo trains configs/embedded.yaml; the report row it is compared with must be the same run."""
    from pathlib import Path

    embedded = Path(__file__).resolve().parents[2] / "configs" / "embedded.yaml"
    marked = [m for m in METHODS if "(the embedded default)" in m.description]
    assert len(marked) == 1 and not marked[0].is_prior
    base = load_config(embedded, schema=TrainConfig)
    assert load_config(embedded, list(marked[0].overrides), schema=TrainConfig) == base
    for other in METHODS:
        if not other.is_prior and other is not marked[0]:
            same_config = load_config(embedded, list(other.overrides), schema=TrainConfig) == base
            assert not same_config or other.fewshot is not None or other.extra_epochs > 0, other.name
