"""Elastic (sliceable) conv, batch-norm and linear layers.

Each layer owns the weights of the *largest* network and runs a narrower one by slicing
the leading channels, as in once-for-all / slimmable networks (Yu et al., "Slimmable
Neural Networks", ICLR 2019; Cai et al., "Once-for-All", ICLR 2020) and PaddleSlim's
``SuperConv2D`` / ``SuperBatchNorm2D``. Only prefixes are ever taken (``weight[:out, :in]``),
so the active part of every tensor is its leading sub-block of the shape a stand-alone
layer of that width would have.

The layers subclass the plain Paddle layers so that parameter names (``weight``, ``bias``,
``_mean``, ``_variance``) and default initialisation are exactly those of
``paddle.nn.Conv2D`` / ``BatchNorm2D`` / ``Linear`` at the maximum size. Note that the
Conv2D default ``Normal(0, sqrt(2 / fan_in))`` therefore uses the *maximum* fan-in.

At full width no slicing happens: the parameters go to the functional op unchanged, so a
supernet running its largest subnet costs the same as the plain network.
"""

from __future__ import annotations

import paddle
import paddle.nn.functional as F
from paddle import nn


def leading_block(tensor: paddle.Tensor, sizes: tuple[int, ...]) -> paddle.Tensor:
    """``tensor[:sizes[0], :sizes[1], ...]``, differentiably; ``tensor`` itself if nothing is cut.

    Cut with ``paddle.split``, whose backward is a concat: the backward of indexing
    (``tensor[:n, :m]``) scatters into a zero tensor and measured ~30x slower on CPU
    (Paddle 3.3, a 160x160x3x3 conv weight), which dominated a small subnet's training step.
    """
    for axis, size in enumerate(sizes):
        full = tensor.shape[axis]
        if size < full:
            tensor = paddle.split(tensor, [size, full - size], axis=axis)[0]
    return tensor


class ElasticConv2D(nn.Conv2D):
    """A bias-free 2-D convolution whose input and output channels can shrink.

    Args:
        in_channels: maximum input channels.
        out_channels: maximum output channels.
        kernel_size: square kernel size.
        stride: convolution stride.
        padding: zero padding; defaults to ``kernel_size // 2`` ("same" for odd kernels).

    The weight has shape ``[out_channels, in_channels, k, k]``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2 if padding is None else padding,
            bias_attr=False,
        )

    @property
    def max_in_channels(self) -> int:
        return self._in_channels

    @property
    def max_out_channels(self) -> int:
        return self._out_channels

    def active_weight(self, in_channels: int, out_channels: int) -> paddle.Tensor:
        """The leading ``[out_channels, in_channels]`` filters (the parameter itself at full size)."""
        return leading_block(self.weight, (out_channels, in_channels))

    def forward(self, x: paddle.Tensor, out_channels: int | None = None) -> paddle.Tensor:  # type: ignore[override]
        """Convolve ``x`` ([N, C_in, H, W], C_in <= max) into ``out_channels`` maps (default: max)."""
        out_channels = self._out_channels if out_channels is None else out_channels
        weight = self.active_weight(x.shape[1], out_channels)
        return F.conv2d(
            x,
            weight,
            stride=self._stride,
            padding=self._padding,
            dilation=self._dilation,
            groups=self._groups,
            data_format=self._data_format,
        )


class ElasticBatchNorm2D(nn.BatchNorm2D):
    """One batch norm shared by every width: the first ``C`` channels serve an input of ``C``.

    Affine parameters and running statistics are sliced to the input's channels. In training
    mode the running statistics of the active slice are updated with the same rule as
    ``paddle.nn.BatchNorm2D`` (``running = momentum * running + (1 - momentum) * batch``,
    computed by the same ``F.batch_norm`` kernel) and the inactive channels are left untouched,
    so training a fixed subnet inside the supernet reproduces the stand-alone network's
    statistics exactly. Statistics are shared across widths (as in PaddleSlim's
    ``SuperBatchNorm2D``), hence evaluation of a sampled subnet usually wants BN recalibration.

    Args:
        num_features: maximum number of channels.
        momentum: running-statistics momentum, Paddle convention (default 0.9).
        epsilon: added to the variance.
    """

    def __init__(self, num_features: int, momentum: float = 0.9, epsilon: float = 1e-5) -> None:
        super().__init__(num_features, momentum=momentum, epsilon=epsilon)

    @property
    def max_channels(self) -> int:
        return self._num_features

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        """Normalise ``x`` ([N, C, H, W], C <= max) with the first ``C`` channels' statistics."""
        channels = x.shape[1]
        full = channels == self._num_features
        running_mean = self._mean if full else self._mean[:channels]
        running_var = self._variance if full else self._variance[:channels]
        out = F.batch_norm(
            x,
            running_mean,
            running_var,
            weight=self.weight if full else self.weight[:channels],
            bias=self.bias if full else self.bias[:channels],
            training=self.training,
            momentum=self._momentum,
            epsilon=self._epsilon,
            data_format=self._data_format,
            use_global_stats=self._use_global_stats,
        )
        if self.training and not full:
            self._write_back(running_mean, running_var, channels)
        return out

    def _write_back(self, running_mean: paddle.Tensor, running_var: paddle.Tensor, channels: int) -> None:
        # F.batch_norm updates its running tensors in place. With Paddle's stride kernels a
        # leading slice is a view of the buffer, so the update already landed; otherwise the
        # slice is a copy and must be written back (what PaddleSlim's SuperBatchNorm2D does).
        if running_mean.data_ptr() != self._mean.data_ptr():
            with paddle.no_grad():
                self._mean[:channels] = running_mean
        if running_var.data_ptr() != self._variance.data_ptr():
            with paddle.no_grad():
                self._variance[:channels] = running_var


class ElasticLinear(nn.Linear):
    """A fully connected layer whose input features can shrink (outputs stay fixed).

    Args:
        in_features: maximum input features.
        out_features: outputs (e.g. classes).

    The weight has Paddle's ``[in_features, out_features]`` layout, so the active part is
    ``weight[:in]``.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features)

    @property
    def max_in_features(self) -> int:
        return self.weight.shape[0]

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        """Map ``x`` ([N, F], F <= max) to ``[N, out_features]``."""
        return F.linear(x, leading_block(self.weight, (x.shape[-1],)), self.bias)


def conv_bn_recording(
    conv: nn.Layer, bn: nn.Layer, x: paddle.Tensor, bn_variances: list[float] | None
) -> paddle.Tensor:
    """``bn(conv(x))``; if ``bn_variances`` is a list, append the batch variance at the BN input.

    Every channel has ``N * H * W`` values, so the mean over all centred squares is the mean over
    channels of the (biased) batch variance train-mode BN normalises with (ZenScore's BN term).
    """
    out = conv(x)
    if bn_variances is not None:
        centred = out - out.mean(axis=[0, 2, 3], keepdim=True)
        bn_variances.append(float((centred * centred).mean()))
    return bn(out)
