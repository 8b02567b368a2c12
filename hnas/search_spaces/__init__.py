"""Search spaces: what can be built.

Every family implements :class:`~hnas.search_spaces.base.SearchSpace` (arch code, choice view,
distributions, networks, costs) in its own subpackage (``resnet/``, ``mbv2/``);
``FAMILIES`` registers the families and ``SPACES`` the named spaces, which YAML configs refer
to and may override field by field (:func:`~hnas.search_spaces.spaces.resolve_space`).
What the families share lives once, below them (the family base):

- :mod:`~hnas.search_spaces.slots` (the choice view's ``Slot``), :mod:`~hnas.search_spaces.codes`
  (reading digit codes, errors with position and reason), :mod:`~hnas.search_spaces.channels`
  (``make_divisible``), :mod:`~hnas.search_spaces.counting` (analytic FLOPs/params per layer);
- with Paddle, loaded only by the network modules (so spec-only users such as arch-code checks
  and analytic FLOPs do not pay for importing it): :mod:`~hnas.search_spaces.ops` (elastic conv,
  depthwise conv, BN, linear and their conv + BN pairs), :mod:`~hnas.search_spaces.plain`
  (the stand-alone networks' conv + BN), :mod:`~hnas.search_spaces.elastic` (the supernet base:
  ``apply``, ``export``, ``used_parameters``, channel re-ordering).

Inside a family, ``spec.py`` (spec and shapes) is below the network modules and ``space.py``
above them: no module imports one that imports it back.
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
