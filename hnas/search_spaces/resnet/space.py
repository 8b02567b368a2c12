"""The ResNet family's space: the CVPR 2022 NAS Track 1 ResNet48 layout and its scaled variants.

:class:`ResNetSpace` implements the :class:`~hnas.search_spaces.base.SearchSpace` protocol over
the spec, code and block shapes of :mod:`hnas.search_spaces.resnet.spec` (re-exported here);
its networks and costs load their modules on first use, and none of those imports this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from hnas.errors import HnasError
from hnas.search_spaces.activations import check_activation, check_outer_activation
from hnas.search_spaces.base import Choices, SearchSpace, Slot
from hnas.search_spaces.channels import make_divisible
from hnas.search_spaces.codes import block_slot_active, char_hamming
from hnas.search_spaces.resnet.naming import official_to_hnas_key
from hnas.search_spaces.resnet.spec import (
    BlockShape,
    ResNetSpec,
    block_shapes,
    decode,
    encode,
    final_channels,
    max_spec,
    min_spec,
    stem_channels,
    width_part_start,
)

if TYPE_CHECKING:
    from hnas.search_spaces.distributions import Distribution
    from hnas.search_spaces.resnet.standalone import StandaloneResNet
    from hnas.search_spaces.resnet.supernet import ResNetSupernet
    from hnas.search_spaces.resnet.zen import ZenResNet

__all__ = ["COMPETITION_MAX_WIDTH_CODE", "COMPETITION_RATIOS", "RESNET_SPACES", "BlockShape", "ResNetSpace",
           "ResNetSpec", "block_shapes", "decode", "encode", "final_channels", "make_divisible", "max_spec",
           "min_spec", "stem_channels", "width_part_start"]

COMPETITION_RATIOS: tuple[float, ...] = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7)


#: Largest width code per stage (1-based) in the competition's test.json; the stem follows stage 1.
COMPETITION_MAX_WIDTH_CODE: dict[int, int] = {1: 3, 2: 3, 3: 5, 4: 7}


@dataclass(frozen=True)
class ResNetSpace(SearchSpace):
    """A ResNet-style elastic search space: stage layout, choices and stem.

    Choice view (:meth:`slots`, in draw order): ``resolution``; then per stage ``s``
    (1-based): ``depth{s}``, for stage 1 ``stem``, the conv2 width code of every block slot
    ``s{s}.b{b}.conv2`` and the conv1 width code ``s{s}.b{b}.conv1``. A stage's conv2 codes
    (and, in stage 1, the stem) form one tie group: the residual additions tie those widths.
    Block slots beyond the stage's depth are unused (``None``).

    Attributes:
        name: registry name of the space.
        stage_blocks: maximum number of BasicBlocks per stage.
        base_channels: output channels of each stage at ratio 1.0.
        stage_strides: stride of the first block of each stage.
        depth_choices: allowed depths per stage.
        width_ratios: channel ratio of width codes 1, 2, ... (code k -> ratios[k-1]).
        channel_divisor: channels are ``make_divisible(int(base * ratio), divisor)``.
        stem_kernel_size: kernel of the stem conv (7 for ImageNet, 3 for small images).
        stem_stride: stride of the stem conv.
        stem_max_pool: whether a 3x3/2 max-pool follows the stem.
        in_channels: image channels (3 for RGB, 1 for grayscale).
        num_classes: classifier outputs.
        resolutions: input size of image-size code 1, 2, ...
        activation: the non-linearity of the stem and inside each block (after its first conv).
        outer_activation: the non-linearity after each residual addition (``relu``, ``prelu``,
            ``mish``, ``swish``, ...: :data:`~hnas.search_spaces.activations.OUTER_ACTIVATIONS`);
            ``prelu`` is one trained slope per block, shared by every subnet using the block.
    """

    family: ClassVar[str] = "resnet"
    reference_naming: ClassVar[str | None] = "official ResNet48 key naming"

    name: str = "resnet48"
    stage_blocks: tuple[int, ...] = (5, 5, 8, 5)
    base_channels: tuple[int, ...] = (64, 128, 256, 512)
    stage_strides: tuple[int, ...] = (1, 2, 2, 2)
    depth_choices: tuple[tuple[int, ...], ...] = (
        (2, 3, 4, 5),
        (2, 3, 4, 5),
        (2, 3, 4, 5, 6, 7, 8),
        (2, 3, 4, 5),
    )
    width_ratios: tuple[float, ...] = COMPETITION_RATIOS
    channel_divisor: int = 8
    stem_kernel_size: int = 7
    stem_stride: int = 2
    stem_max_pool: bool = True
    in_channels: int = 3
    num_classes: int = 1000
    resolutions: tuple[int, ...] = (224,)
    activation: str = "relu"
    outer_activation: str = "relu"

    def __post_init__(self) -> None:
        check_activation(self.activation, self.name)
        check_outer_activation(self.outer_activation, self.name)
        n = len(self.stage_blocks)
        for attr in ("base_channels", "stage_strides", "depth_choices"):
            if len(getattr(self, attr)) != n:
                raise ValueError(f"space {self.name!r}: {attr} must have {n} entries (one per stage)")
        for stage, (choices, blocks) in enumerate(zip(self.depth_choices, self.stage_blocks)):
            if not choices or min(choices) < 1 or max(choices) > blocks:
                raise ValueError(
                    f"space {self.name!r}: depth choices {choices} of stage {stage + 1} "
                    f"must lie in 1..{blocks}"
                )
        if not 1 <= len(self.width_ratios) <= 9:
            raise ValueError(f"space {self.name!r}: 1 to 9 width ratios fit in one code digit")
        if not 1 <= len(self.resolutions) <= 9:
            raise ValueError(f"space {self.name!r}: 1 to 9 resolutions fit in one code digit")

    @property
    def num_stages(self) -> int:
        return len(self.stage_blocks)

    @cached_property
    def width_codes(self) -> range:
        return range(1, len(self.width_ratios) + 1)

    @cached_property
    def code_length(self) -> int:
        return 1 + self.num_stages + 1 + 2 * sum(self.stage_blocks)

    @property
    def stem_base_channels(self) -> int:
        return self.base_channels[0]

    def channels(self, base: int, code: int) -> int:
        """Channels of a conv whose full width is ``base`` at width ``code``."""
        ratio = self.width_ratios[code - 1]
        # The epsilon keeps int() from rounding 17.0 down to 16 when base * ratio is 16.999...
        return make_divisible(int(base * ratio + 1e-9), self.channel_divisor)

    def has_downsample(self, stage: int, block: int) -> bool:
        """Whether block ``block`` of ``stage`` (both 0-based) has a 1x1 projection shortcut."""
        if block > 0:
            return False
        in_base = self.stem_base_channels if stage == 0 else self.base_channels[stage - 1]
        return self.stage_strides[stage] != 1 or in_base != self.base_channels[stage]

    # --- SearchSpace: code --------------------------------------------------------------------

    def decode(self, code: str) -> ResNetSpec:
        return decode(code, self)

    def encode(self, spec: ResNetSpec) -> str:
        return encode(spec, self)

    def code_format(self) -> str:
        return (f"{self.code_length} digits: image-size code, {self.num_stages} stage depths, stem width code, "
                "then two width codes (conv1, conv2) per block slot, '00' for inactive slots")

    def max_spec(self) -> ResNetSpec:
        return max_spec(self)

    def min_spec(self) -> ResNetSpec:
        return min_spec(self)

    # --- SearchSpace: choice view -------------------------------------------------------------

    @cached_property
    def _slots(self) -> tuple[Slot, ...]:
        widths = tuple(self.width_codes)
        slots = [Slot("resolution", self.resolutions, "resolution")]
        for stage, blocks in enumerate(self.stage_blocks, start=1):
            slots.append(Slot(f"depth{stage}", self.depth_choices[stage - 1], "depth"))
            if stage == 1:
                slots.append(Slot("stem", widths, "width", increasing=False))
            slots += [Slot(f"s{stage}.b{b}.conv2", widths, "width", increasing=False) for b in range(1, blocks + 1)]
            slots += [Slot(f"s{stage}.b{b}.conv1", widths, "width", increasing=False) for b in range(1, blocks + 1)]
        return tuple(slots)

    def slots(self) -> tuple[Slot, ...]:
        return self._slots

    @cached_property
    def _tie_groups(self) -> tuple[tuple[str, ...], ...]:
        groups = []
        for stage, blocks in enumerate(self.stage_blocks, start=1):
            conv2 = tuple(f"s{stage}.b{b}.conv2" for b in range(1, blocks + 1))
            groups.append(("stem", *conv2) if stage == 1 else conv2)
        return tuple(groups)

    def tie_groups(self) -> tuple[tuple[str, ...], ...]:
        return self._tie_groups

    def is_active(self, slot: str, values: Mapping[str, int | None]) -> bool:
        return block_slot_active(slot, values)

    def choices(self, spec: ResNetSpec) -> Choices:
        values: Choices = {"resolution": spec.resolution}
        for stage, blocks in enumerate(self.stage_blocks, start=1):
            depth = spec.depths[stage - 1]
            out = spec.out_codes[stage - 1]
            values[f"depth{stage}"] = depth
            if stage == 1:
                values["stem"] = spec.stem_code
            for b in range(1, blocks + 1):
                values[f"s{stage}.b{b}.conv2"] = out if b <= depth else None
            for b in range(1, blocks + 1):
                values[f"s{stage}.b{b}.conv1"] = spec.mid_codes[stage - 1][b - 1] if b <= depth else None
        return values

    def from_choices(self, values: Mapping[str, int | None]) -> ResNetSpec:
        self.check_choices(values)
        depths = tuple(int(values[f"depth{stage}"]) for stage in range(1, self.num_stages + 1))  # type: ignore[arg-type]
        return ResNetSpec(
            resolution=int(values["resolution"]),  # type: ignore[arg-type]
            depths=depths,
            out_codes=tuple(int(values[f"s{stage}.b1.conv2"]) for stage in range(1, self.num_stages + 1)),  # type: ignore
            mid_codes=tuple(
                tuple(int(values[f"s{stage}.b{b}.conv1"]) for b in range(1, depth + 1))  # type: ignore[arg-type]
                for stage, depth in enumerate(depths, start=1)
            ),
        )

    def distance_slots(self) -> tuple[str, ...]:
        """Width slots only: the reference definition counts code characters from the stem width
        on (:func:`~hnas.search_spaces.resnet.spec.width_part_start`), the same count over the choice view."""
        return tuple(slot.name for slot in self._slots if slot.dimension == "width")

    def code_distance(self, code_a: str, code_b: str) -> int:
        """Characters that differ from the stem width code on (the reference definition; no decoding,
        so codes that break a tie still compare)."""
        return char_hamming(code_a, code_b, width_part_start(self))

    def from_reference_key(self, key: str) -> str | None:
        """The hnas name of an official ResNet48 key (``blocks.N....``, :mod:`hnas.search_spaces.resnet.naming`)."""
        return official_to_hnas_key(key, self) if key.startswith("blocks.") else None

    # --- SearchSpace: distributions -----------------------------------------------------------

    def distribution_names(self) -> dict[str, str]:
        return {
            "uniform": "every depth and width code uniform",
            "competition": "like the CVPR 2022 Track 1 test.json: width codes capped per stage",
        }

    def family_distribution(self, name: str) -> Distribution:
        """``"competition"``: depths uniform, width codes uniform over ``1..COMPETITION_MAX_WIDTH_CODE[stage]``
        (stem and stages 1-2 codes 1-3, stage 3 codes 1-5, stage 4 codes 1-7), the first resolution."""
        from hnas.search_spaces.distributions import ChoiceDistribution

        if name != "competition":
            return super().family_distribution(name)
        if self.num_stages != len(COMPETITION_MAX_WIDTH_CODE):
            raise HnasError(
                f"the 'competition' distribution needs a space with {len(COMPETITION_MAX_WIDTH_CODE)} "
                f"stages; space {self.name!r} has {self.num_stages}"
            )
        last = len(self.width_ratios)
        domains: dict[str, Sequence[int]] = {"resolution": (self.resolutions[0],)}
        for slot in self._slots:
            if slot.dimension == "width":
                stage = 1 if slot.name == "stem" else int(slot.name[1:].split(".")[0])
                # A space with fewer width codes than the competition's 7 keeps all of its own.
                domains[slot.name] = tuple(range(1, min(COMPETITION_MAX_WIDTH_CODE[stage], last) + 1))
        return ChoiceDistribution(self, "competition", domains, pinned=("resolution",))

    # --- SearchSpace: networks and costs ------------------------------------------------------

    def build_supernet(self) -> ResNetSupernet:
        from hnas.search_spaces.resnet.supernet import ResNetSupernet

        return ResNetSupernet(self)

    def build_standalone(self, spec: ResNetSpec, zero_init_residual: bool = False) -> StandaloneResNet:
        from hnas.search_spaces.resnet.standalone import build_standalone

        return build_standalone(self, spec, zero_init_residual=zero_init_residual)

    def zen_network(self, spec: ResNetSpec) -> ZenResNet:
        from hnas.search_spaces.resnet.zen import ZenResNet

        return ZenResNet(self.build_standalone(spec))

    def flops(self, spec: ResNetSpec, resolution: int | None = None, convention: str = "paddle") -> int:
        from hnas.search_spaces.resnet.flops import resnet_flops

        return resnet_flops(self, spec, resolution, convention)

    def params(self, spec: ResNetSpec) -> int:
        from hnas.search_spaces.resnet.flops import resnet_params

        return resnet_params(self, spec)

    def num_blocks(self, spec: ResNetSpec) -> int:
        return sum(spec.depths)

    def latency_keys(self, spec: ResNetSpec) -> list[tuple[str, tuple[Any, ...]]]:
        from hnas.search_spaces.resnet.latency import subnet_keys

        return subnet_keys(self, spec)

    def all_latency_keys(self) -> list[tuple[str, tuple[Any, ...]]]:
        from hnas.search_spaces.resnet.latency import all_keys

        return list(all_keys(self))

    def build_latency_key(self, key: tuple[str, tuple[Any, ...]]) -> Any:
        from hnas.search_spaces.resnet.latency import build_key

        return build_key(key, self.activation, self.outer_activation)

    # --- persistence --------------------------------------------------------------------------

    def stored_fields(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """As :meth:`SearchSpace.stored_fields`; a space stored before ``outer_activation`` existed
        applied its ``activation`` after the residual additions too, so that is its outer activation."""
        fields = super().stored_fields(stored)
        if "outer_activation" not in stored:
            fields["outer_activation"] = fields["activation"]
        return fields

    def prefix_key(self, spec: ResNetSpec) -> tuple[Any, ...]:
        """Stem and stage 1: resolution, stage-1 depth, stem / stage-1 output width and conv1 widths.

        The cut is after stage 1: in the competition's test file the 45,000 archs have 1,080
        distinct stem + stage-1 prefixes (28.9 % of an arch's FLOPs on average), while 37,849
        distinct prefixes through stage 2 leave almost nothing to share.
        """
        return (spec.resolution, spec.depths[0], spec.out_codes[0], spec.mid_codes[0])

    def width_ratio(self, spec: ResNetSpec) -> float:
        """Mean width ratio of each stage's output and every active block's first conv."""
        codes = [*spec.out_codes, *(code for stage in spec.mid_codes for code in stage)]
        return sum(self.width_ratios[code - 1] for code in codes) / len(codes)


#: The named ResNet spaces. ``resnet48``: the CVPR 2022 NAS Track 1 space, ResNet48 on 224 px
#: ImageNet. ``resnet48_tiny``: the same 52-char codes on a laptop (1-channel 28 px images,
#: 10 classes, narrow stages); base 20/40/80/160 with divisor 1 keeps the 7 width codes
#: distinct (20, 19, ..., 14).
RESNET_SPACES: tuple[ResNetSpace, ...] = (
    ResNetSpace(name="resnet48"),
    ResNetSpace(
        name="resnet48_tiny",
        base_channels=(20, 40, 80, 160),
        channel_divisor=1,
        stem_kernel_size=3,
        stem_stride=2,
        stem_max_pool=False,
        in_channels=1,
        num_classes=10,
        resolutions=(28,),
    ),
)
