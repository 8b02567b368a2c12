"""The sampler interface: which subnets one optimizer step trains, and how.

A sampler returns, for every optimizer step, the list of :class:`SampledNet` the step loops
over. It never touches layers; the step applies each spec to the supernet, runs the forward
pass and picks the loss from the net's role:

========== ==================================================================================
role       how the step trains it
========== ==================================================================================
teacher    the largest subnet (:func:`teacher_spec`): cross-entropy with the labels. Its logits, detached, are the
           distillation target of the ``student`` nets of the same step, so it comes first.
student    distillation to the teacher's detached logits (``LOSSES``: ``"kd"`` or
           ``"alpha"``); no labels.
rank       cross-entropy with the labels plus the pairwise rank loss against the other
           member of its pair (same ``pair`` index), ordered by a prior from ``PROXIES``.
single     cross-entropy with the labels only (single-path one-shot, no teacher).
========== ==================================================================================

Distributed training needs every rank to draw the same subnets at every step. The per-step
RNG is therefore derived from ``(seed, epoch, step)`` alone (:meth:`Sampler.step_rng`), so
sampling does not depend on call history and a resumed run replays the same sequence.
Adaptive samplers keep extra state (pools, scores) and extend :meth:`Sampler.state_dict`.
"""

from __future__ import annotations

import inspect
import logging
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from hnas.errors import HnasError
from hnas.registry import Registry, unknown_option
from hnas.search_spaces.base import SearchSpace, Spec
from hnas.search_spaces.distributions import ChoiceDistribution, Distribution, DistributionSetting

logger = logging.getLogger(__name__)

#: Role name -> how the training step treats a net with that role (see the module docstring).
ROLES: dict[str, str] = {
    "teacher": "largest subnet; cross-entropy with labels; its detached logits teach the students",
    "student": "distilled to the teacher's detached logits",
    "rank": "cross-entropy with labels plus the pairwise rank loss within its pair",
    "single": "cross-entropy with labels only",
}


@dataclass(frozen=True)
class SampledNet:
    """One subnet of an optimizer step.

    Attributes:
        spec: the subnet.
        role: one of :data:`ROLES`.
        pair: for ``role == "rank"``, the index of its pair (two nets share it); else ``None``.
    """

    spec: Spec
    role: str
    pair: int | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; known: {', '.join(ROLES)}")
        if (self.role == "rank") != (self.pair is not None):
            raise ValueError(f"role {self.role!r} with pair={self.pair}: exactly rank nets carry a pair index")


class Sampler(ABC):
    """Chooses the subnets of each optimizer step.

    Args:
        space: the search space the specs belong to.
        seed: base seed; with ``(epoch, step)`` it fixes every draw.
        distribution: how random subnets are drawn: a named distribution of the space
            (:meth:`~hnas.search_spaces.base.SearchSpace.distribution_names`: ``"uniform"``, for
            resnet also ``"competition"``), or one narrowed per slot (``{name: uniform, slots:
            {depth3: [4]}}``: a few-shot sub-supernet's part of the space). Subclasses may narrow
            :attr:`dist` further (FLOPs bins, progressive-shrinking phases) with
            :mod:`hnas.search_spaces.distributions`.
    """

    def __init__(self, space: SearchSpace, seed: int, distribution: DistributionSetting = "uniform") -> None:
        self.space = space
        self.seed = int(seed)
        self.distribution = distribution
        self.dist: Distribution = space.distribution(distribution)
        #: The teacher of sandwich-style samplers (:func:`teacher_spec`).
        self.teacher: Spec = teacher_spec(space, distribution)
        #: Epochs and steps per epoch of the run (:meth:`set_schedule`); None until told.
        self.epochs: int | None = None
        self.steps_per_epoch: int | None = None

    def set_schedule(self, epochs: int, steps_per_epoch: int | None = None) -> None:
        """Tell the sampler the run's length; samplers with a schedule (decays, phases) check it.

        The trainer calls it once before training (and once before the data loads, with
        ``steps_per_epoch=None``, to refuse bad settings early).

        Raises:
            HnasError: a schedule the run cannot follow, naming the option.
        """
        self.epochs = int(epochs)
        self.steps_per_epoch = None if steps_per_epoch is None else int(steps_per_epoch)

    def reorder_due(self, step: int) -> bool:
        """Whether the supernet's channels are re-ordered by importance before global step ``step``
        (progressive shrinking, at the start of a phase that opens narrower channels). No here."""
        return False

    @abstractmethod
    def sample(self, step: int, epoch: int) -> list[SampledNet]:
        """Every subnet of optimizer step ``step`` of ``epoch``, in training order."""

    def observe(self, nets: Sequence[SampledNet], losses: Sequence[float]) -> None:
        """Feedback after a step: the loss of each net of :meth:`sample`'s list. No-op here.

        In distributed training the losses are the means over all ranks (the step all-reduces
        them), so an adaptive sampler that acts on them stays identical on every rank.
        """
        if len(nets) != len(losses):
            raise ValueError(f"{len(nets)} nets but {len(losses)} losses")

    def step_rng(self, step: int, epoch: int) -> random.Random:
        """A fresh RNG determined by ``(seed, epoch, step)`` only.

        Seeding with a string makes ``random.Random`` hash it with SHA-512, independent of
        ``PYTHONHASHSEED``, and distinct triples never collide (unlike a linear mix of ints).
        """
        return random.Random(f"hnas-sampler/{self.seed}/{int(epoch)}/{int(step)}")

    def random_spec(self, rng: random.Random) -> Spec:
        """One subnet drawn from the sampler's distribution."""
        return self.dist.sample(rng)

    def state_dict(self) -> dict[str, Any]:
        """Plain-Python state (JSON- and ``paddle.save``-able) that replays the sequence."""
        return {"sampler": type(self).__name__, "seed": self.seed, "distribution": self.distribution}

    def set_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the checkpoint's seed wins over the configured one."""
        kind = state.get("sampler")
        if kind != type(self).__name__:
            raise HnasError(f"sampler state is for {kind!r}, but this sampler is {type(self).__name__!r}")
        for key in ("seed", "distribution"):
            if key not in state:
                raise HnasError(f"sampler state lacks {key!r}")
        if state["seed"] != self.seed or state["distribution"] != self.distribution:
            logger.warning(
                "resuming sampler with seed %s / %s from the checkpoint (configured: %s / %s)",
                state["seed"],
                state["distribution"],
                self.seed,
                self.distribution,
            )
        try:
            self.space.distribution(state["distribution"])
        except HnasError as error:
            raise HnasError(f"sampler state has an unusable distribution {state['distribution']!r}: {error}") from None
        self.seed = int(state["seed"])
        if state["distribution"] != self.distribution:
            self.distribution = state["distribution"]
            self.dist = self.space.distribution(self.distribution)
            self.teacher = teacher_spec(self.space, self.distribution)


def teacher_spec(space: SearchSpace, distribution: DistributionSetting) -> Spec:
    """The largest subnet the teacher role trains: the space's largest, whatever a named
    distribution limits (the competition's width limits bind the students, not the teacher);
    for a distribution narrowed per slot (a few-shot part), the largest subnet of the space
    with those slots narrowed, so a part's supernet trains no subnet of another part.
    """
    if isinstance(distribution, Mapping) and distribution.get("slots"):
        return ChoiceDistribution(space, "uniform").within(distribution["slots"]).largest()
    return space.max_spec()


SAMPLERS: Registry[type[Sampler]] = Registry("sampler")


def sampler_options(name: str) -> list[str]:
    """The options (``sampler.args`` keys) sampler ``name`` takes besides ``space`` and ``seed``."""
    parameters = inspect.signature(SAMPLERS.get(name)).parameters
    return [key for key in parameters if key not in ("self", "space", "seed")]


def check_sampler_args(name: str, args: Mapping[str, Any]) -> None:
    """Raise :class:`HnasError` naming the first key of ``args`` that sampler ``name`` does not take.

    The usual cause is an override of ``sampler.name`` alone: the config's ``sampler.args``,
    written for the other sampler, stay; the message says so.
    """
    found = unknown_option(args, sampler_options(name))
    if found is not None:
        option, detail = found
        raise HnasError(
            f"sampler.args.{option}: sampler {name!r} {detail}. Overriding sampler.name keeps the config's "
            f"sampler.args: give the new sampler's args too (e.g. --sampler.args '{{}}' for its defaults)"
        )
