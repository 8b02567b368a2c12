"""DS-Net's slimming gate: a few logits from a block's squeeze-and-excitation features.

DS-Net (Li et al., CVPR 2021, stage II) puts a *double-headed* gate at the start of a stage:
the block's own SE head (average pool, 1x1 reduce, activation, 1x1 expand, sigmoid, times the
features) and a **slimming head**, a 1x1 conv from the SE's reduced features to one logit per
routed width. Only the slimming head is new and trains in stage II; the SE head is the one
stage I trained, so here the gate reads the reduced features the network hands it
(:meth:`hnas.dynamic.network.Gateable.forward_to_gate`) and owns the slimming head alone.

Routing is a hard choice with a straight-through gradient (Gumbel-softmax, Jang et al., ICLR
2017): the forward pass uses the one-hot of the arg-max, the backward pass the gradient of
the soft probabilities. DS-Net adds the Gumbel noise at evaluation too; here evaluation takes
the arg-max of the logits without noise, so an image's route does not depend on the random
state, on the other images of its batch or on the batch size (what the grouped dynamic
forward relies on, and what a deployed network should do).
"""

from __future__ import annotations

import paddle
import paddle.nn.functional as F
from paddle import nn


class SlimmingHead(nn.Layer):
    """1x1 conv (with bias) from ``[N, C, 1, 1]`` reduced SE features to ``[N, options]`` logits.

    Args:
        in_channels: channels of the reduced features.
        options: number of routed widths.
    """

    def __init__(self, in_channels: int, options: int) -> None:
        super().__init__()
        if options < 2:
            raise ValueError(f"a gate needs at least 2 routed widths, got {options}")
        self.options = options
        self.conv = nn.Conv2D(in_channels, options, 1)

    def forward(self, reduced: paddle.Tensor) -> paddle.Tensor:
        return paddle.flatten(self.conv(reduced), 1)

    def madds(self) -> int:
        """Multiply-accumulates of one image (the conv on a 1x1 map)."""
        return int(self.conv.weight.shape[0] * self.conv.weight.shape[1])


def straight_through_gumbel(logits: paddle.Tensor, tau: float = 1.0) -> paddle.Tensor:
    """Hard one-hot ``[N, K]`` of ``argmax(softmax((logits + g) / tau))`` with the soft gradient.

    ``g`` is standard Gumbel noise from Paddle's generator (so a checkpoint's RNG state
    reproduces it on resume).
    """
    uniform = paddle.uniform(logits.shape, dtype=logits.dtype, min=1e-10, max=1.0)
    gumbel = -paddle.log(-paddle.log(uniform))
    soft = F.softmax((logits + gumbel) / tau, axis=-1)
    hard = F.one_hot(paddle.argmax(soft, axis=-1), logits.shape[-1]).astype(soft.dtype)
    return hard - soft.detach() + soft


def hard_route(logits: paddle.Tensor) -> paddle.Tensor:
    """Evaluation routing: the option of the largest logit per image (``int64 [N]``, no noise)."""
    return paddle.argmax(logits, axis=-1)
