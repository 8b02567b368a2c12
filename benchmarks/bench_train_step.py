"""Supernet training step vs the same subnet as a plain stand-alone network, and peak memory.

Run from the repository root::

    python benchmarks/bench_train_step.py [--space resnet48_tiny] [--batch 64] [--repeats 12]
        [--random-subnets 2] [--memory-steps 20] [--conv-mode slice] [--out FILE]

1. Step time: for the largest, the smallest and ``--random-subnets`` random subnets, one SGD
   training step (forward, cross-entropy, backward, momentum update, gradient clear) of
   the supernet with that subnet applied, against the same subnet exported as a stand-alone
   network (``supernet.export``: same widths, same weights), same batch. The two are
   timed alternately in one process so that load from other processes hits both alike;
   the median of ``--repeats`` steps is reported and the goal is a ratio <= 1.15. The supernet's
   convs run in ``--conv-mode`` (``ElasticSupernet.set_conv_mode``; default ``slice``).
2. Peak memory: ``ru_maxrss`` of a child process running ``hnas train`` with the embedded
   default config for ``--memory-steps`` steps (0 skips this part).

Writes a JSON summary (default ``benchmarks/results/bench_train_step.json``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import paddle  # noqa: E402
import paddle.nn.functional as F  # noqa: E402

from hnas.io.atomic import atomic_write_text  # noqa: E402
from hnas.search_spaces.ops import CONV_MODES  # noqa: E402
from hnas.search_spaces.sampling import sample_spec  # noqa: E402
from hnas.search_spaces.spaces import SPACES  # noqa: E402

DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_train_step.json"
RATIO_GOAL = 1.15
WARMUP_STEPS = 2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="resnet48_tiny", help="search space name")
    parser.add_argument("--batch", type=int, default=64, help="images per step")
    parser.add_argument("--repeats", type=int, default=12, help="timed steps per network and subnet")
    parser.add_argument("--random-subnets", type=int, default=2, help="random subnets besides max and min")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random subnets and the batch")
    parser.add_argument("--memory-steps", type=int, default=20,
                        help="steps of the embedded-default run whose peak memory is measured (0 = skip)")
    parser.add_argument("--conv-mode", choices=list(CONV_MODES), default="slice",
                        help="how the supernet's elastic convs run a narrower width")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args()
    if args.out == DEFAULT_OUT and args.space != "resnet48_tiny":
        args.out = DEFAULT_OUT.with_name(f"bench_train_step_{args.space}.json")
    return args


def _sgd_step(network: paddle.nn.Layer, optimizer: paddle.optimizer.Optimizer,
              images: paddle.Tensor, labels: paddle.Tensor) -> Callable[[], None]:
    def step() -> None:
        loss = F.cross_entropy(network(images), labels)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad(set_to_zero=False)
        float(loss)  # wait for the step to finish

    return step


def _timed(step: Callable[[], None]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def compare_subnet(supernet: Any, spec: Any, images: paddle.Tensor,
                   labels: paddle.Tensor, repeats: int) -> dict[str, Any]:
    """Median step times of the supernet (``spec`` applied) and of ``export(spec)``."""
    supernet.apply(spec)
    supernet.train()
    standalone = supernet.export(spec)
    standalone.train()
    steps = {}
    for name, network in (("supernet", supernet), ("standalone", standalone)):
        optimizer = paddle.optimizer.Momentum(learning_rate=1e-3, momentum=0.9, parameters=network.parameters())
        steps[name] = _sgd_step(network, optimizer, images, labels)
        for _ in range(WARMUP_STEPS):
            steps[name]()
    times: dict[str, list[float]] = {"supernet": [], "standalone": []}
    for repeat in range(repeats):
        order = ("supernet", "standalone") if repeat % 2 == 0 else ("standalone", "supernet")
        for name in order:
            times[name].append(_timed(steps[name]))
    median = {name: statistics.median(values) for name, values in times.items()}
    return {
        "arch": supernet.space.encode(spec),
        "supernet_ms": 1000 * median["supernet"],
        "standalone_ms": 1000 * median["standalone"],
        "ratio": median["supernet"] / median["standalone"],
        "supernet_ms_all": [round(1000 * value, 2) for value in times["supernet"]],
        "standalone_ms_all": [round(1000 * value, 2) for value in times["standalone"]],
    }


def peak_memory_of_training(steps: int) -> dict[str, Any]:
    """Run the embedded default for ``steps`` steps in a child process; its ``ru_maxrss`` in MiB."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "hnas", "train", "--config", str(REPO / "configs" / "embedded.yaml"),
                   f"max_steps={steps}", f"checkpoint.dir={folder}", "log.visualdl=false"]
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"training run failed:\n{completed.stderr[-3000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"steps": steps, "peak_rss_mib": usage.ru_maxrss / 1024, "seconds": seconds,
            "command": " ".join(command[1:])}


def main() -> None:
    args = parse_args()
    paddle.set_device("cpu")
    paddle.seed(args.seed)
    space = SPACES.get(args.space)
    rng = random.Random(args.seed)
    specs = [space.max_spec(), space.min_spec()] + [sample_spec(space, rng) for _ in range(args.random_subnets)]
    images = paddle.randn([args.batch, space.in_channels, space.resolutions[0], space.resolutions[0]])
    labels = paddle.randint(0, space.num_classes, [args.batch])
    supernet = space.build_supernet().set_conv_mode(args.conv_mode)
    rows = []
    for spec in specs:
        row = compare_subnet(supernet, spec, images, labels, args.repeats)
        rows.append(row)
        print(f"{row['arch']}  supernet {row['supernet_ms']:8.1f} ms  stand-alone {row['standalone_ms']:8.1f} ms"
              f"  ratio {row['ratio']:.3f}")
    ratios = [row["ratio"] for row in rows]
    summary: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "paddle": paddle.__version__,
        "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "note": "CPU shared with other processes while measuring; timings are noisy",
        "space": args.space,
        "batch": args.batch,
        "conv_mode": args.conv_mode,
        "repeats": args.repeats,
        "subnets": rows,
        "ratio_median": statistics.median(ratios),
        "ratio_max": max(ratios),
        "goal": RATIO_GOAL,
        "meets_goal": statistics.median(ratios) <= RATIO_GOAL,
    }
    print(f"median ratio {summary['ratio_median']:.3f} (goal <= {RATIO_GOAL}), max {summary['ratio_max']:.3f}")
    if args.memory_steps > 0:
        summary["memory"] = peak_memory_of_training(args.memory_steps)
        print(f"peak RSS of {args.memory_steps} embedded-default steps: {summary['memory']['peak_rss_mib']:.0f} MiB")
    atomic_write_text(args.out, json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
