"""How well a latency table predicts end-to-end latency: 30 random subnets, predicted vs measured.

    OMP_NUM_THREADS=1 python benchmarks/bench_latency_table.py [--space resnet48_tiny] [--n 30] [--table FILE]

Builds the table (``hnas latency build`` settings: batch 1, 3 warm-up runs, median of 10) unless
``--table`` is given, then times each subnet's stand-alone network the same way and reports the
Pearson correlation, Kendall tau and mean absolute percentage error of the prediction. Writes
``benchmarks/results/bench_latency_table.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import paddle  # noqa: E402
from scipy import stats  # noqa: E402

from hnas.io.atomic import atomic_write_text  # noqa: E402
from hnas.proxies.latency import LatencyTable, build_table, time_layer, write_table  # noqa: E402
from hnas.search_spaces.spaces import SPACES  # noqa: E402

DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_latency_table.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="resnet48_tiny")
    parser.add_argument("--n", type=int, default=30, help="random subnets")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--table", type=Path, help="an existing table (default: build one into results/)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    paddle.set_device("cpu")
    space = SPACES.get(args.space)
    table_path = args.table or args.out.with_name(f"latency_table_{args.space}.json")
    if args.table is None:
        write_table(build_table(space, repeats=args.repeats), table_path)
    table = LatencyTable.load(table_path, space)
    rng = random.Random(args.seed)
    dist = space.distribution("uniform")
    rows = []
    for _ in range(args.n):
        spec = dist.sample(rng)
        net = space.build_standalone(spec)
        measured = time_layer(net, (space.in_channels, spec.resolution, spec.resolution), 1, 3, args.repeats)
        rows.append({"arch": space.encode(spec), "predicted_ms": table.predict(spec), "measured_ms": measured})
    predicted = np.array([r["predicted_ms"] for r in rows])
    measured = np.array([r["measured_ms"] for r in rows])
    result = {
        "benchmark": "bench_latency_table", "space": space.name, "n": args.n, "table": str(table_path),
        "table_header": table.header,
        "pearson": round(float(stats.pearsonr(predicted, measured)[0]), 4),
        "kendall_tau": round(float(stats.kendalltau(predicted, measured)[0]), 4),
        "mape_percent": round(float(np.mean(np.abs(predicted - measured) / measured) * 100), 2),
        "mean_ratio_predicted_to_measured": round(float(np.mean(predicted / measured)), 4),
        "rows": rows,
    }
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    print(f"{space.name}, {args.n} subnets: Pearson {result['pearson']}, Kendall tau {result['kendall_tau']}, "
          f"MAPE {result['mape_percent']} %, predicted/measured {result['mean_ratio_predicted_to_measured']}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
