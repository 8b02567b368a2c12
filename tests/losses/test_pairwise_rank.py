"""Pairwise rank loss: direction, detaching, margin, and the weight schedule."""

from __future__ import annotations

import paddle
import pytest

from hnas.losses import PairwiseRankLoss, pairwise_rank_loss, rank_weight


def _losses(a: float, b: float) -> tuple[paddle.Tensor, paddle.Tensor]:
    loss_a = paddle.to_tensor(a, stop_gradient=False)
    loss_b = paddle.to_tensor(b, stop_gradient=False)
    return loss_a, loss_b


def _grad(tensor: paddle.Tensor) -> float:
    return 0.0 if tensor.grad is None else float(tensor.grad)


def test_higher_prior_with_higher_loss_is_pushed_down_alone() -> None:
    loss_a, loss_b = _losses(2.0, 1.5)
    rank = pairwise_rank_loss(10.0, 5.0, loss_a, loss_b)
    rank.backward()
    assert rank.shape == []
    assert float(rank) == pytest.approx(0.5)
    assert _grad(loss_a) == 1.0  # descending the loss lowers loss_a
    assert _grad(loss_b) == 0.0  # the lower-prior loss is only a target


def test_swapped_priors_push_the_other_net() -> None:
    loss_a, loss_b = _losses(1.0, 3.0)
    rank = pairwise_rank_loss(1.0, 2.0, loss_a, loss_b)
    rank.backward()
    assert float(rank) == pytest.approx(2.0)
    assert (_grad(loss_a), _grad(loss_b)) == (0.0, 1.0)


def test_correct_order_costs_nothing() -> None:
    loss_a, loss_b = _losses(1.0, 2.0)
    rank = pairwise_rank_loss(10.0, 5.0, loss_a, loss_b)
    rank.backward()
    assert float(rank) == 0.0
    assert (_grad(loss_a), _grad(loss_b)) == (0.0, 0.0)


def test_equal_priors_cost_nothing() -> None:
    loss_a, loss_b = _losses(3.0, 1.0)
    rank = pairwise_rank_loss(4.0, 4.0, loss_a, loss_b)
    rank.backward()
    assert float(rank) == 0.0
    assert (_grad(loss_a), _grad(loss_b)) == (0.0, 0.0)


def test_margin_demands_a_gap() -> None:
    loss_a, loss_b = _losses(1.0, 1.2)
    assert float(PairwiseRankLoss(margin=0.5)(10.0, 5.0, loss_a, loss_b)) == pytest.approx(0.3)
    assert float(PairwiseRankLoss()(10.0, 5.0, loss_a, loss_b)) == 0.0
    with pytest.raises(ValueError, match="margin"):
        PairwiseRankLoss(margin=-1.0)


@pytest.mark.parametrize(
    ("epoch", "expected"), [(0, 0.0), (5, 0.5), (10, 1.0), (19, 1.9), (20, 2.0), (70, 2.0)]
)
def test_weight_ramps_linearly_then_holds(epoch: int, expected: float) -> None:
    assert rank_weight(epoch, w_max=2.0, ramp=10.0) == pytest.approx(expected)


def test_weight_without_ramp_is_constant() -> None:
    assert rank_weight(0, w_max=1.5, ramp=0) == 1.5
