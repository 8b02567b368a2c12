"""SPOS's weight-sharing ShuffleNetV2 supernet of a
:class:`~hnas.search_spaces.shufflenet.space.ShuffleNetSpace`.

Every choice layer holds its four candidate blocks with their own weights (no sharing between
candidates, as SPOS); ``apply(spec)`` picks one per layer. The BNs have no scale and shift
(``affine=False``, SPOS's supernet); the stand-alone network has affine BNs, and
:meth:`ShuffleNetSupernet.export` gives them scale 1 and shift 0, so the exported network
computes exactly the supernet's subnet. Unused candidates keep ``grad is None``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import paddle

from hnas.search_spaces.elastic import ElasticSupernet
from hnas.search_spaces.ops import ShapeMap
from hnas.search_spaces.shufflenet.layers import add_network_layers, run_network, set_ops
from hnas.search_spaces.shufflenet.spec import OPS, ShuffleSpec

if TYPE_CHECKING:
    from hnas.search_spaces.shufflenet.space import ShuffleNetSpace

_AFFINE = ("weight", "bias")


class ShuffleNetSupernet(ElasticSupernet):
    """Input ``[N, C, R, R]``, output logits ``[N, num_classes]`` of the active subnet."""

    spec_type = ShuffleSpec

    def __init__(self, space: ShuffleNetSpace) -> None:
        super().__init__(space)
        every = tuple(range(len(OPS)))
        add_network_layers(self, space, [every] * space.num_choices, affine=False)
        self.apply(space.max_spec())

    def configure(self, spec: ShuffleSpec) -> None:
        set_ops(self, spec)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return run_network(self, x)

    def _active(self, spec: ShuffleSpec) -> dict[str, paddle.Tensor]:
        """The supernet's state tensors ``spec`` uses, by name."""
        chosen = {f"choices.{layer}.candidates.{op}." for layer, op in enumerate(spec.ops)}
        return {name: tensor for name, tensor in self.state_dict().items()
                if not name.startswith("choices.") or any(name.startswith(prefix) for prefix in chosen)}

    def active_shapes(self, spec: ShuffleSpec | None = None) -> ShapeMap:
        """Shapes of the stand-alone state of ``spec``: the chosen candidates' tensors, plus the scale and
        shift of every BN (which the supernet does not hold)."""
        spec = self._spec if spec is None else spec
        shapes: ShapeMap = {name: tuple(tensor.shape) for name, tensor in self._active(spec).items()}
        for name, tensor in self._active(spec).items():
            if name.endswith("bn._mean"):
                shapes.update({name[:-len("_mean")] + part: tuple(tensor.shape) for part in _AFFINE})
        return shapes

    def exported_tensors(self, spec: ShuffleSpec) -> dict[str, paddle.Tensor]:
        """Scale 1 and shift 0 for every BN of ``spec``: the affine BN then computes the supernet's."""
        tensors = {}
        for name, tensor in self._active(spec).items():
            if name.endswith("bn._mean"):
                base = name[:-len("_mean")]
                tensors[base + "weight"] = paddle.ones_like(tensor)
                tensors[base + "bias"] = paddle.zeros_like(tensor)
        return tensors
