"""OFA's accuracy-predictor network: an MLP with a bias-free output added to a base accuracy."""

from __future__ import annotations

from typing import Sequence

import paddle
from paddle import nn


class AccuracyMLP(nn.Layer):
    """``features -> accuracy``: hidden ReLU layers, then a bias-free linear output plus ``base_acc``.

    OFA's design, with one change: the output layer starts at zero (see below).

    ``base_acc`` (the mean training accuracy, the maintainer's advice in once-for-all#30) is a
    buffer, not a parameter, so the network only learns offsets from it.
    """

    def __init__(self, in_features: int, hidden: Sequence[int] = (400, 400, 400), base_acc: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Layer] = []
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.hidden = nn.Sequential(*layers)
        # Zero-initialised: an untrained predictor predicts ``base_acc`` for every subnet, so columns no
        # fitted arch used (a width code never drawn) add nothing instead of the random initial offset.
        self.output = nn.Linear(width, 1, weight_attr=nn.initializer.Constant(0.0), bias_attr=False)
        self.register_buffer("base_acc", paddle.to_tensor([base_acc], dtype="float32"))

    def forward(self, features: paddle.Tensor) -> paddle.Tensor:
        return self.output(self.hidden(features)).squeeze(-1) + self.base_acc
