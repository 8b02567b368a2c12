"""One optimizer step of supernet training: every subnet the sampler chose, then one update.

For each :class:`~hnas.samplers.base.SampledNet` of ``sampler.sample(step, epoch)`` the step
activates the subnet (``supernet.apply(spec)``), runs the forward pass on the batch resized
to the subnet's resolution (:mod:`hnas.nn.resize`; every rank draws the same spec, so every
rank resizes to the same size) and picks the loss from the net's role:

* ``teacher``: cross-entropy with the labels (optionally label-smoothed); its detached
  logits are kept as the target of the students of the same step (or, with a weight
  average, :mod:`hnas.engine.ema`, the average net's logits for the same subnet: DS-Net's
  in-place bootstrapping);
* ``student``: the distillation loss (in-place KD or AlphaNet's adaptive alpha-divergence)
  to the teacher's detached logits, or cross-entropy when the list has no teacher;
* ``single``: cross-entropy;
* ``rank``: the two nets of a pair each get cross-entropy, and the one with the higher
  prior (FLOPs, params or ZenScore) also gets ``rank_weight(epoch) * hinge``, which pushes
  its loss below the other's (:func:`hnas.losses.pairwise_rank_loss`).

Each subnet's loss is back-propagated at once, so only one graph is alive at a time and
gradients accumulate. For a rank pair the lower-prior net runs first; the hinge only ever
differentiates the higher-prior loss, so the other loss enters it as a constant and
nothing changes compared with back-propagating the pair's summed loss.

Parameters that no subnet of the step used keep ``grad is None`` (gradients are cleared
with ``set_to_zero=False``); Paddle's optimizers skip those, so neither momentum nor weight
decay moves them. Inactive channels of a used, sliced parameter do get a zero gradient and
therefore momentum / weight-decay updates, as in PaddleSlim's OFA and the reference
solution.

A non-finite loss or gradient either stops training (:class:`NonFiniteLossError`) or skips
the batch: gradients are dropped, no update happens and the BatchNorm statistics touched by
the batch are restored. Gradients are checked too because ReLU turns NaN activations into
zeros, so diverged weights can produce a finite loss.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Literal, Sequence

import paddle
from paddle import nn

from hnas.engine.distributed import DistInfo, allreduce_gradients, any_rank, mean_over_ranks
from hnas.engine.ema import WeightAverage
from hnas.errors import HnasError
from hnas.losses import cross_entropy, pairwise_rank_loss, rank_weight
from hnas.nn.resize import resize_images
from hnas.samplers.base import SampledNet, Sampler
from hnas.search_spaces.base import Spec

logger = logging.getLogger(__name__)

#: What to do on a NaN / inf loss.
NanPolicy = Literal["stop", "skip"]

#: ``prior(spec) -> float``: larger means "should reach a lower loss".
PriorFn = Callable[[Spec], float]


class NonFiniteLossError(HnasError):
    """A subnet's loss or a gradient became NaN or inf and the run is configured to stop."""


@dataclass(frozen=True)
class Objective:
    """How the step turns logits into losses.

    Attributes:
        distill: ``forward(student_logits, teacher_logits) -> scalar`` (a ``LOSSES`` entry).
        distill_name: short name of ``distill`` used in logged term names (``"kd"``, ``"alpha"``).
        label_smoothing: epsilon of the cross-entropy terms.
        student_label_weight: weight of the label cross-entropy added to a student's
            distillation loss (0: distillation only).
        rank_w_max: final weight of the pairwise rank loss.
        rank_ramp: epochs over which the weight ramps from 0 (``min(w_max, epoch / ramp)``).
        rank_margin: hinge margin of the rank loss.
    """

    distill: nn.Layer
    distill_name: str = "kd"
    label_smoothing: float = 0.0
    student_label_weight: float = 0.0
    rank_w_max: float = 2.0
    rank_ramp: float = 10.0
    rank_margin: float = 0.0


@dataclass
class StepResult:
    """What one step did.

    Attributes:
        terms: mean loss per named term (``"teacher/ce"``, ``"student/kd"``, ``"rank/ce"``,
            ``"rank/hinge"``, ``"rank/weight"``, ``"single/ce"``) plus ``"loss"``, the sum of
            everything back-propagated.
        net_losses: the loss of each net, in the sampler's order (what ``observe`` gets).
        skipped: True if the batch was dropped because of a non-finite loss.
    """

    terms: dict[str, float] = field(default_factory=dict)
    net_losses: list[float] = field(default_factory=list)
    skipped: bool = False


class _Terms:
    """Accumulates per-term values for means."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.total = 0.0

    def add(self, name: str, value: float) -> None:
        self.sums[name] += value
        self.counts[name] += 1

    def means(self) -> dict[str, float]:
        return {name: self.sums[name] / self.counts[name] for name in self.sums}


class _NonFinite(Exception):
    """Internal: a loss or gradient is not finite; ``where`` says which."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


class SupernetStep:
    """Runs one training step of a weight-sharing supernet.

    Args:
        supernet: a layer with ``apply(spec)`` whose forward runs the active subnet.
        sampler: chooses the nets of each step; gets ``observe(nets, losses)`` afterwards.
        optimizer: a Paddle optimizer over the supernet's parameters.
        objective: loss settings (:class:`Objective`).
        prior: ``prior(spec) -> float`` for rank pairs; may be None if the sampler never
            yields ``rank`` nets.
        dist_info: rank and world size; gradients are averaged across ranks when > 1.
        nan_policy: ``"stop"`` raises :class:`NonFiniteLossError`, ``"skip"`` drops the batch.
        average: the moving average of the weights whose output is the students' target
            (updated after every optimizer update); None: the teacher's own detached logits.
    """

    def __init__(
        self,
        supernet: nn.Layer,
        sampler: Sampler,
        optimizer: paddle.optimizer.Optimizer,
        objective: Objective,
        prior: PriorFn | None = None,
        dist_info: DistInfo = DistInfo(),
        nan_policy: NanPolicy = "stop",
        max_skips: int = 10,
        average: WeightAverage | None = None,
    ) -> None:
        if nan_policy not in ("stop", "skip"):
            raise ValueError(f"nan_policy must be 'stop' or 'skip', got {nan_policy!r}")
        self.supernet = supernet
        self.sampler = sampler
        self.optimizer = optimizer
        self.objective = objective
        self.prior = prior
        self.dist_info = dist_info
        self.nan_policy = nan_policy
        self.max_skips = max_skips
        self.average = average
        self.skipped_batches = 0
        self.skipped_in_a_row = 0

    def __call__(self, images: paddle.Tensor, labels: paddle.Tensor, step: int, epoch: int) -> StepResult:
        """Train on one batch: all sampled subnets, gradient averaging, one optimizer update.

        Args:
            images: ``[N, C, H, W]`` float32; each subnet runs on them resized to its own
                resolution (:mod:`hnas.nn.resize`; a no-op when the sizes match).
            labels: ``[N]`` or ``[N, 1]`` int64.
            step: global optimizer step (0-based), passed to the sampler.
            epoch: current epoch (0-based); drives the rank-loss weight and the sampler.
        """
        self.supernet.train()
        nets = self.sampler.sample(step, epoch)
        if not nets:
            raise ValueError(f"sampler {type(self.sampler).__name__} returned no nets for step {step}")
        stats = self._snapshot_statistics() if self.nan_policy == "skip" else None
        self.optimizer.clear_grad(set_to_zero=False)
        failure: _NonFinite | None = None
        try:
            result = self._forward_backward(nets, images, labels, epoch)
            self._check_gradients()
        except _NonFinite as error:
            failure, result = error, StepResult()
        if any_rank(failure is not None, self.dist_info):
            return self._handle_non_finite(failure, stats, step, epoch)
        allreduce_gradients(self.supernet.parameters(), self.dist_info)
        self.optimizer.step()
        self.optimizer.clear_grad(set_to_zero=False)
        if self.average is not None:
            self.average.update(self.supernet)
        # Every rank must feed its sampler the same numbers, or adaptive samplers drift apart.
        self.sampler.observe(nets, mean_over_ranks(result.net_losses, self.dist_info))
        self.skipped_in_a_row = 0
        return result

    def _forward_backward(
        self, nets: Sequence[SampledNet], images: paddle.Tensor, labels: paddle.Tensor, epoch: int
    ) -> StepResult:
        terms = _Terms()
        losses: dict[int, float] = {}
        teacher_logits: paddle.Tensor | None = None
        done_pairs: set[int] = set()
        for index, net in enumerate(nets):
            if net.role == "rank":
                if net.pair not in done_pairs:
                    done_pairs.add(net.pair)
                    self._rank_pair(nets, net.pair, images, labels, epoch, terms, losses)
                continue
            logits = self._forward(net.spec, images)
            if net.role == "teacher":
                loss = cross_entropy(logits, labels, self.objective.label_smoothing)
                teacher_logits = logits.detach() if self.average is None else self.average.logits(net.spec, images)
                name = "teacher/ce"
            elif net.role == "student" and teacher_logits is not None:
                loss = self.objective.distill(logits, teacher_logits)
                name = f"student/{self.objective.distill_name}"
                if self.objective.student_label_weight > 0:
                    label_ce = cross_entropy(logits, labels, self.objective.label_smoothing)
                    loss = loss + self.objective.student_label_weight * label_ce
                    name = f"{name}+ce"
            else:
                loss = cross_entropy(logits, labels, self.objective.label_smoothing)
                name = f"{net.role}/ce"
            losses[index] = self._backward(net, loss, terms)
            terms.add(name, losses[index])
        means = terms.means()
        means["loss"] = terms.total
        return StepResult(terms=means, net_losses=[losses[i] for i in range(len(nets))])

    def _rank_pair(
        self,
        nets: Sequence[SampledNet],
        pair: int,
        images: paddle.Tensor,
        labels: paddle.Tensor,
        epoch: int,
        terms: _Terms,
        losses: dict[int, float],
    ) -> None:
        members = [index for index, net in enumerate(nets) if net.role == "rank" and net.pair == pair]
        if len(members) != 2:
            raise ValueError(f"rank pair {pair} has {len(members)} nets, expected 2")
        if self.prior is None:
            raise ValueError("the sampler yields rank pairs but no prior function is configured")
        priors = {index: float(self.prior(nets[index].spec)) for index in members}
        low, high = sorted(members, key=lambda index: priors[index])
        weight = rank_weight(epoch, self.objective.rank_w_max, self.objective.rank_ramp)
        low_ce = cross_entropy(self._forward(nets[low].spec, images), labels, self.objective.label_smoothing)
        losses[low] = self._backward(nets[low], low_ce, terms)
        high_ce = cross_entropy(self._forward(nets[high].spec, images), labels, self.objective.label_smoothing)
        hinge = pairwise_rank_loss(
            priors[low], priors[high], paddle.to_tensor(losses[low]), high_ce, self.objective.rank_margin
        )
        hinge_value = float(hinge)
        self._check_finite(nets[high], hinge_value)
        losses[high] = float(high_ce)
        self._backward(nets[high], high_ce + weight * hinge, terms)
        terms.add("rank/ce", losses[low])
        terms.add("rank/ce", losses[high])
        terms.add("rank/hinge", hinge_value)
        terms.add("rank/weight", weight)

    def _forward(self, spec: Spec, images: paddle.Tensor) -> paddle.Tensor:
        """Logits of subnet ``spec`` on ``images`` resized to its resolution (elastic resolution)."""
        self.supernet.apply(spec)
        return self.supernet(resize_images(images, spec.resolution))

    def _backward(self, net: SampledNet, loss: paddle.Tensor, terms: _Terms) -> float:
        value = float(loss)
        self._check_finite(net, value)
        loss.backward()
        terms.total += value
        return value

    @staticmethod
    def _check_finite(net: SampledNet, value: float) -> None:
        if not math.isfinite(value):
            raise _NonFinite(f"{net.role} net {net.spec} gave loss {value}")

    def _check_gradients(self) -> None:
        """Raise if any gradient holds NaN or inf (one reduction, one host sync).

        A finite loss does not guarantee finite gradients: ReLU maps NaN activations to 0,
        so diverged weights can hide behind an ordinary-looking loss.
        """
        grads = [param.grad for param in self.supernet.parameters() if param.grad is not None]
        if grads and not math.isfinite(float(paddle.add_n([grad.sum() for grad in grads]))):
            raise _NonFinite("a gradient holds NaN or inf")
        # BN running statistics: a huge lr can overflow a running variance while the loss stays finite.
        stats = self._statistics()
        if stats and not bool(paddle.stack([paddle.isfinite(tensor).all() for tensor in stats]).all()):
            raise _NonFinite("a BatchNorm running statistic holds NaN or inf")

    # --- non-finite losses -------------------------------------------------------------

    def _statistics(self) -> list[paddle.Tensor]:
        """Floating tensors the forward pass changes without gradients (BN running stats)."""
        return [
            tensor
            for tensor in self.supernet.state_dict().values()
            if tensor.stop_gradient and tensor.dtype in (paddle.float32, paddle.float64)
        ]

    def _snapshot_statistics(self) -> list[tuple[paddle.Tensor, paddle.Tensor]]:
        return [(tensor, tensor.clone()) for tensor in self._statistics()]

    def _handle_non_finite(
        self,
        failure: _NonFinite | None,
        stats: list[tuple[paddle.Tensor, paddle.Tensor]] | None,
        step: int,
        epoch: int,
    ) -> StepResult:
        self.optimizer.clear_grad(set_to_zero=False)
        where = failure.where if failure is not None else "another rank saw a non-finite loss or gradient"
        if self.nan_policy == "stop":
            raise NonFiniteLossError(
                f"non-finite loss at epoch {epoch}, step {step}: {where}. Training stopped; no checkpoint "
                "was written for this state. Lower optim.lr, or set nan_policy: skip to drop such batches."
            )
        assert stats is not None
        with paddle.no_grad():
            for tensor, saved in stats:
                tensor.set_value(saved)
        self.skipped_batches += 1
        self.skipped_in_a_row += 1
        logger.warning("skipping batch at epoch %d, step %d: %s", epoch, step, where)
        if self.skipped_in_a_row >= self.max_skips:
            raise NonFiniteLossError(
                f"{self.skipped_in_a_row} batches in a row were non-finite (the last at epoch {epoch}, step {step}: "
                f"{where}); the weights have probably diverged. Training stopped (nan_max_skips "
                f"{self.max_skips}); no checkpoint was written for this state. Lower optim.lr."
            )
        return StepResult(skipped=True)
