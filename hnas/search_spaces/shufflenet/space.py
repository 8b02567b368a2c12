"""The shufflenet family: SPOS's ShuffleNetV2 one-shot space and its arch code.

A network is a 3x3 stem conv (stride ``stem_stride``, BN, ReLU), stages of **choice layers**
(the first of each stage has stride 2), a 1x1 head conv to ``last_channels`` (BN, ReLU), global
average pooling, dropout and a bias-free classifier. Every choice layer picks one of four
candidate blocks (:data:`~hnas.search_spaces.shufflenet.spec.OPS`), each with its own weights:

- ``0``/``1``/``2``: ShuffleNetV2 unit with a 3x3 / 5x5 / 7x7 depthwise conv;
- ``3``: Xception-like unit (three 3x3 depthwise + 1x1 pairs).

A stride-1 layer splits its channels (even ones pass, odd ones feed the unit) and concatenates;
a stride-2 layer runs the unit on the whole input next to a projection branch. The middle width
is ``out // 2`` (SPOS's ``blocks.py``).

Arch code (``1 + number of choice layers`` digits)::

    [0]      image-size code (1 -> the first resolution)
    [1:]     the candidate index 0-3 of each choice layer, in forward order

SPOS's published arch (choices ``2 1 0 1 2 0 2 0 2 0 2 3 0 0 0 0 3 2 3 3``) is
``121012020202300003233`` in ``spos_shufflenetv2``: 322,918,720 multiply-accumulates
(``hnas flops --convention macs``; SPOS reports 323 M). The space spans 270,359,360 to
398,609,216 MACs (SPOS: "roughly 270-400 M"); in the ``paddle`` convention (with BN and pooling)
278,557,888 to 411,467,840.

Choice view: ``resolution``, then ``s{stage}.b{block}.op`` (dimension ``op``, 1-based stage and
block). The candidates are not ordered by size: in a stride-2 layer the Xception-like unit is the
cheapest, so each slot's ``order`` ranks them by FLOPs (the largest net is the 7x7 unit in
stride-2 layers and the Xception-like one elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from hnas.errors import HnasError
from hnas.search_spaces.base import Choices, SearchSpace, Slot
from hnas.search_spaces.codes import check_digits, digit
from hnas.search_spaces.resolution import check_resolutions, decode_resolution, encode_resolution
from hnas.search_spaces.shufflenet.spec import OPS, ChoiceShape, ShuffleSpec

if TYPE_CHECKING:
    from paddle import nn

__all__ = ["SHUFFLENET_SPACES", "SPOS_PUBLISHED_CHOICES", "ShuffleNetSpace"]

#: The arch SPOS publishes (README of megvii-model/SinglePathOneShot): 323 M FLOPs, 3.5 M parameters.
SPOS_PUBLISHED_CHOICES: tuple[int, ...] = (2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3)


@dataclass(frozen=True)
class ShuffleNetSpace(SearchSpace):
    """A ShuffleNetV2 one-shot space (see the module docstring).

    Attributes:
        name: registry name.
        stem_channels: output channels of the stem conv.
        stem_stride: stride of the stem conv.
        stage_blocks: choice layers per stage.
        stage_channels: output channels of each stage (multiples of 4: the channel split halves them).
        last_channels: output channels of the 1x1 head conv.
        dropout: dropout rate before the classifier.
        in_channels: image channels.
        num_classes: classifier outputs.
        resolutions: input size of image-size code 1, 2, ...
    """

    family: ClassVar[str] = "shufflenet"

    name: str = "spos_shufflenetv2"
    stem_channels: int = 16
    stem_stride: int = 2
    stage_blocks: tuple[int, ...] = (4, 4, 8, 4)
    stage_channels: tuple[int, ...] = (64, 160, 320, 640)
    last_channels: int = 1024
    dropout: float = 0.1
    in_channels: int = 3
    num_classes: int = 1000
    resolutions: tuple[int, ...] = (224,)

    def __post_init__(self) -> None:
        check_resolutions(self.resolutions, self.name)
        if len(self.stage_blocks) != len(self.stage_channels) or any(b < 1 for b in self.stage_blocks):
            raise ValueError(f"space {self.name!r}: stage_blocks and stage_channels need one entry per stage "
                             "and every stage a block")
        if any(c < 4 or c % 4 for c in self.stage_channels):
            raise ValueError(f"space {self.name!r}: stage_channels {list(self.stage_channels)} must be positive "
                             "multiples of 4 (the channel split halves them)")
        previous = self.stem_channels
        for stage, channels in enumerate(self.stage_channels, 1):
            if channels <= previous:
                raise ValueError(f"space {self.name!r}: stage {stage} has {channels} channels, not more than the "
                                 f"{previous} it receives (its stride-2 unit adds channels to the projection)")
            previous = channels
        if min(self.stem_channels, self.last_channels, self.stem_stride, self.in_channels, self.num_classes) < 1:
            raise ValueError(f"space {self.name!r}: channels, strides and classes must be positive")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"space {self.name!r}: dropout must lie in [0, 1), got {self.dropout}")

    @property
    def num_choices(self) -> int:
        return sum(self.stage_blocks)

    @cached_property
    def _shapes(self) -> tuple[ChoiceShape, ...]:
        shapes, in_channels = [], self.stem_channels
        for stage, (blocks, out) in enumerate(zip(self.stage_blocks, self.stage_channels)):
            for block in range(blocks):
                stride = 2 if block == 0 else 1
                shapes.append(ChoiceShape(stage, block, in_channels if stride == 2 else out, out, stride))
                in_channels = out
        return tuple(shapes)

    def choice_shapes(self) -> tuple[ChoiceShape, ...]:
        """Every choice layer in forward order."""
        return self._shapes

    # --- code ------------------------------------------------------------------------------

    @property
    def code_length(self) -> int:
        return 1 + self.num_choices

    def code_format(self) -> str:
        return (f"{self.code_length} digits: image-size code, then the candidate (0-3: ShuffleNet unit 3x3/5x5/7x7, "
                f"Xception-like) of each of the {self.num_choices} choice layers")

    def decode(self, code: str) -> ShuffleSpec:
        check_digits(code, self.code_length)
        resolution = decode_resolution(code, 0, self.resolutions, self.name)
        ops = tuple(digit(code, position, f"the candidate of {self._label(position - 1)} (space {self.name!r})",
                          range(len(OPS)))
                    for position in range(1, self.code_length))
        return ShuffleSpec(resolution, ops)

    def encode(self, spec: ShuffleSpec) -> str:
        self._check(spec)
        return encode_resolution(spec.resolution, self.resolutions) + "".join(map(str, spec.ops))

    def validate(self, spec: Any) -> None:
        self._check(spec)

    def _check(self, spec: Any) -> None:
        if not isinstance(spec, ShuffleSpec):
            raise ValueError(f"not a shufflenet spec: {spec!r}")
        if spec.resolution not in self.resolutions:
            raise ValueError(f"resolution {spec.resolution} not in {list(self.resolutions)} of space {self.name!r}")
        if len(spec.ops) != self.num_choices or any(op not in range(len(OPS)) for op in spec.ops):
            raise ValueError(f"space {self.name!r} needs {self.num_choices} candidate indices 0-3, got {spec.ops}")

    def _label(self, layer: int) -> str:
        shape = self._shapes[layer]
        return f"choice layer {layer + 1} (stage {shape.stage + 1}, block {shape.index + 1})"

    # --- choice view -----------------------------------------------------------------------

    @cached_property
    def _slots(self) -> tuple[Slot, ...]:
        from hnas.search_spaces.counting import conv_output_size
        from hnas.search_spaces.shufflenet.flops import candidate_flops

        size = conv_output_size(self.resolutions[-1], 3, self.stem_stride)
        slots = [Slot("resolution", self.resolutions, "resolution")]
        for shape in self._shapes:
            costs = [candidate_flops(shape, op, size, "paddle")[0] for op in range(len(OPS))]
            order = tuple(sorted(range(len(OPS)), key=costs.__getitem__))
            slots.append(Slot(_slot_name(shape), tuple(range(len(OPS))), "op", order=order))
            size = candidate_flops(shape, 0, size, "paddle")[1]
        return tuple(slots)

    def slots(self) -> tuple[Slot, ...]:
        return self._slots

    def is_active(self, slot: str, values: Mapping[str, int | None]) -> bool:
        return True

    def choices(self, spec: ShuffleSpec) -> Choices:
        self._check(spec)
        values: Choices = {"resolution": spec.resolution}
        values.update({_slot_name(shape): op for shape, op in zip(self._shapes, spec.ops)})
        return values

    def from_choices(self, values: Mapping[str, int | None]) -> ShuffleSpec:
        self.check_choices(values)
        return ShuffleSpec(int(values["resolution"]),  # type: ignore[arg-type]
                           tuple(int(values[_slot_name(shape)]) for shape in self._shapes))  # type: ignore[arg-type]

    # --- networks and costs ----------------------------------------------------------------

    def build_supernet(self) -> Any:
        from hnas.search_spaces.shufflenet.supernet import ShuffleNetSupernet

        return ShuffleNetSupernet(self)

    def build_standalone(self, spec: ShuffleSpec, zero_init_residual: bool = False) -> nn.Layer:
        """The plain network of ``spec``; ``zero_init_residual`` changes nothing (no residual additions:
        the channel split passes half the channels through unchanged)."""
        from hnas.search_spaces.shufflenet.standalone import build_standalone

        return build_standalone(self, spec)

    def zen_network(self, spec: ShuffleSpec) -> Any:
        raise HnasError(f"space {self.name!r}: ZenScore needs a shortcut-free feature path, and every stride-1 "
                        "ShuffleNet unit passes half its channels through; use another proxy")

    def flops(self, spec: ShuffleSpec, resolution: int | None = None, convention: str = "paddle") -> int:
        from hnas.search_spaces.shufflenet.flops import shufflenet_flops

        return shufflenet_flops(self, spec, resolution, convention)

    def params(self, spec: ShuffleSpec) -> int:
        from hnas.search_spaces.shufflenet.flops import shufflenet_params

        return shufflenet_params(self, spec)

    def num_blocks(self, spec: ShuffleSpec) -> int:
        return self.num_choices

    def width_ratio(self, spec: ShuffleSpec) -> float:
        """1.0: the candidates change kernels and block types, never widths."""
        return 1.0


def _slot_name(shape: ChoiceShape) -> str:
    return f"s{shape.stage + 1}.b{shape.index + 1}.op"


#: The named shufflenet spaces.
#: ``spos_shufflenetv2``: SPOS's supernet (224 px, 20 choice layers; 21-digit codes).
#: ``spos_shufflenetv2_tiny``: the same layout scaled for the embedded 28 px grayscale data
#: (stem stride 1, 5 choice layers, narrow channels; 6-digit codes).
SHUFFLENET_SPACES: tuple[ShuffleNetSpace, ...] = (
    ShuffleNetSpace(),
    ShuffleNetSpace(
        name="spos_shufflenetv2_tiny",
        stem_channels=8,
        stem_stride=1,
        stage_blocks=(1, 1, 2, 1),
        stage_channels=(16, 32, 48, 64),
        last_channels=128,
        in_channels=1,
        num_classes=10,
        resolutions=(28,),
    ),
)
