"""Proxies: scores computed from a subnet spec (or a model and a batch) without training.

ZenScore builds Paddle networks and lives in :mod:`hnas.proxies.zen_score`, imported from
there; this package itself stays Paddle-free for spec-only users (analytic FLOPs, the CLI).
The ``"zen"`` entry of ``PROXIES`` imports it on first use.
"""

from hnas.proxies.flops import CONVENTIONS, count_flops, count_params
from hnas.proxies.registry import PROXIES

__all__ = [
    "CONVENTIONS",
    "PROXIES",
    "count_flops",
    "count_params",
]
