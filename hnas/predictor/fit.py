"""Fitting an accuracy predictor on measured archs: OFA's recipe, reproducible for a seed.

The archs are shuffled with ``seed`` and split into a fitting part and a held-out part
(``val_fraction``, 1/5 as OFA); the MLP is trained with Adam (lr 1e-3, weight decay 1e-4) on the
mean squared error for ``epochs`` passes over shuffled mini-batches, and the held-out part
reports RMSE and Kendall τ of the predictions against the measured accuracies.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import paddle
from scipy import stats

from hnas.errors import HnasError
from hnas.predictor.features import FeatureLayout, encode
from hnas.predictor.model import AccuracyMLP
from hnas.predictor.store import Predictor
from hnas.search_spaces.base import SearchSpace

logger = logging.getLogger(__name__)

#: Fewest archs a fit accepts: at least 4 to fit and 1 to validate at the default 1/5.
MIN_ARCHS = 5


@dataclass(frozen=True)
class FitCfg:
    """How a predictor is trained (defaults: OFA's)."""

    hidden: tuple[int, ...] = (400, 400, 400)
    epochs: int = 300
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.hidden or any(size < 1 for size in self.hidden):
            raise HnasError(f"hidden sizes must be >= 1, got {list(self.hidden)}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise HnasError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise HnasError(f"lr must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise HnasError(f"weight decay must be >= 0, got {self.weight_decay}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise HnasError(f"val fraction must lie in [0, 1), got {self.val_fraction}")


@dataclass(frozen=True)
class FitReport:
    """What a fit measured: sizes and the held-out part's agreement with the measured accuracies."""

    n_fit: int
    n_val: int
    fit_rmse: float
    val_rmse: float | None
    val_kendall_tau: float | None

    def summary(self) -> str:
        text = f"fitted on {self.n_fit} archs, RMSE {self.fit_rmse:.4f}"
        if self.n_val:
            tau = "n/a" if self.val_kendall_tau is None else f"{self.val_kendall_tau:.3f}"
            text += f"; held out {self.n_val}: RMSE {self.val_rmse:.4f}, Kendall tau {tau}"
        return text


def check_targets(accs: Sequence[float], source: str) -> None:
    """Refuse data that cannot train a predictor.

    Raises:
        HnasError: fewer than :data:`MIN_ARCHS` archs, a non-finite accuracy, or all equal (an
            arch file that was never evaluated holds ``acc`` 0.0 everywhere).
    """
    if len(accs) < MIN_ARCHS:
        raise HnasError(f"{source}: {len(accs)} arch(s); fitting a predictor needs at least {MIN_ARCHS} "
                        "evaluated archs (the output of hnas eval or a search history)")
    if not all(math.isfinite(acc) for acc in accs):
        raise HnasError(f"{source}: non-finite accuracy values")
    if max(accs) == min(accs):
        raise HnasError(f"{source}: every arch has acc {accs[0]}; is it an evaluated file (the output of hnas eval)?")


def _split(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_val = int(round(n * val_fraction))
    n_val = min(max(n_val, 1 if val_fraction > 0 else 0), n - 1)
    return order[n_val:], order[:n_val]


def _rmse(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred - truth) ** 2)))


def fit_predictor(space: SearchSpace, specs: Sequence[Any], accs: Sequence[float], cfg: FitCfg = FitCfg(),
                  source: str = "training data") -> tuple[Predictor, FitReport]:
    """Train a predictor of ``accs`` from ``specs`` (subnets of ``space``).

    Raises:
        HnasError: see :func:`check_targets`.
    """
    check_targets(accs, source)
    layout = FeatureLayout.of(space)
    features = encode(space, layout, specs)
    targets = np.asarray(accs, dtype=np.float32)
    fit_rows, val_rows = _split(len(specs), cfg.val_fraction, cfg.seed)
    paddle.seed(cfg.seed)
    model = AccuracyMLP(layout.width, cfg.hidden, base_acc=float(targets[fit_rows].mean()))
    optimizer = paddle.optimizer.Adam(learning_rate=cfg.lr, parameters=model.parameters(),
                                      weight_decay=cfg.weight_decay)
    x_fit, y_fit = paddle.to_tensor(features[fit_rows]), paddle.to_tensor(targets[fit_rows])
    rng = np.random.default_rng(cfg.seed)
    model.train()
    for epoch in range(cfg.epochs):
        order = paddle.to_tensor(rng.permutation(len(fit_rows)))
        for start in range(0, len(fit_rows), cfg.batch_size):
            batch = order[start:start + cfg.batch_size]
            loss = paddle.nn.functional.mse_loss(model(x_fit[batch]), y_fit[batch])
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
        if (epoch + 1) % max(1, cfg.epochs // 5) == 0:
            logger.info("predictor epoch %d/%d: fit loss %.6f", epoch + 1, cfg.epochs, float(loss))
    model.eval()
    predictor = Predictor(space=space, layout=layout, model=model, cfg=asdict(cfg))
    fit_pred = predictor.predict(list(_pick(specs, fit_rows)))
    report_val: dict[str, Any] = {"val_rmse": None, "val_kendall_tau": None}
    if val_rows:
        val_pred = predictor.predict(list(_pick(specs, val_rows)))
        val_truth = targets[val_rows]
        tau = stats.kendalltau(val_pred, val_truth).statistic if len(val_rows) > 1 else float("nan")
        report_val = {"val_rmse": _rmse(val_pred, val_truth),
                      "val_kendall_tau": None if math.isnan(tau) else float(tau)}
    report = FitReport(n_fit=len(fit_rows), n_val=len(val_rows), fit_rmse=_rmse(fit_pred, targets[fit_rows]),
                       **report_val)
    predictor.report = asdict(report)
    return predictor, report


def _pick(items: Sequence[Any], rows: Sequence[int]):
    return (items[row] for row in rows)
