"""Where the supernet training step's extra time goes where per-layer overhead dominates (2 x 64 px).

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_step_overhead.py [--batch 2] [--size 64] [--repeats 15] [--out FILE]

Networks: ResNet48 (space ``resnet48``), one fixed subnet (a seeded draw of the competition
distribution, as ``bench_vs_paddleslim.py``); hnas's supernet with the subnet applied and its
stand-alone export hold the same weights. Each training step (forward + cross-entropy, backward,
momentum update, gradient clear) is timed in three phases, hnas and stand-alone alternating in
one process, median of ``--repeats``. Also reported:

* ``slice_ms``: the weight slices one supernet forward takes (``leading_block`` of every active
  elastic conv at its active shape, with autograd), timed alone;
* the elements the optimizer updates: the supernet's used parameters at full size (inactive
  channels get zero gradients and momentum updates, by the documented optimizer contract) vs
  the stand-alone network's.

Writes a JSON summary (default ``benchmarks/results/bench_step_overhead.json``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import paddle  # noqa: E402
    import paddle.nn.functional as F  # noqa: E402

from hnas.io.atomic import atomic_write_text  # noqa: E402
from hnas.search_spaces.ops import ElasticConv2D, leading_block  # noqa: E402
from hnas.search_spaces.sampling import sample_codes  # noqa: E402
from hnas.search_spaces.spaces import SPACES  # noqa: E402

DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_step_overhead.json"
PHASES = ("forward", "backward", "optimizer")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args()


def phased_step(network: paddle.nn.Layer, images: paddle.Tensor, labels: paddle.Tensor) -> Callable[[], list[float]]:
    optimizer = paddle.optimizer.Momentum(learning_rate=1e-4, momentum=0.9, parameters=network.parameters())

    def step() -> list[float]:
        start = time.perf_counter()
        loss = F.cross_entropy(network(images), labels)
        float(loss)
        forward = time.perf_counter()
        loss.backward()
        backward = time.perf_counter()
        optimizer.step()
        optimizer.clear_grad(set_to_zero=False)
        done = time.perf_counter()
        return [forward - start, backward - forward, done - backward]

    return step


def slice_seconds(supernet: Any, images: paddle.Tensor) -> float:
    """The weight slices of one supernet forward, without the convolutions: each active conv's
    input width is recorded by a forward pre-hook, then only ``leading_block`` runs."""
    shapes: list[tuple[ElasticConv2D, int, int]] = []

    def record(layer: ElasticConv2D, inputs: tuple[Any, ...]) -> None:
        out = inputs[1] if len(inputs) > 1 and inputs[1] is not None else layer.max_out_channels
        shapes.append((layer, out, int(inputs[0].shape[1])))

    hooks = [layer.register_forward_pre_hook(record) for layer in supernet.sublayers()
             if isinstance(layer, ElasticConv2D)]
    with paddle.no_grad():
        supernet(images)
    for hook in hooks:
        hook.remove()
    start = time.perf_counter()
    blocks = [leading_block(layer.weight, (out, inp)) for layer, out, inp in shapes]
    sum(float(block.reshape([-1])[0]) for block in blocks[-1:])  # wait for the copies
    return time.perf_counter() - start


def main() -> None:
    args = parse_args()
    paddle.set_device("cpu")
    space = SPACES.get("resnet48")
    code = sample_codes(space, 1, seed=args.seed, distribution="competition")[0]
    paddle.seed(args.seed)
    spec = space.decode(code)
    supernet = space.build_supernet().apply(spec)
    supernet.train()
    standalone = supernet.export(spec)
    standalone.train()
    images = paddle.randn([args.batch, 3, args.size, args.size])
    labels = paddle.randint(0, space.num_classes, [args.batch])
    steps = {"hnas": phased_step(supernet, images, labels), "standalone": phased_step(standalone, images, labels)}
    for step in steps.values():
        for _ in range(2):
            step()
    times: dict[str, list[list[float]]] = {name: [] for name in steps}
    slices: list[float] = []
    for repeat in range(args.repeats):
        for name in (("hnas", "standalone") if repeat % 2 == 0 else ("standalone", "hnas")):
            times[name].append(steps[name]())
        slices.append(slice_seconds(supernet, images))
    median = {name: {phase: 1000 * statistics.median(t[i] for t in values) for i, phase in enumerate(PHASES)}
              for name, values in times.items()}
    total = {name: 1000 * statistics.median(sum(t) for t in values) for name, values in times.items()}
    used = sum(int(param.numel()) for param in supernet.used_parameters())
    alone = sum(int(param.numel()) for param in standalone.parameters() if not param.stop_gradient)
    summary = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "paddle": paddle.__version__,
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                    "note": "2-core shared CPU, no GPU; other jobs ran at the same time"},
        "arch": code, "batch": args.batch, "size": args.size, "repeats": args.repeats,
        "step_ms": {name: round(value, 1) for name, value in total.items()},
        "hnas_vs_standalone": round(total["hnas"] / total["standalone"], 3),
        "phase_ms": {name: {phase: round(value, 1) for phase, value in phases.items()}
                     for name, phases in median.items()},
        "slice_ms": round(1000 * statistics.median(slices), 1),
        "optimizer_elements": {"hnas_used_parameters_full_size": used, "standalone": alone,
                               "ratio": round(used / alone, 3)},
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
    }
    atomic_write_text(args.out, json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
