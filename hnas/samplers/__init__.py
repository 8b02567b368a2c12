"""Samplers: which subnets each optimizer step trains (see :mod:`hnas.samplers.base`).

Build one from a config with ``SAMPLERS.build(name, space=space, seed=seed, **args)``.
"""

from hnas.samplers.base import ROLES, SAMPLERS, SampledNet, Sampler, check_sampler_args, sampler_options
from hnas.samplers.fairnas import FairNasSampler
from hnas.samplers.ofa_ps import ProgressiveShrinkingSampler
from hnas.samplers.pss import PssSampler
from hnas.samplers.rss import RssSampler
from hnas.samplers.sandwich import SandwichSampler
from hnas.samplers.spos import SposSampler
from hnas.samplers.uniform import UniformSampler

__all__ = ["ROLES", "SAMPLERS", "FairNasSampler", "ProgressiveShrinkingSampler", "PssSampler", "RssSampler",
           "SampledNet", "Sampler", "SandwichSampler", "SposSampler", "UniformSampler", "check_sampler_args",
           "sampler_options"]
