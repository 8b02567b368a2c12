"""An exponential moving average of the supernet's weights, as a bootstrapped teacher.

DS-Net's in-place bootstrapping (Li et al., CVPR 2021, stage I) distils the students of a
sandwich step from the *moving average* of the supernet instead of from the live largest
net: the target changes slowly, which the authors found steadier than in-place
distillation early in training. With ``loss.teacher: ema`` the trainer keeps a second copy
of the supernet whose parameters follow ``ema = decay * ema + (1 - decay) * live`` after
every optimizer update; the step's teacher still trains on the labels, but the students'
target is the average net's output for the teacher's subnet.

BatchNorm: hnas's BN is shared and sliced across widths, so its running statistics belong
to no single subnet (DS-Net keeps private statistics per width instead). The average net
therefore normalises with the batch's own statistics (training-mode BN), and its running
buffers are a copy of the live net's, refreshed at every update.

The average is a pure function of the live weights, so every rank holds the same one, and it
is stored in the checkpoint (``ema.pdparams``): a resumed run continues it exactly.
"""

from __future__ import annotations

import paddle
from paddle import nn

from hnas.nn.resize import resize_images
from hnas.search_spaces.base import SearchSpace, Spec


class WeightAverage:
    """The moving average of a supernet's parameters (see the module docstring).

    Args:
        supernet: the live supernet; the average starts as a copy of its weights.
        space: builds the average's own supernet of the same shape.
        decay: weight of the old average at each update, in (0, 1).
    """

    def __init__(self, supernet: nn.Layer, space: SearchSpace, decay: float) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.decay = float(decay)
        self.net = space.build_supernet()
        for param in self.net.parameters():
            param.stop_gradient = True
        # Trainable weights only: Paddle keeps BN running statistics as stop_gradient parameters.
        self._params = {name for name, param in supernet.named_parameters() if not param.stop_gradient}
        self.copy_from(supernet)

    def copy_from(self, supernet: nn.Layer) -> None:
        """Make the average equal to ``supernet``'s weights and buffers."""
        self.net.set_state_dict(supernet.state_dict())

    @paddle.no_grad()
    def update(self, supernet: nn.Layer) -> None:
        """One step of the average after an optimizer update of ``supernet``."""
        live = supernet.state_dict()
        for name, tensor in self.net.state_dict().items():
            if name in self._params:
                tensor.set_value(self.decay * tensor + (1.0 - self.decay) * live[name])
            else:
                tensor.set_value(live[name])  # BN running buffers: a copy (see the module docstring)

    @paddle.no_grad()
    def logits(self, spec: Spec, images: paddle.Tensor) -> paddle.Tensor:
        """The average net's output for subnet ``spec`` on ``images`` resized to its resolution
        (batch-statistics BN).

        Training-mode BN moves the average's running buffers; :meth:`update`, which follows in
        the same step, replaces them with the live net's again.
        """
        self.net.train()
        self.net.apply(spec)
        return self.net(resize_images(images, spec.resolution)).detach()

    def state_dict(self) -> dict[str, paddle.Tensor]:
        return self.net.state_dict()

    def set_state_dict(self, state: dict[str, paddle.Tensor]) -> None:
        self.net.set_state_dict(state)
