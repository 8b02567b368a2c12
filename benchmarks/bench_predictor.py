"""Accuracy predictor vs the supernet: Kendall tau on held-out archs as a function of the fitting set size.

    python benchmarks/bench_predictor.py MEASURED.json --space resnet48_tiny [--held-out 300] [--sizes 100,300,1000]

MEASURED.json is an arch file whose acc fields the supernet measured (``hnas eval``). Its last
``--held-out`` entries are the test set; for each size N the predictor is fitted (OFA's recipe,
``hnas predictor fit`` defaults, all N archs used for fitting) on the first N others, and its
predictions of the test archs are compared with the supernet's measurements (Kendall tau,
Spearman, RMSE). The time to score the test archs with the predictor is reported next to
the fit time. Writes ``benchmarks/results/bench_predictor.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from hnas.io.archs import load_arch_file  # noqa: E402
from hnas.io.atomic import atomic_write_text  # noqa: E402
from hnas.predictor.fit import FitCfg, fit_predictor  # noqa: E402
from hnas.search_spaces.spaces import SPACES  # noqa: E402

DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_predictor.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("measured", type=Path)
    parser.add_argument("--space", required=True)
    parser.add_argument("--held-out", type=int, default=300)
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument("--seeds", type=int, default=3,
                        help="fits per size (different initialisations and batch orders)")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    space = SPACES.get(args.space)
    entries = list(load_arch_file(args.measured, space).values())
    test, pool = entries[-args.held_out:], entries[:-args.held_out]
    sizes = [int(size) for size in args.sizes.split(",")]
    if max(sizes) > len(pool):
        raise SystemExit(f"{args.measured}: {len(pool)} archs besides the held-out {args.held_out}; "
                         f"largest size {max(sizes)} needs more")
    truth = np.array([entry.acc for entry in test])
    rows = []
    for size in sizes:
        taus, spearmans, rmses, fit_seconds, predict_seconds = [], [], [], [], []
        for seed in range(args.seeds):
            fit_set = pool[:size]
            start = time.perf_counter()
            predictor, _ = fit_predictor(space, [entry.spec for entry in fit_set], [entry.acc for entry in fit_set],
                                         FitCfg(epochs=args.epochs, val_fraction=0.0, seed=seed))
            fit_seconds.append(time.perf_counter() - start)
            start = time.perf_counter()
            pred = predictor.predict([entry.spec for entry in test])
            predict_seconds.append(time.perf_counter() - start)
            taus.append(float(stats.kendalltau(pred, truth).statistic))
            spearmans.append(float(stats.spearmanr(pred, truth).statistic))
            rmses.append(float(np.sqrt(np.mean((pred - truth) ** 2))))
        row = {"n": size, "kendall_tau_mean": float(np.mean(taus)), "kendall_tau_std": float(np.std(taus)),
               "kendall_taus": taus, "spearman_mean": float(np.mean(spearmans)), "rmse_mean": float(np.mean(rmses)),
               "fit_seconds_mean": float(np.mean(fit_seconds)),
               "predict_seconds_per_arch": float(np.mean(predict_seconds)) / len(test)}
        rows.append(row)
        print(f"N={size:5d}: tau {row['kendall_tau_mean']:.3f} ± {row['kendall_tau_std']:.3f} "
              f"(Spearman {row['spearman_mean']:.3f}, RMSE {row['rmse_mean']:.4f}) over {args.seeds} fits; "
              f"fit {row['fit_seconds_mean']:.1f} s, {row['predict_seconds_per_arch'] * 1e6:.0f} µs/arch to predict")
    result = {"space": args.space, "measured": args.measured.name, "held_out": len(test), "epochs": args.epochs,
              "seeds": args.seeds, "rows": rows, "machine": platform.processor() or platform.machine()}
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
