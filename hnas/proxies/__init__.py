"""Proxies: scores computed from a subnet spec (or a model and a batch) without training."""

from hnas.proxies.flops import CONVENTIONS, count_flops, count_params
from hnas.proxies.registry import PROXIES
from hnas.proxies.zen_score import ZenResult, compute_zen_score, zen_features

__all__ = [
    "CONVENTIONS",
    "PROXIES",
    "ZenResult",
    "compute_zen_score",
    "count_flops",
    "count_params",
    "zen_features",
]
