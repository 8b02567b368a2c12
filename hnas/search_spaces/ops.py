"""Elastic (sliceable) conv, depthwise conv, batch-norm and linear layers, and their conv + BN pairs.

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

A narrower :class:`ElasticConv2D` can run in one of two ways (:data:`CONV_MODES`), chosen per call
by the size of its output: *slice* copies the leading weight block and convolves with it (the
default; what a stand-alone layer computes, bit for bit); *zero-pad* convolves the input, padded
with zero channels up to the full input width, with the full weight and keeps the leading output
channels. Zero-padding skips the weight copy and the full-size gradient assembly at the price of
the full layer's arithmetic, which pays off where there is little arithmetic per weight (small
batches of small images: ``docs/evaluation-speed.md``). Its results equal slicing up to float
rounding (the sums over input channels take extra zero terms, in another order), and the weight
gradient is exactly zero outside the active block either way.
"""

from __future__ import annotations

import sys
from typing import Sequence

import paddle
import paddle.nn.functional as F
from paddle import nn

from hnas.search_spaces.counting import conv_output_size

#: :attr:`ElasticConv2D.zero_pad_positions` of each conv mode: ``"slice"`` never zero-pads,
#: ``"pad"`` always does, ``"auto"`` does when the output has at most 32 positions (batch x height
#: x width), about where both ways cost the same on a CPU (``benchmarks/bench_step_overhead.py``).
CONV_MODES: dict[str, int] = {"slice": 0, "pad": sys.maxsize, "auto": 32}

#: Active shape of each state tensor, keyed by its name relative to a layer (or a full state-dict name).
ShapeMap = dict[str, tuple[int, ...]]


def leading_block(tensor: paddle.Tensor, sizes: tuple[int, ...]) -> paddle.Tensor:
    """``tensor[:sizes[0], :sizes[1], ...]``, differentiably; ``tensor`` itself if nothing is cut.

    One axis is cut with ``paddle.split``, whose backward is a concat: the backward of indexing
    (``tensor[:n, :m]``, a strided view) scatters into a zero tensor and measured ~30x slower on
    CPU (Paddle 3.3, a 160x160x3x3 conv weight), which dominated a small subnet's training step.
    Two or more axes are cut with one ``paddle.crop`` (one copy instead of a split per axis, same
    values and gradients bit for bit): a step of ResNet48 at 2 x 64 px took about 6 % less.
    """
    shape = tensor.shape
    cut = [axis for axis, size in enumerate(sizes) if size < shape[axis]]
    if len(cut) > 1:
        return paddle.crop(tensor, shape=[*sizes, *shape[len(sizes):]], offsets=[0] * len(shape))
    for axis in cut:
        tensor = paddle.split(tensor, [sizes[axis], shape[axis] - sizes[axis]], axis=axis)[0]
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
        #: A narrower width runs zero-padded when the output has at most this many positions
        #: (batch x height x width), else sliced; 0 always slices (see :data:`CONV_MODES`).
        self.zero_pad_positions = 0

    @property
    def max_in_channels(self) -> int:
        return self._in_channels

    @property
    def max_out_channels(self) -> int:
        return self._out_channels

    def active_weight(self, in_channels: int, out_channels: int) -> paddle.Tensor:
        """The leading ``[out_channels, in_channels]`` filters (the parameter itself at full size)."""
        return leading_block(self.weight, (out_channels, in_channels))

    def output_positions(self, x: paddle.Tensor) -> int:
        """Batch x height x width of the output for input ``x`` ([N, C, H, W])."""
        batch, _, height, width = x.shape
        kernel, stride = self._kernel_size[0], self._stride[0]
        return batch * conv_output_size(height, kernel, stride, self._padding) * conv_output_size(
            width, kernel, stride, self._padding)

    def zero_pads(self, x: paddle.Tensor, out_channels: int) -> bool:
        """Whether ``forward(x, out_channels)`` runs zero-padded (a narrower width, small output)."""
        if self.zero_pad_positions <= 0:
            return False
        narrower = x.shape[1] < self._in_channels or out_channels < self._out_channels
        return narrower and self.output_positions(x) <= self.zero_pad_positions

    def forward(self, x: paddle.Tensor, out_channels: int | None = None) -> paddle.Tensor:  # type: ignore[override]
        """Convolve ``x`` ([N, C_in, H, W], C_in <= max) into ``out_channels`` maps (default: max)."""
        out_channels = self._out_channels if out_channels is None else out_channels
        if self.zero_pads(x, out_channels):
            return self._zero_padded(x, out_channels)
        return self._convolve(x, self.active_weight(x.shape[1], out_channels))

    def _zero_padded(self, x: paddle.Tensor, out_channels: int) -> paddle.Tensor:
        """The full conv of ``x`` padded with zero input channels, cut to the leading ``out_channels`` maps."""
        batch, channels, height, width = x.shape
        if channels < self._in_channels:
            zeros = paddle.zeros([batch, self._in_channels - channels, height, width], dtype=x.dtype)
            x = paddle.concat([x, zeros], axis=1)
        out = self._convolve(x, self.weight)
        return leading_block(out, (batch, out_channels))

    def _convolve(self, x: paddle.Tensor, weight: paddle.Tensor) -> paddle.Tensor:
        return F.conv2d(
            x,
            weight,
            stride=self._stride,
            padding=self._padding,
            dilation=self._dilation,
            groups=self._groups,
            data_format=self._data_format,
        )



def centre(weight: paddle.Tensor, size: int) -> paddle.Tensor:
    """The central ``size x size`` window of ``weight`` ([C, 1, K, K]), cut with one ``paddle.crop``."""
    full = weight.shape[-1]
    if size == full:
        return weight
    start = (full - size) // 2
    return paddle.crop(weight, shape=[*weight.shape[:2], size, size], offsets=[0, 0, start, start])


class ElasticDepthwiseConv2D(nn.Conv2D):
    """Depthwise conv whose channels (leading) and kernel size (centre) can shrink.

    Kernel elasticity follows once-for-all (Cai et al., ICLR 2020): the layer stores the largest
    kernel; a smaller kernel is the centre of the next larger one. With ``transform=True`` each
    step down also multiplies the flattened centre by a learned ``k^2 x k^2`` matrix (initialised
    to the identity), one matrix per step and layer (``transform_7to5``, ``transform_5to3``), so
    the small kernels can differ from a plain crop while sharing the weights. With a single
    kernel choice only the channels are elastic (MobileNetV1 width spaces).

    Args:
        channels: maximum channels.
        kernel_choices: allowed kernel sizes; the largest is stored.
        stride: convolution stride.
        transform: learn OFA's kernel-transformation matrices.
    """

    def __init__(self, channels: int, kernel_choices: Sequence[int], stride: int, transform: bool = False) -> None:
        kernels = sorted(set(kernel_choices), reverse=True)
        super().__init__(channels, channels, kernels[0], stride=stride, padding=kernels[0] // 2, groups=channels,
                         bias_attr=False)
        self.kernels = kernels
        self.transform = transform
        for larger, smaller in zip(kernels, kernels[1:]):
            if transform:
                matrix = self.create_parameter([smaller * smaller, smaller * smaller],
                                               default_initializer=nn.initializer.Assign(
                                                   paddle.eye(smaller * smaller)))
                setattr(self, f"transform_{larger}to{smaller}", matrix)

    def transform_parameters(self, kernel: int) -> list[paddle.Tensor]:
        """The matrices a ``kernel`` x ``kernel`` forward uses (none without ``transform``)."""
        if not self.transform:
            return []
        steps = [(a, b) for a, b in zip(self.kernels, self.kernels[1:]) if b >= kernel]
        return [getattr(self, f"transform_{a}to{b}") for a, b in steps]

    def active_weight(self, channels: int, kernel: int) -> paddle.Tensor:
        """``[channels, 1, kernel, kernel]`` filters: leading channels, centre (transformed) kernel."""
        if kernel not in self.kernels:
            raise ValueError(f"kernel {kernel} not in {self.kernels}")
        weight = leading_block(self.weight, (channels,))
        for larger, smaller in zip(self.kernels, self.kernels[1:]):
            if smaller < kernel:
                break
            weight = centre(weight, smaller)
            if self.transform:
                matrix = getattr(self, f"transform_{larger}to{smaller}")
                weight = paddle.matmul(weight.reshape([channels, smaller * smaller]), matrix)
                weight = weight.reshape([channels, 1, smaller, smaller])
        return weight

    def forward(self, x: paddle.Tensor, kernel: int | None = None) -> paddle.Tensor:  # type: ignore[override]
        """Filter ``x`` ([N, C, H, W], C <= max) channel by channel with a ``kernel`` x ``kernel`` window."""
        kernel = self.kernels[0] if kernel is None else kernel
        channels = x.shape[1]
        return F.conv2d(x, self.active_weight(channels, kernel), stride=self._stride, padding=kernel // 2,
                        groups=channels)


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



def bn_shapes(channels: int, prefix: str = "bn.") -> ShapeMap:
    """Active shapes of a batch norm's four tensors at ``channels``."""
    return {f"{prefix}{name}": (channels,) for name in ("weight", "bias", "_mean", "_variance")}


class ElasticConvBN(nn.Layer):
    """Elastic conv (no bias) followed by the elastic batch norm of its outputs.

    Args:
        in_channels: maximum input channels.
        out_channels: maximum output channels.
        kernel_size: square kernel size ("same" padding).
        stride: convolution stride.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1) -> None:
        super().__init__()
        self.conv = ElasticConv2D(in_channels, out_channels, kernel_size, stride=stride)
        self.bn = ElasticBatchNorm2D(out_channels)

    @property
    def max_out_channels(self) -> int:
        return self.conv.max_out_channels

    def forward(self, x: paddle.Tensor, out_channels: int | None = None) -> paddle.Tensor:
        """``x`` ([N, C_in, H, W]) -> ``[N, out_channels, H', W']`` (default: the maximum)."""
        return self.bn(self.conv(x, out_channels))

    def active_shapes(self, in_channels: int, out_channels: int) -> ShapeMap:
        """Shapes of the weight and BN tensors used at these widths."""
        kernel_size = self.conv.weight.shape[-1]
        return {"conv.weight": (out_channels, in_channels, kernel_size, kernel_size), **bn_shapes(out_channels)}

    def output_tensors(self) -> list[paddle.Tensor]:
        """Every tensor indexed by an output channel along axis 0 (filters, BN scale, shift and statistics)."""
        return [self.conv.weight, self.bn.weight, self.bn.bias, self.bn._mean, self.bn._variance]

    @paddle.no_grad()
    def permute_outputs(self, order: paddle.Tensor) -> None:
        """Reorder the output channels (conv filters and BN entries) by index tensor ``order``."""
        for tensor in self.output_tensors():
            tensor.set_value(paddle.index_select(tensor, order, axis=0))


class ElasticDepthwiseBN(nn.Layer):
    """:class:`ElasticDepthwiseConv2D` + elastic BN."""

    def __init__(self, channels: int, kernel_choices: Sequence[int], stride: int, transform: bool = False) -> None:
        super().__init__()
        self.conv = ElasticDepthwiseConv2D(channels, kernel_choices, stride, transform)
        self.bn = ElasticBatchNorm2D(channels)

    def forward(self, x: paddle.Tensor, kernel: int | None = None) -> paddle.Tensor:
        return self.bn(self.conv(x, kernel))

    def active_shapes(self, channels: int, kernel: int) -> ShapeMap:
        """Shapes of the filters and BN tensors used at ``channels`` and ``kernel``."""
        return {"conv.weight": (channels, 1, kernel, kernel), **bn_shapes(channels)}

    def output_tensors(self) -> list[paddle.Tensor]:
        """Every tensor indexed by a channel along axis 0 (learned kernel transforms are per position, not moved)."""
        return [self.conv.weight, self.bn.weight, self.bn.bias, self.bn._mean, self.bn._variance]


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
