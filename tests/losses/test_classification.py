"""Cross-entropy with and without label smoothing, against hand-computed values."""

from __future__ import annotations

import math

import paddle
import pytest

from hnas.losses import CrossEntropyLoss, cross_entropy

LOGITS = [[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]]
LABELS = [2, 0]


def _hand_terms() -> tuple[list[float], list[float]]:
    """Per-sample NLL and mean over classes of -log p, written out."""
    lse0 = math.log(math.e + math.e**2 + math.e**3)
    lse1 = math.log(math.e + 2.0)
    nll = [lse0 - 3.0, lse1 - 1.0]
    uniform = [lse0 - 2.0, lse1 - 1.0 / 3.0]
    return nll, uniform


def test_plain_cross_entropy() -> None:
    nll, _ = _hand_terms()
    loss = cross_entropy(paddle.to_tensor(LOGITS), paddle.to_tensor(LABELS))
    assert loss.shape == []
    assert float(loss) == pytest.approx(sum(nll) / 2, rel=1e-6)


def test_label_smoothing_mixes_in_the_uniform_target() -> None:
    nll, uniform = _hand_terms()
    expected = sum(0.9 * a + 0.1 * b for a, b in zip(nll, uniform)) / 2
    loss = cross_entropy(paddle.to_tensor(LOGITS), paddle.to_tensor(LABELS), label_smoothing=0.1)
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def test_column_labels_and_layer_give_the_same_value() -> None:
    logits = paddle.to_tensor(LOGITS)
    flat = cross_entropy(logits, paddle.to_tensor(LABELS), 0.2)
    column = CrossEntropyLoss(label_smoothing=0.2)(logits, paddle.to_tensor([[2], [0]]))
    assert float(column) == pytest.approx(float(flat))


def test_bad_arguments_are_rejected() -> None:
    logits = paddle.to_tensor(LOGITS)
    with pytest.raises(ValueError, match="label_smoothing"):
        cross_entropy(logits, paddle.to_tensor(LABELS), label_smoothing=1.0)
    with pytest.raises(ValueError, match="labels"):
        cross_entropy(logits, paddle.to_tensor([[2, 0], [0, 1]]))
