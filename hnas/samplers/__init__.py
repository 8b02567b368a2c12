"""Samplers: which subnets each optimizer step trains (see :mod:`hnas.samplers.base`).

Build one from a config with ``SAMPLERS.build(name, space=space, seed=seed, **args)``.
"""

from hnas.samplers.base import ROLES, SAMPLERS, SampledNet, Sampler, check_sampler_args, sampler_options
from hnas.samplers.sandwich import SandwichSampler
from hnas.samplers.uniform import UniformSampler

__all__ = ["ROLES", "SAMPLERS", "SampledNet", "Sampler", "SandwichSampler", "UniformSampler", "check_sampler_args",
           "sampler_options"]
