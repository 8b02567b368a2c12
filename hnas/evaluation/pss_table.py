"""PSS-Net's end-of-training table: the max net, the top subnets of every pool, the min net.

After training, PSS-Net validates, per constraint type (cost metric), the largest subnet, the
top 5 of every bucket's pool (by score) and the smallest, each after BN recalibration, and
logs per bucket the best accuracy among the top 5 (``train.py`` ``validate``). hnas splits this
into existing steps:

1. :func:`table_archs`: the subnets to evaluate as an arch file (``hnas pools CKPT --archs-out``);
2. ``hnas eval`` on that file (BN recalibration, each subnet at its own resolution, resumable);
3. :func:`build_table` joins the accuracies with the pools and every subnet's cost, and
   :func:`render_markdown` / :func:`plot_table` write the table and the accuracy-vs-cost plot
   (``hnas pools CKPT --table SUBMISSION --out-dir DIR``).

Keys of the arch file: ``max``, ``min`` and ``<metric>@<bucket>#<rank>`` (rank 1 = best score).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from hnas.errors import HnasError
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.distributions import ANALYTIC_METRICS, cost_function

#: ``(metric, bucket, [(code, score), ...])`` per pool, best score first (``samplers.pss.top_subnets``).
PoolRows = Sequence[tuple[str, float, Sequence[tuple[str, float]]]]


def pool_key(metric: str, bucket: float, rank: int) -> str:
    return f"{metric}@{bucket:g}#{rank}"


def table_archs(rows: PoolRows, space: SearchSpace) -> dict[str, dict[str, Any]]:
    """The arch file to evaluate: the max net, every listed pool member, the min net (``acc`` 0.0)."""
    archs = {"max": {"acc": 0.0, "arch": space.encode(space.max_spec())}}
    for metric, bucket, subnets in rows:
        for rank, (code, _) in enumerate(subnets, start=1):
            archs[pool_key(metric, bucket, rank)] = {"acc": 0.0, "arch": code}
    archs["min"] = {"acc": 0.0, "arch": space.encode(space.min_spec())}
    return archs


@dataclass(frozen=True)
class TableRow:
    """One line of the table: the max net, a bucket (its best evaluated subnet) or the min net.

    Attributes:
        metric: the pool's cost metric.
        label: ``max net``, the bucket's value, or ``min net``.
        arch: the subnet shown (for a bucket: the most accurate of its evaluated top subnets).
        cost: its cost in ``metric`` (``nan`` for a metric without an analytic cost, e.g. latency).
        acc: its top-1 accuracy, a fraction.
        evaluated: subnets of the bucket evaluated (1 for max and min).
        mean_acc: their mean accuracy.
    """

    metric: str
    label: str
    arch: str
    cost: float
    acc: float
    evaluated: int
    mean_acc: float


def build_table(rows: PoolRows, accs: Mapping[str, float], space: SearchSpace) -> dict[str, list[TableRow]]:
    """Per metric: the max net, each bucket's best of its evaluated pool members, the min net.

    Args:
        rows: the pools (as for :func:`table_archs`).
        accs: ``{key: accuracy}`` of ``hnas eval``'s submission for the file of :func:`table_archs`.

    Raises:
        HnasError: the submission lacks the max or min net, or every member of some pool.
    """
    for key in ("max", "min"):
        if key not in accs:
            raise HnasError(f"the evaluated file has no {key!r} entry: evaluate the file of hnas pools --archs-out")
    table: dict[str, list[TableRow]] = {}
    for metric, bucket, subnets in rows:
        cost = cost_function(space, metric) if metric in ANALYTIC_METRICS else (lambda spec: math.nan)
        if metric not in table:
            table[metric] = [_single(metric, "max net", space, "max", accs, cost)]
        scored = [(accs[pool_key(metric, bucket, rank)], code) for rank, (code, _) in enumerate(subnets, start=1)
                  if pool_key(metric, bucket, rank) in accs]
        if subnets and not scored:
            raise HnasError(f"the evaluated file has none of the {len(subnets)} subnets of pool {metric} bucket "
                            f"{bucket:g}: evaluate the file of hnas pools --archs-out")
        if scored:
            best_acc, best_code = max(scored, key=lambda item: item[0])
            table[metric].append(TableRow(metric, f"{bucket:g}", best_code, cost(space.decode(best_code)), best_acc,
                                          len(scored), sum(acc for acc, _ in scored) / len(scored)))
    for metric, lines in table.items():
        cost = cost_function(space, metric) if metric in ANALYTIC_METRICS else (lambda spec: math.nan)
        lines.append(_single(metric, "min net", space, "min", accs, cost))
    return table


def _single(metric: str, label: str, space: SearchSpace, key: str, accs: Mapping[str, float], cost: Any) -> TableRow:
    spec = space.max_spec() if key == "max" else space.min_spec()
    return TableRow(metric, label, space.encode(spec), cost(spec), float(accs[key]), 1, float(accs[key]))


def cost_unit(lines: Sequence[TableRow]) -> tuple[float, str]:
    """``(1e6, "M")`` for costs in the millions (ImageNet spaces), else ``(1e3, "k")`` (tiny spaces)."""
    largest = max((row.cost for row in lines if not math.isnan(row.cost)), default=0.0)
    return (1e6, "M") if largest >= 1e6 else (1e3, "k")


def render_markdown(table: Mapping[str, Sequence[TableRow]]) -> str:
    """One markdown table per metric: subnet, cost, best top-1 of the bucket's evaluated members, their mean."""
    out = []
    for metric, lines in table.items():
        scale, unit = cost_unit(lines)
        out += [f"### {metric}", "",
                f"| subnet | {metric} ({unit}) | top-1 (%) | evaluated | mean top-1 (%) | arch |",
                "|---|---:|---:|---:|---:|---|"]
        for row in lines:
            label = row.label if row.label in ("max net", "min net") else f"bucket {float(row.label) / scale:g} {unit}"
            out.append(f"| {label} | {row.cost / scale:.2f} | {100 * row.acc:.2f} | {row.evaluated} | "
                       f"{100 * row.mean_acc:.2f} | `{row.arch}` |")
        out.append("")
    return "\n".join(out)


def table_json(table: Mapping[str, Sequence[TableRow]]) -> dict[str, list[dict[str, Any]]]:
    return {metric: [asdict(row) for row in lines] for metric, lines in table.items()}


def plot_table(table: Mapping[str, Sequence[TableRow]], path: Path, title: str = "") -> None:
    """Top-1 accuracy against cost, one panel per metric: bucket bests joined, max and min net marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(table), figsize=(6 * len(table), 4.2), squeeze=False)
    for axis, (metric, lines) in zip(axes[0], table.items()):
        scale, unit = cost_unit(lines)
        buckets = [row for row in lines if row.label not in ("max net", "min net")]
        axis.plot([row.cost / scale for row in buckets], [100 * row.acc for row in buckets], "o-", color="tab:blue",
                  label="best of each bucket's evaluated top subnets")
        axis.plot([row.cost / scale for row in buckets], [100 * row.mean_acc for row in buckets], ".--",
                  color="tab:gray", label="their mean")
        for row, marker, color in ((lines[0], "*", "tab:red"), (lines[-1], "v", "tab:green")):
            axis.plot([row.cost / scale], [100 * row.acc], marker, color=color, markersize=12, label=row.label)
        axis.set_xlabel(f"{metric} ({unit})")
        axis.set_ylabel("top-1 (%)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    partial = path.with_name(f".{path.name}.partial.png")  # written whole, then renamed into place
    figure.savefig(partial, dpi=110)
    plt.close(figure)
    partial.replace(path)
