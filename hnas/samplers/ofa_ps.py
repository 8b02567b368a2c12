"""OFA progressive shrinking (Cai et al., ICLR 2020; mit-han-lab/once-for-all; PaddleSlim ``OFA``).

Training runs through **phases**; each phase opens, per elastic dimension, the ``n`` largest
choices of every slot of that dimension (``n = 1``: the largest only). A phase list like

.. code-block:: yaml

    phases:                       # resnet: depth, then width
      - {until: 0.5}              # the largest network only
      - {until: 1.0, depth: 2}    # + the second largest depth of every stage
      - {until: 1.5, depth: all}  # every depth
      - {width: 4}                # + widths (until the end of training)
      - ...

gives each phase's end epoch (``until``, exclusive, may be fractional: steps are converted
with the run's steps per epoch) and the choices it opens; a dimension not named keeps the
previous phase's count (1 before the first). The last phase runs to the end of training. The
list is refused before training (naming ``sampler.args.phases``) unless counts never shrink,
``until`` increases, and the last phase opens every choice of every elastic dimension, i.e.
the list ends at the full space; and when training is too short to reach the last phase.
``phases: null`` builds the OFA default from ``order`` (resnet: depth then width; mbv2:
kernel, depth, expand): the largest net, then per dimension one phase opening two choices and
one opening all (OFA's "phase 1 / phase 2"), equal lengths over ``epochs`` (the run's).
The resolution is elastic from the start (OFA samples the image size every batch).

**Per step**: the largest network of the full space on the labels (role ``teacher``), then
``num_subnets`` subnets uniform over the phase's choices, distilled from it (``student``: the
engine's distillation loss plus ``loss.student_label_weight`` times the label CE, OFA's
CE + KD). OFA's teacher is a separately pre-trained full network; here it is the supernet's
own largest subnet, trained in the same step (in-place distillation).

**Channel re-ordering**: at the first step of a phase that opens more ``width`` or ``expand``
choices, :meth:`reorder_due` is True and the trainer calls ``supernet.reorder_channels()``
(OFA's ``re_organize_middle_weights``; PaddleSlim 2.6 lacks it) before that step, and
permutes the optimizer's per-parameter state (momentum) the same way
(:func:`hnas.nn.optim.permute_optimizer_state`), so every channel keeps its own velocity.
The weights are identical on every rank, so the permutation is too.

The phase is a function of the global step (or of the epoch when the steps per epoch are not
known), never of state: a resumed run lands in the right phase, and a run resumed exactly at
a phase start re-orders there. The phase is logged when it starts and stored in
:meth:`state_dict` (checkpoints' ``state.pkl``).
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from hnas.errors import HnasError
from hnas.samplers.base import SAMPLERS, SampledNet, Sampler
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.distributions import ChoiceDistribution

logger = logging.getLogger(__name__)

#: Shrinking order of OFA: kernel, depth, expand; ResNet's widths last.
DEFAULT_ORDER: tuple[str, ...] = ("kernel", "depth", "expand", "width")

#: Dimensions whose opening triggers a channel re-ordering.
CHANNEL_DIMENSIONS = ("width", "expand")

OPTION = "sampler.args.phases"


@dataclass(frozen=True)
class Phase:
    """One phase: its end epoch (None: end of training) and the open choices per dimension."""

    until: float | None
    open: Mapping[str, int]

    def describe(self) -> str:
        opened = ", ".join(f"{dim} {count}" for dim, count in self.open.items())
        return f"until epoch {self.until:g}: {opened}" if self.until is not None else f"to the end: {opened}"


def elastic_dimensions(space: SearchSpace, dist: ChoiceDistribution) -> dict[str, int]:
    """Dimension -> largest number of choices of its slots, for dimensions with a choice (resolution excluded)."""
    sizes: dict[str, int] = {}
    for slot in space.slots():
        size = len(dist.domains[slot.name])
        if slot.dimension != "resolution" and size > 1:
            sizes[slot.dimension] = max(sizes.get(slot.dimension, 0), size)
    return sizes


def default_phases(order: Sequence[str], sizes: Mapping[str, int], epochs: float) -> list[dict[str, Any]]:
    """The largest net, then per dimension of ``order`` two choices and then all, equal lengths over ``epochs``."""
    steps: list[dict[str, Any]] = [{}]
    for dim in order:
        if dim not in sizes:
            continue
        if sizes[dim] > 2:
            steps.append({dim: 2})
        steps.append({dim: "all"})
    length = epochs / len(steps)
    timed = [{**opened, "until": round(length * (index + 1), 6)} for index, opened in enumerate(steps[:-1])]
    return timed + [steps[-1]]


def parse_phases(raw: Sequence[Mapping[str, Any]], sizes: Mapping[str, int]) -> list[Phase]:
    """Check a phase list (see the module docstring) and resolve ``all`` and inherited counts.

    Raises:
        HnasError: naming ``sampler.args.phases`` and the offending phase.
    """
    if not raw:
        raise HnasError(f"{OPTION}: empty phase list")
    counts = dict.fromkeys(sizes, 1)
    phases: list[Phase] = []
    previous_until = 0.0
    for index, entry in enumerate(raw):
        where = f"{OPTION}[{index}]"
        if not isinstance(entry, Mapping):
            raise HnasError(f"{where}: need a mapping like {{until: 1, depth: 2}}, got {entry!r}")
        for key, value in entry.items():
            if key == "until":
                continue
            if key not in sizes:
                raise HnasError(f"{where}: {key!r} is not an elastic dimension of the space; known: {', '.join(sizes)} "
                                f"(sampler.args.phases=null lays out the OFA default for this space)")
            count = sizes[key] if value == "all" else value
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= sizes[key]:
                raise HnasError(f"{where}: {key} opens 1 to {sizes[key]} choices (or 'all'), got {value!r}")
            if count < counts[key]:
                raise HnasError(f"{where}: {key} shrinks from {counts[key]} to {count} choices; "
                                "phases only add choices")
            counts[key] = count
        until = entry.get("until")
        last = index == len(raw) - 1
        if until is None and not last:
            raise HnasError(f"{where}: every phase but the last needs 'until' (its end epoch)")
        if until is not None:
            if not isinstance(until, (int, float)) or not math.isfinite(until) or until <= previous_until:
                raise HnasError(f"{where}: until {until!r} must exceed the previous phase's end {previous_until:g}")
            previous_until = float(until)
        phases.append(Phase(None if until is None or last else float(until), dict(counts)))
    missing = {dim: count for dim, count in counts.items() if count < sizes[dim]}
    if missing:
        detail = ", ".join(f"{dim} {count} of {sizes[dim]}" for dim, count in missing.items())
        raise HnasError(f"{OPTION}: the last phase must open the full space, but it opens {detail} choices")
    return phases


@SAMPLERS.register("ofa_ps")
class ProgressiveShrinkingSampler(Sampler):
    """Teacher + ``num_subnets`` students drawn from the current phase's choices.

    Args:
        space: the search space.
        seed: base seed of the per-step RNG.
        distribution: the full space the last phase opens (``"uniform"`` or a family's narrower one).
        phases: the phase list (module docstring); None: OFA's default from ``order``.
        order: shrinking order of the dimensions for the default phases.
        num_subnets: students per step (OFA's ``dynamic_batch_size``: 1 for kernel, 2 depth, 4 expand).
    """

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        distribution: str = "uniform",
        phases: Sequence[Mapping[str, Any]] | None = None,
        order: Sequence[str] = DEFAULT_ORDER,
        num_subnets: int = 2,
    ) -> None:
        super().__init__(space, seed, distribution)
        if not isinstance(self.dist, ChoiceDistribution):
            raise HnasError(f"sampler.args.distribution: ofa_ps narrows per-slot choices; {distribution!r} "
                            "is not a choice distribution")
        if num_subnets < 1:
            raise HnasError(f"sampler.args.num_subnets: must be >= 1, got {num_subnets} (sampler 'ofa_ps')")
        self.sizes = elastic_dimensions(space, self.dist)
        unknown = [dim for dim in order if dim not in DEFAULT_ORDER]
        if unknown:
            raise HnasError(f"sampler.args.order: unknown dimension(s) {unknown}; known: {', '.join(DEFAULT_ORDER)}")
        left_out = [dim for dim in self.sizes if dim not in order]
        if left_out:
            raise HnasError(f"sampler.args.order: elastic dimension(s) {left_out} of space {space.name!r} are missing")
        self.order = tuple(order)
        self.num_subnets = int(num_subnets)
        self.raw_phases = None if phases is None else [dict(entry) for entry in phases]
        # Without a schedule yet, the default list is laid out over one epoch per phase-unit.
        raw = default_phases(self.order, self.sizes, 1.0) if self.raw_phases is None else self.raw_phases
        self.phases = parse_phases(raw, self.sizes)
        self.distributions = [self._phase_distribution(phase, index) for index, phase in enumerate(self.phases)]
        self._logged: int | None = None

    def set_schedule(self, epochs: int, steps_per_epoch: int | None = None) -> None:
        super().set_schedule(epochs, steps_per_epoch)
        if self.raw_phases is None:
            self.phases = parse_phases(default_phases(self.order, self.sizes, float(epochs)), self.sizes)
            self.distributions = [self._phase_distribution(phase, index) for index, phase in enumerate(self.phases)]
        last_start = self.phases[-2].until if len(self.phases) > 1 else 0.0
        if last_start is not None and last_start >= epochs:
            raise HnasError(f"{OPTION}: the last phase (the full space) starts at epoch {last_start:g}, but training "
                            f"has {epochs} epochs: shorten the phases or train longer")

    def _phase_distribution(self, phase: Phase, index: int) -> ChoiceDistribution:
        assert isinstance(self.dist, ChoiceDistribution)
        slots = self.space.slot_map()
        domains = {}
        for name, domain in self.dist.domains.items():
            slot = slots[name]
            if slot.dimension in phase.open:
                ordered = sorted(domain, key=lambda value: -value if slot.increasing else value)
                keep = set(ordered[: phase.open[slot.dimension]])
                domains[name] = tuple(value for value in domain if value in keep)
            else:
                domains[name] = domain
        return ChoiceDistribution(self.space, f"{self.dist.name}[phase {index}]", domains)

    # --- the schedule -----------------------------------------------------------------------

    def position(self, step: int, epoch: int) -> float:
        """Training progress in epochs: ``step / steps_per_epoch`` when known, else ``epoch``."""
        return step / self.steps_per_epoch if self.steps_per_epoch else float(epoch)

    def phase_at(self, step: int, epoch: int) -> int:
        """Index of the phase global step ``step`` of ``epoch`` belongs to."""
        position = self.position(step, epoch)
        for index, phase in enumerate(self.phases):
            if phase.until is None or position < phase.until - 1e-9:
                return index
        return len(self.phases) - 1

    def phase_boundary(self, step: int) -> int | None:
        """The phase that starts at global step ``step`` (its first step), else None (needs the steps per epoch)."""
        if not self.steps_per_epoch or step == 0:
            return None
        now, before = self.phase_at(step, 0), self.phase_at(step - 1, 0)
        return now if now != before else None

    def reorder_due(self, step: int) -> bool:
        phase = self.phase_boundary(step)
        if phase is None:
            return False
        old, new = self.phases[phase - 1].open, self.phases[phase].open
        return any(new.get(dim, 1) > old.get(dim, 1) for dim in CHANNEL_DIMENSIONS)

    # --- sampling ---------------------------------------------------------------------------

    def sample(self, step: int, epoch: int) -> list[SampledNet]:
        index = self.phase_at(step, epoch)
        if index != self._logged:
            self._logged = index
            logger.info("progressive shrinking: phase %d/%d (%s)", index + 1, len(self.phases),
                        self.phases[index].describe())
        rng: random.Random = self.step_rng(step, epoch)
        dist = self.distributions[index]
        return [SampledNet(self.teacher, "teacher")] + [
            SampledNet(dist.sample(rng), "student") for _ in range(self.num_subnets)
        ]

    def state_dict(self) -> dict[str, Any]:
        """Base state plus the phase list (resolved) and the phase of the last sampled step."""
        state = super().state_dict()
        state["phases"] = [{"until": phase.until, **phase.open} for phase in self.phases]
        state["phase"] = self._logged
        return state

    def set_state_dict(self, state: dict[str, Any]) -> None:
        super().set_state_dict(state)
        saved = state.get("phases")
        current = [{"until": phase.until, **phase.open} for phase in self.phases]
        if saved is not None and saved != current:
            logger.warning("resuming progressive shrinking with phases %s; the checkpoint was trained with %s",
                           current, saved)
