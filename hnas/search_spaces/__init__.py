"""Search spaces: what can be built.

Every family implements :class:`~hnas.search_spaces.base.SearchSpace` (arch code, choice view,
distributions, networks, costs) in its own subpackage (``resnet/``, ``mbv2/``);
``FAMILIES`` registers the families and ``SPACES`` the named spaces, which YAML configs refer
to and may override field by field (:func:`~hnas.search_spaces.spaces.resolve_space`).
The elastic ops shared by the families are in :mod:`hnas.search_spaces.ops` (Paddle; loaded
only by the network modules, so spec-only users such as arch-code checks and analytic FLOPs
do not pay for importing Paddle).
"""

from __future__ import annotations

from hnas.search_spaces.base import Choices, SearchSpace, Slot, Spec, Supernet
from hnas.search_spaces.distributions import ChoiceDistribution, ConstrainedDistribution, Constraint, Distribution
from hnas.search_spaces.spaces import FAMILIES, SPACES, resolve_space, space_from_fields

__all__ = [
    "FAMILIES",
    "SPACES",
    "ChoiceDistribution",
    "Choices",
    "ConstrainedDistribution",
    "Constraint",
    "Distribution",
    "SearchSpace",
    "Slot",
    "Spec",
    "Supernet",
    "resolve_space",
    "space_from_fields",
]
