"""The activation functions a space can use (``space.overrides.activation``).

A space's activation is a fixed property of the space, like its stem or its stage layout: every
layer that applies a non-linearity (stem, blocks, head) uses the same one, in the supernet, the
stand-alone network, the latency-table blocks and the ZenScore pass alike. It has no weights, so
checkpoints of one activation load into a space of another only by mistake: the space fields
differ and ``check_space`` refuses them. Activations add no FLOPs in either convention
(``paddle.flops`` counts ReLU/ReLU6 as zero and does not register the others), so FLOPs and
parameter counts do not depend on it.

OFA's MobileNetV3 uses ``hswish`` in its later stages, DS-Net and EfficientNet ``swish``;
ResNets ``relu`` and MobileNetV2 ``relu6``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paddle import nn

#: Name -> Paddle layer class (``paddle.nn.<class>``); importing this module does not import Paddle.
ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "hswish": "Hardswish",
    "swish": "Swish",
}


def check_activation(name: str, space_name: str) -> None:
    """Raise ``ValueError`` naming the known activations if ``name`` is not one of them."""
    if name not in ACTIVATIONS:
        raise ValueError(f"space {space_name!r}: unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")


def make_activation(name: str) -> nn.Layer:
    """A fresh activation layer of ``name`` (see :data:`ACTIVATIONS`)."""
    from paddle import nn

    return getattr(nn, ACTIVATIONS[name])()
