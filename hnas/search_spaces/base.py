"""The search-space protocol: what every family of spaces provides to the rest of hnas.

A **family** (``resnet``, ``mbv2``, ...) is a subclass of :class:`SearchSpace`; a **space**
(``resnet48``, ``resnet48_tiny``, ``mbv2``, ...) is one frozen instance of it, registered by
name in :data:`hnas.search_spaces.spaces.SPACES`. Everything above ``hnas/search_spaces``
(samplers, losses, engine, evaluation, proxies, search) talks to a space only through this
class, so a new family is a new subpackage plus one registration line.

A space describes its subnets three ways:

* the **arch code**, a digit string that :meth:`SearchSpace.decode` parses once, at the
  boundary, into the family's typed **spec** (a frozen, hashable dataclass with at least a
  ``resolution`` field); errors name the 0-based position and the reason;
* the **choice view**: an ordered set of :class:`Slot` (one per decision a code makes: the
  resolution, each stage's depth, each conv's width, kernel or expand ratio), with
  :meth:`SearchSpace.choices` / :meth:`SearchSpace.from_choices` converting between a spec
  and ``{slot: value}``. Slots that a spec does not use (blocks beyond a stage's depth) map to
  ``None``. **Tie groups** list slots that must hold the same value (the conv2 widths of a
  ResNet stage, tied by the residual additions); mutation, crossover and fairness
  permutations work on :meth:`SearchSpace.units` (a tie group or a single slot), so they never
  break a tie;
* the **networks**: :meth:`SearchSpace.build_supernet` (weight-sharing, ``apply(spec)``
  activates a subnet) and :meth:`SearchSpace.build_standalone` (the plain network of one spec,
  with the supernet's parameter names), plus analytic :meth:`SearchSpace.flops` /
  :meth:`SearchSpace.params` of the stand-alone network.

Random subnets come from :mod:`hnas.search_spaces.distributions`, which draws the units in
slot order; a family's slot order therefore fixes its random sequence for a seed.
"""

from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Hashable, Mapping, Protocol, runtime_checkable

from hnas.search_spaces.counting import FLOPS_CONVENTIONS
from hnas.search_spaces.slots import DIMENSIONS, Choices, CostFn, Slot

if TYPE_CHECKING:  # Paddle is imported by the families' network modules only when built
    from paddle import nn

    from hnas.search_spaces.distributions import Distribution

__all__ = ["DIMENSIONS", "FLOPS_CONVENTIONS", "Choices", "CostFn", "SearchSpace", "Slot", "Spec", "Supernet",
           "ZenNetwork", "check_flops_args"]


@runtime_checkable
class Spec(Protocol):
    """A family's subnet description: a frozen, hashable dataclass with an input size."""

    resolution: int


class Supernet(Protocol):
    """What the engine and evaluation need from a family's weight-sharing network (an ``nn.Layer``)."""

    space: SearchSpace

    def apply(self, spec: Any) -> Supernet:
        """Activate subnet ``spec``; ``forward`` then runs it. Raises ``HnasError`` for a foreign spec."""

    @property
    def active_spec(self) -> Any:
        """The subnet ``forward`` runs."""

    def export(self, spec: Any) -> nn.Layer:
        """A stand-alone network of ``spec`` holding copies of the sliced weights."""

    def active_shapes(self, spec: Any = None) -> dict[str, tuple[int, ...]]:
        """Active leading block of every state tensor the subnet uses, by state-dict name."""

    def used_parameters(self, spec: Any = None) -> list[Any]:
        """Trainable parameters the subnet touches."""

    def set_conv_mode(self, mode: str) -> Supernet:
        """How elastic convs run a narrower width: ``slice``, ``pad`` or ``auto`` (equal up to float rounding)."""

    def reorder_channels(self) -> list[tuple[Any, int, Any]]:
        """Sort elastic channels by importance (progressive shrinking, the Track 1 baseline).

        Returns ``(tensor, axis, order)`` of every permuted tensor (new index i = old ``order[i]``).
        """


class PrefixSupernet(Supernet, Protocol):
    """A supernet whose forward pass can be cut where :meth:`SearchSpace.prefix_key` says.

    For the active subnet, ``forward(x)`` computes exactly ``forward_suffix(forward_prefix(x))``
    (same operations in the same order), and the prefix's output and batch-norm statistics
    depend only on the active spec's :meth:`SearchSpace.prefix_key`.
    """

    def forward_prefix(self, x: Any) -> Any:
        """The active subnet's layers up to the cut point."""

    def forward_suffix(self, x: Any) -> Any:
        """The active subnet's layers after the cut point, from the prefix's output to the logits."""

    def prefix_layers(self) -> list[nn.Layer]:
        """The sublayers that :meth:`forward_prefix` may run (their batch norms are the prefix's)."""


class ZenNetwork(Protocol):
    """A shortcut-free feature network for ZenScore (see :mod:`hnas.proxies.zen_score`)."""

    def conv_bns(self) -> list[Any]:
        """Every ``(conv, bn)`` layer pair on the feature path, with ``.conv`` and ``.bn``."""

    def features(self, x: Any, bn_variances: list[float] | None = None) -> Any:
        """Pre-pooling features; appends the batch variance at each BN input when given a list."""

    def train(self) -> None:
        """Put the network in train mode (ZenScore runs BN on batch statistics)."""


class SearchSpace(ABC):
    """A named member of a space family; frozen dataclass subclasses hold the fields.

    Subclasses are frozen dataclasses whose fields describe the space completely (they are
    stored in checkpoint metadata), with at least ``name``, ``in_channels``, ``num_classes``
    and ``resolutions``.
    """

    #: Registry name of the family (``FAMILIES`` key, stored in checkpoints).
    family: ClassVar[str]

    name: str
    in_channels: int
    num_classes: int
    resolutions: tuple[int, ...]

    # --- the arch code ----------------------------------------------------------------------

    @property
    @abstractmethod
    def code_length(self) -> int:
        """Characters of an arch code."""

    @abstractmethod
    def decode(self, code: str) -> Any:
        """Parse an arch code into a spec; raises :class:`~hnas.errors.ArchCodeError` (position + reason)."""

    @abstractmethod
    def encode(self, spec: Any) -> str:
        """Inverse of :meth:`decode`; raises ``ValueError`` if ``spec`` is not in the space."""

    def validate(self, spec: Any) -> None:
        """Raise ``ValueError`` if ``spec`` is not a member of this space."""
        self.encode(spec)

    def code_format(self) -> str:
        """One line describing the code layout, for error messages and ``--help``."""
        return f"{self.code_length} digits ({self.family} family)"

    # --- the choice view --------------------------------------------------------------------

    @abstractmethod
    def slots(self) -> tuple[Slot, ...]:
        """Every slot, in draw order (a slot's activity may depend only on earlier slots)."""

    def tie_groups(self) -> tuple[tuple[str, ...], ...]:
        """Groups of slots that always hold one value (default: none)."""
        return ()

    @abstractmethod
    def is_active(self, slot: str, values: Mapping[str, int | None]) -> bool:
        """Whether ``slot`` is used given the values of the slots before it."""

    @abstractmethod
    def choices(self, spec: Any) -> Choices:
        """``{slot: value}`` for every slot of :meth:`slots` (``None`` where unused)."""

    @abstractmethod
    def from_choices(self, values: Mapping[str, int | None]) -> Any:
        """The spec of ``values``; unused slots are ignored.

        Raises:
            ValueError: an active slot is missing or outside its domain, or the active members
                of a tie group differ.
        """

    def slot_map(self) -> dict[str, Slot]:
        return {slot.name: slot for slot in self.slots()}

    def units(self) -> tuple[tuple[str, ...], ...]:
        """Decision units in draw order: each tie group (at its first member) and every untied slot."""
        group_of = {name: group for group in self.tie_groups() for name in group}
        units: list[tuple[str, ...]] = []
        seen: set[tuple[str, ...]] = set()
        for slot in self.slots():
            unit = group_of.get(slot.name, (slot.name,))
            if unit not in seen:
                seen.add(unit)
                units.append(unit)
        return tuple(units)

    def check_ties(self, values: Mapping[str, int | None]) -> None:
        """Raise ``ValueError`` naming the first tie group whose active members differ."""
        for group in self.tie_groups():
            active = {name: values.get(name) for name in group if self.is_active(name, values)}
            if len(set(active.values())) > 1:
                detail = ", ".join(f"{name}={value}" for name, value in active.items())
                raise ValueError(f"tied slots must hold one value: {detail}")

    def check_choices(self, values: Mapping[str, int | None]) -> None:
        """Raise ``ValueError`` naming the first active slot outside its domain, or a broken tie
        (what a family's :meth:`from_choices` checks before it builds the spec)."""
        for slot in self.slots():
            if self.is_active(slot.name, values) and values.get(slot.name) not in slot.domain:
                raise ValueError(f"slot {slot.name} is {values.get(slot.name)!r}, expected one of {list(slot.domain)}")
        self.check_ties(values)

    def distance_slots(self) -> tuple[str, ...]:
        """Slots :meth:`distance` counts (default: all)."""
        return tuple(slot.name for slot in self.slots())

    def distance(self, spec_a: Any, spec_b: Any) -> int:
        """Hamming distance over the choice view: slots of :meth:`distance_slots` that differ
        (a slot used by one subnet and unused by the other counts as different)."""
        a, b = self.choices(spec_a), self.choices(spec_b)
        return sum(a[name] != b[name] for name in self.distance_slots())

    def code_distance(self, code_a: str, code_b: str) -> int:
        """:meth:`distance` of two arch codes (families may count code characters instead)."""
        return self.distance(self.decode(code_a), self.decode(code_b))

    # --- distributions ----------------------------------------------------------------------

    def distribution_names(self) -> dict[str, str]:
        """Named distributions of the space -> one-line description (families may add some)."""
        return {"uniform": "every choice uniform over its domain"}

    def distribution(self, name: str | Mapping[str, Any] = "uniform") -> Distribution:
        """The named distribution ``name`` over this space, or a setting narrowing one per slot
        (``{"name": "uniform", "slots": {"depth3": [4]}}``, see
        :data:`~hnas.search_spaces.distributions.DistributionSetting`)."""
        from hnas.search_spaces.distributions import named_distribution

        return named_distribution(self, name)

    def family_distribution(self, name: str) -> Distribution:
        """Build the family's named distribution ``name`` (a key of :meth:`distribution_names`)."""
        raise NotImplementedError(f"space {self.name!r} names distribution {name!r} but does not build it")

    def max_spec(self) -> Any:
        """The largest subnet."""
        return self.distribution("uniform").largest()

    def min_spec(self) -> Any:
        """The smallest subnet."""
        return self.distribution("uniform").smallest()

    # --- networks and costs -----------------------------------------------------------------

    @abstractmethod
    def build_supernet(self) -> Supernet:
        """A fresh weight-sharing network of the space (an ``nn.Layer`` at maximum size)."""

    @abstractmethod
    def build_standalone(self, spec: Any, **options: Any) -> nn.Layer:
        """A freshly initialised plain network of ``spec`` (family options, e.g. ``zero_init_residual``)."""

    @abstractmethod
    def zen_network(self, spec: Any) -> ZenNetwork:
        """A fresh shortcut-free feature network of ``spec`` for ZenScore."""

    @abstractmethod
    def flops(self, spec: Any, resolution: int | None = None, convention: str = "paddle") -> int:
        """FLOPs of the stand-alone network for one image in one of :data:`FLOPS_CONVENTIONS`
        (``"paddle"``: equal to ``paddle.flops``; ``"macs"``: conv and linear multiply-accumulates;
        ``"pss"``: PSS-Net's, the MACs plus every average pool, see :func:`~hnas.search_spaces.counting.pool_flops`)."""

    @abstractmethod
    def params(self, spec: Any) -> int:
        """Parameters of the stand-alone network (``sum(p.numel() for p in net.parameters())``)."""

    @abstractmethod
    def num_blocks(self, spec: Any) -> int:
        """Active blocks over all stages (the depth prior)."""

    @abstractmethod
    def width_ratio(self, spec: Any) -> float:
        """Mean relative width of the subnet's elastic layers, in (0, 1] (the width prior)."""

    # --- dynamic width (DS-Net, hnas.dynamic) -----------------------------------------------

    def width_levels(self) -> tuple[Any, ...]:
        """Ordered width levels, narrowest first: the subnets per-width BN keeps statistics for and
        a slimming gate routes between (DS-Net's ``uniform``-mode subnets); ``()`` when the space
        has none (then ``bn: per_width`` and gates do not apply)."""
        return ()

    def gate_points(self) -> tuple[str, ...]:
        """Blocks whose supernet can hold a slimming gate (:class:`hnas.dynamic.network.Gateable`)."""
        return ()

    # --- shared-prefix evaluation -----------------------------------------------------------

    def prefix_key(self, spec: Any) -> Hashable | None:
        """What fixes the output of the network's first layers up to the family's cut point.

        Subnets with equal keys compute the same prefix (outputs and, after BN recalibration on
        the same images, statistics; so the key includes the resolution), and an evaluation of
        many subnets runs it once per key (:mod:`hnas.nn.shared_prefix`); the family's supernet
        is then a :class:`PrefixSupernet`.
        ``None`` (the default) means the space has no prefix worth sharing: every subnet runs whole.
        """
        return None

    # --- a reference implementation's weights (checkpoint.init_from, hnas convert-ckpt) -------

    #: The key naming of the family's reference implementation whose weights hnas can load, e.g.
    #: ``"official ResNet48 key naming"``; ``None``: hnas names only.
    reference_naming: ClassVar[str | None] = None

    def from_reference_key(self, key: str) -> str | None:
        """The hnas name of ``key`` in :attr:`reference_naming`, or ``None`` if ``key`` is not in that
        naming (hnas names pass through unchanged).

        Raises:
            HnasError: a reference key without an hnas counterpart.
        """
        return None

    # --- latency table (hnas latency) --------------------------------------------------------

    def latency_keys(self, spec: Any) -> list[tuple[str, tuple[Any, ...]]]:
        """The hashable keys (block kind, shapes) a latency table times for ``spec``, in forward order;
        the predicted latency of ``spec`` is the sum of their times."""
        raise NotImplementedError(f"the {self.family} family has no latency-table blocks yet")

    def all_latency_keys(self) -> list[tuple[str, tuple[Any, ...]]]:
        """Every key some subnet of the space uses, each once (what ``hnas latency build`` measures)."""
        raise NotImplementedError(f"the {self.family} family has no latency-table blocks yet")

    def build_latency_key(self, key: tuple[str, tuple[Any, ...]]) -> tuple[nn.Layer, tuple[int, int, int]]:
        """The layer timed for ``key`` and its input shape ``(C, H, W)``."""
        raise NotImplementedError(f"the {self.family} family has no latency-table blocks yet")

    # --- persistence ------------------------------------------------------------------------

    def fields(self) -> dict[str, Any]:
        """JSON-ready dataclass fields (tuples become lists): what checkpoints store."""
        return json.loads(json.dumps(dataclasses.asdict(self)))  # type: ignore[call-overload]

    def stored_fields(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """Fields stored by an older hnas, completed with this family's defaults.

        A field added to a family later (``activation``) has the default that reproduces what
        every earlier space did, so a checkpoint or latency table written before it existed
        holds that default.
        """
        defaults = type(self)().fields()
        return {**{key: value for key, value in defaults.items() if key not in stored}, **stored}

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> SearchSpace:
        """Rebuild a space from :meth:`fields` (lists back to tuples).

        Raises:
            ValueError / TypeError: unknown or invalid fields.
        """
        names = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(fields) - names)
        if unknown:
            raise ValueError(f"unknown search-space field(s) {unknown}")
        return cls(**{key: _tuples(value) for key, value in fields.items()})  # type: ignore[call-arg]

    def replace(self, overrides: Mapping[str, Any]) -> SearchSpace:
        """A copy with some fields replaced (YAML ``space.overrides``; lists become tuples).

        Raises:
            ValueError: an unknown field or an invalid value, naming it.
        """
        names = {field.name for field in dataclasses.fields(self)}  # type: ignore[arg-type]
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ValueError(f"unknown search-space field(s) {unknown}; known: {sorted(names)}")
        try:
            return dataclasses.replace(self, **{key: _tuples(value) for key, value in overrides.items()})  # type: ignore
        except TypeError as error:
            raise ValueError(str(error)) from None


def _tuples(value: Any) -> Any:
    """JSON lists (nested too) back to the tuples space dataclasses hold."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value




def check_flops_args(spec: Any, resolution: int | None, convention: str) -> int:
    """The input size to count at (``spec.resolution`` by default), after checking the arguments.

    Raises:
        HnasError: unknown convention or a resolution below 1.
    """
    from hnas.errors import HnasError

    if convention not in FLOPS_CONVENTIONS:
        raise HnasError(f"unknown FLOPs convention {convention!r}; known: {', '.join(FLOPS_CONVENTIONS)}")
    size = spec.resolution if resolution is None else resolution
    if size < 1:
        raise HnasError(f"resolution must be a positive number of pixels, got {size}")
    return size
