"""What every weight-sharing supernet shares, whatever its family.

:class:`ElasticSupernet` is the base of a family's supernet (an ``nn.Layer`` holding the weights
of the space's largest network). It implements the :class:`~hnas.search_spaces.base.Supernet`
protocol once:

- ``apply(spec)`` checks that the spec belongs to the space and hands it to the family's
  :meth:`ElasticSupernet.configure`; ``apply(fn)`` with a callable stays ``nn.Layer.apply``;
- ``used_parameters(spec)``: the trainable parameters named in ``active_shapes(spec)``, plus
  any the family adds (:meth:`ElasticSupernet.extra_parameters`, e.g. kernel transforms);
- ``export(spec)``: the family's stand-alone network of ``spec`` with every tensor copied from
  the leading block of the supernet's tensor of the same name, except the tensors the family
  computes itself (:meth:`ElasticSupernet.exported_tensors`, e.g. cropped kernels, or the unit scale and zero
  shift of BNs the supernet trains without them);
- ``set_conv_mode(mode)``: how every elastic conv runs a narrower width (``"slice"``, the
  default, ``"pad"`` or ``"auto"``: :data:`~hnas.search_spaces.ops.CONV_MODES`);
- ``reorder_channels()``: every :class:`ReorderableBlock` sorts its elastic channels by
  importance, and the moves are returned for
  :func:`hnas.nn.optim.permute_optimizer_state`.

A family writes the layers, ``forward``, ``configure`` and ``active_shapes``. Its parameter
names must equal those of its stand-alone network, so that export and checkpoint loading work
by name.

Optimizer contract (what Paddle does, checked in ``tests/search_spaces/test_supernet.py``):
after ``backward`` through a subnet, parameters the subnet does not use have ``grad is None``
and a Paddle optimizer skips them in ``step()`` when gradients are cleared with
``clear_grad(set_to_zero=False)``; sliced parameters get a full-size gradient that is zero
outside the active leading block (momentum and weight decay still move those channels, as in
PaddleSlim's OFA).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Callable, ClassVar

import numpy as np
import paddle
from paddle import nn

from hnas.errors import HnasError
from hnas.search_spaces.ops import CONV_MODES, ElasticConv2D, ShapeMap, leading_block

#: ``(tensor, axis, order)``: a tensor permuted along ``axis`` (new index i = old ``order[i]``).
Move = tuple[paddle.Tensor, int, np.ndarray]


def prefixed(prefix: str, shapes: ShapeMap) -> ShapeMap:
    """``shapes`` with every name preceded by ``prefix`` (e.g. ``"stages.1.0."``)."""
    return {prefix + name: shape for name, shape in shapes.items()}


class ReorderableBlock:
    """A block whose elastic channels can be sorted by importance without changing its function.

    The block names the importance of each elastic channel and every ``(tensor, axis)`` indexed
    by those channels; :meth:`reorder_by_importance` permutes all of them together, so the full
    block computes the same function while a narrow slice keeps the channels that matter most
    (the "reorder" of the CVPR 2022 Track 1 baseline and of OFA's progressive shrinking).
    """

    @abstractmethod
    def channel_importance(self) -> np.ndarray:
        """Importance of each elastic channel, shape ``[max_channels]`` (larger: kept longer)."""

    @abstractmethod
    def permuted_tensors(self) -> list[tuple[paddle.Tensor, int]]:
        """``(tensor, axis)`` of everything :meth:`reorder_by_importance` permutes along the elastic channels."""

    @paddle.no_grad()
    def reorder_by_importance(self) -> np.ndarray:
        """Sort the elastic channels by :meth:`channel_importance`, most important first.

        Parameters are updated in place (same objects); an optimizer's per-parameter state is
        not touched here: :func:`hnas.nn.optim.permute_optimizer_state` applies the same
        permutation to it (:meth:`permuted_tensors` names what moves).

        Returns:
            The permutation applied (new channel i = old channel ``order[i]``).
        """
        order = np.argsort(-self.channel_importance(), kind="stable")
        index = paddle.to_tensor(order, dtype="int64")
        for tensor, axis in self.permuted_tensors():
            tensor.set_value(paddle.index_select(tensor, index, axis=axis))
        return order


class ElasticSupernet(nn.Layer):
    """Base of a family's weight-sharing network; subclasses build the layers, then call :meth:`apply`.

    Args:
        space: the search space; the supernet holds the weights of its largest network.
    """

    #: The family's spec class: ``apply`` activates instances of it, anything callable goes to ``nn.Layer``.
    spec_type: ClassVar[type]

    def __init__(self, space: Any) -> None:
        super().__init__()
        self.space = space
        self._spec: Any = None

    # ``nn.Layer.apply(fn)`` (used by Paddle itself, e.g. for dtype casts) must keep working,
    # so a callable goes to the base class and a spec activates a subnet.
    def apply(self, spec_or_fn: Any | Callable[[nn.Layer], Any]) -> ElasticSupernet:  # type: ignore[override]
        """Activate subnet ``spec`` (or, given a callable, behave as ``nn.Layer.apply``).

        Raises:
            HnasError: if ``spec`` is not a member of this supernet's space.
        """
        if not isinstance(spec_or_fn, self.spec_type):
            return super().apply(spec_or_fn)
        spec = spec_or_fn
        try:
            self.space.validate(spec)
        except ValueError as error:
            raise HnasError(f"subnet spec does not belong to space {self.space.name!r}: {error}") from None
        self.configure(spec)
        self._spec = spec
        return self

    @abstractmethod
    def configure(self, spec: Any) -> None:
        """Give every elastic layer its part of ``spec`` (a member of the space)."""

    @property
    def active_spec(self) -> Any:
        """The subnet ``forward`` runs (the max spec until :meth:`apply` is called with another)."""
        return self._spec

    def max_spec(self) -> Any:
        return self.space.max_spec()

    def min_spec(self) -> Any:
        return self.space.min_spec()

    @abstractmethod
    def active_shapes(self, spec: Any = None) -> ShapeMap:
        """Active leading block of every state tensor ``spec`` (default: active) uses, by state-dict name.

        Tensors absent from the map are not used at all; the map equals the shapes of
        ``export(spec).state_dict()``.
        """

    def extra_parameters(self, spec: Any) -> list[paddle.Tensor]:
        """Trainable parameters ``spec`` uses that :meth:`active_shapes` does not name (default: none)."""
        return []

    def used_parameters(self, spec: Any = None) -> list[paddle.Tensor]:
        """Trainable parameters that ``spec`` (default: active) touches, in definition order."""
        spec = self._spec if spec is None else spec
        used = self.active_shapes(spec)
        params = [param for name, param in self.named_parameters() if name in used and not param.stop_gradient]
        return params + self.extra_parameters(spec)

    def exported_tensors(self, spec: Any) -> dict[str, paddle.Tensor]:
        """Stand-alone tensors of ``spec`` that are not a leading block of the supernet's (default: none)."""
        return {}

    @paddle.no_grad()
    def export(self, spec: Any) -> nn.Layer:
        """A stand-alone network of ``spec`` holding copies of the sliced weights and BN statistics.

        The copy is independent of the supernet and is in the supernet's train/eval mode.
        """
        net = self.space.build_standalone(spec)
        source = self.state_dict()
        computed = self.exported_tensors(spec)
        state = {name: leading_block(source[name], tuple(target.shape)).clone()
                 for name, target in net.state_dict().items() if name not in computed}
        state.update({name: tensor.clone() for name, tensor in computed.items()})
        net.set_state_dict(state)
        if not self.training:
            net.eval()
        return net

    def set_conv_mode(self, mode: str) -> ElasticSupernet:
        """Run every narrower :class:`~hnas.search_spaces.ops.ElasticConv2D` sliced or zero-padded.

        ``"slice"`` (the default) copies each conv's leading weight block; ``"pad"`` convolves
        zero-padded inputs with the full weights; ``"auto"`` zero-pads the convs whose output is
        small (:data:`~hnas.search_spaces.ops.CONV_MODES`). The modes agree up to float rounding.

        Raises:
            HnasError: if ``mode`` is not one of them.
        """
        if mode not in CONV_MODES:
            raise HnasError(f"conv mode {mode!r} is not one of {', '.join(CONV_MODES)}")
        for layer in self.sublayers():
            if isinstance(layer, ElasticConv2D):
                layer.zero_pad_positions = CONV_MODES[mode]
        return self

    @paddle.no_grad()
    def reorder_channels(self) -> list[Move]:
        """Sort the elastic channels of every :class:`ReorderableBlock` by importance, in definition order.

        Returns:
            ``(tensor, axis, order)`` of every permuted tensor, for
            :func:`hnas.nn.optim.permute_optimizer_state`.
        """
        moves: list[Move] = []
        for layer in self.sublayers():
            if isinstance(layer, ReorderableBlock):
                order = layer.reorder_by_importance()
                moves += [(tensor, axis, order) for tensor, axis in layer.permuted_tensors()]
        return moves
