"""The activation functions a space can use (``space.overrides.activation``).

A space's activation is a fixed property of the space, like its stem or its stage layout: every
layer that applies a non-linearity (stem, blocks, head; in ResNets all but the one after each
residual addition, see below) uses the same one, in the supernet, the stand-alone network, the
latency-table blocks and the ZenScore pass alike. It has no weights, so
checkpoints of one activation load into a space of another only by mistake: the space fields
differ and ``check_space`` refuses them. Activations add no FLOPs in either convention
(``paddle.flops`` counts ReLU/ReLU6 as zero and registers no counter for Hardswish, Swish,
Mish or PReLU, which it therefore also counts as zero), so FLOPs do not depend on them.

OFA's MobileNetV3 uses ``hswish`` (``x * relu6(x + 3) / 6``, Paddle's ``Hardswish``) in its stem,
later stages and head and ReLU elsewhere (the mbv2 family's ``block_activations``); its
squeeze-and-excitation gates end in the h-sigmoid ``relu6(x + 3) / 6`` (:func:`make_hsigmoid`), a
gate rather than a space's activation. DS-Net and EfficientNet use ``swish``, YOLOv4-style
networks ``mish`` (``x * tanh(softplus(x))``); ResNets ``relu`` and MobileNetV2 ``relu6``.

The ResNet family also has an *outer* activation (``space.overrides.outer_activation``), the
one after each residual addition only, as in the 3rd-place CVPR 2022 Track 1 solution's final
submissions. It may also be ``prelu``: Paddle's ``nn.PReLU()`` with one trained slope per
layer (initialised at 0.25), so it adds one parameter per residual block and none to FLOPs.
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
    "mish": "Mish",
}

#: Activations allowed after a residual addition (:data:`ACTIVATIONS` plus the single-slope PReLU).
OUTER_ACTIVATIONS: dict[str, str] = {**ACTIVATIONS, "prelu": "PReLU"}


def check_activation(name: str, space_name: str) -> None:
    """Raise ``ValueError`` naming the known activations if ``name`` is not one of them."""
    if name not in ACTIVATIONS:
        raise ValueError(f"space {space_name!r}: unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")


#: Parameters of one layer of each activation that has any (the others have none).
_PARAMETERS: dict[str, int] = {"prelu": 1}


def activation_params(name: str) -> int:
    """Parameters of one ``make_activation(name)`` layer (``sum(p.numel() for p in layer.parameters())``)."""
    return _PARAMETERS.get(name, 0)


def check_outer_activation(name: str, space_name: str) -> None:
    """Raise ``ValueError`` naming the known outer activations if ``name`` is not one of them."""
    if name not in OUTER_ACTIVATIONS:
        raise ValueError(f"space {space_name!r}: unknown outer_activation {name!r}; "
                         f"known: {', '.join(OUTER_ACTIVATIONS)}")


def make_hsigmoid() -> nn.Layer:
    """The h-sigmoid ``relu6(x + 3) / 6`` of MobileNetV3's squeeze-and-excitation gates (Howard et al.,
    2019): Paddle's ``Hardsigmoid`` at its default slope 1/6 and offset 0.5, ``clip(x / 6 + 0.5, 0, 1)``.
    It has no parameters and, like the activations, adds nothing to ``paddle.flops``."""
    from paddle import nn

    return nn.Hardsigmoid()


def make_activation(name: str) -> nn.Layer:
    """A fresh activation layer of ``name`` (see :data:`OUTER_ACTIVATIONS`; ``prelu`` has one
    trained slope, ``nn.PReLU()``)."""
    from paddle import nn

    return getattr(nn, OUTER_ACTIVATIONS[name])()
