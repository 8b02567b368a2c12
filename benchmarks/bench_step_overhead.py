"""Where the supernet training step's extra time goes where per-layer overhead dominates (2 x 64 px).

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_step_overhead.py [--batch 2] [--size 64] [--repeats 15] [--out FILE]

Networks: ResNet48 (space ``resnet48``), one fixed subnet (a seeded draw of the competition
distribution, as ``bench_vs_paddleslim.py``); hnas's supernet with the subnet applied, once per
conv mode (``slice``, the default; ``auto``; ``pad``: ``ElasticSupernet.set_conv_mode``), and its
stand-alone export, all holding the same weights; one more plain network,
``standalone_full_width`` (the same depths at the largest widths), shows what computing with
full-size tensors costs. Each training step (forward + cross-entropy, backward, momentum update,
gradient clear) is timed in three phases, the five networks taking turns in one process (the
order rotates every round), median of ``--repeats``, as wall time and as the process's CPU time
(less sensitive to other jobs on a shared machine). Also reported:

* ``slice_ms``: the weight slices one supernet forward takes (``leading_block`` of every active
  elastic conv at its active shape, with autograd), timed alone;
* the elements the optimizer updates: the supernet's used parameters at full size (inactive
  channels get zero gradients and momentum updates, by the documented optimizer contract) vs
  the stand-alone network's;
* how equal the conv modes are: largest absolute difference of the logits and of every
  parameter gradient of one step from the same weights, ``auto`` and ``pad`` against ``slice``;
* ``one_conv``: forward + backward CPU time of one 512 x 512 x 3 x 3 conv at 384 -> 408 active
  channels, sliced vs zero-padded, for several batch sizes and image sides (the evidence for the
  ``auto`` rule: zero-pad at most 32 output positions).

Writes a JSON summary (default ``benchmarks/results/bench_step_overhead.json``).
"""

from __future__ import annotations

import argparse
import dataclasses
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

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import paddle  # noqa: E402
    import paddle.nn.functional as F  # noqa: E402

from hnas.io.atomic import atomic_write_text  # noqa: E402
from hnas.search_spaces.ops import CONV_MODES, ElasticConv2D, leading_block  # noqa: E402
from hnas.search_spaces.sampling import sample_codes  # noqa: E402
from hnas.search_spaces.spaces import SPACES  # noqa: E402

DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_step_overhead.json"
PHASES = ("forward", "backward", "optimizer")
MODES = ("slice", "auto", "pad")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args()


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def phased_step(network: paddle.nn.Layer, images: paddle.Tensor,
                labels: paddle.Tensor) -> Callable[[], list[tuple[float, float]]]:
    """One training step; returns ``(wall, cpu)`` seconds of forward, backward and optimizer."""
    optimizer = paddle.optimizer.Momentum(learning_rate=1e-4, momentum=0.9, parameters=network.parameters())

    def step() -> list[tuple[float, float]]:
        start = clocks()
        loss = F.cross_entropy(network(images), labels)
        float(loss)
        forward = clocks()
        loss.backward()
        backward = clocks()
        optimizer.step()
        optimizer.clear_grad(set_to_zero=False)
        done = clocks()
        marks = [start, forward, backward, done]
        return [(b[0] - a[0], b[1] - a[1]) for a, b in zip(marks, marks[1:])]

    return step


def mode_differences(supernets: dict[str, Any], images: paddle.Tensor, labels: paddle.Tensor) -> dict[str, Any]:
    """Largest absolute logit and gradient differences of one step, each mode against ``slice``."""
    results = {}
    for mode, net in supernets.items():
        logits = net(images)
        F.cross_entropy(logits, labels).backward()
        grads = {name: param.grad.numpy() for name, param in net.named_parameters() if param.grad is not None}
        net.clear_gradients(set_to_zero=False)
        results[mode] = (logits.numpy(), grads)
    reference_logits, reference_grads = results["slice"]
    out: dict[str, Any] = {"logits_max_abs": float(np.abs(reference_logits).max()),
                           "grad_max_abs": max(float(np.abs(g).max()) for g in reference_grads.values())}
    for mode, (logits, grads) in results.items():
        if mode == "slice":
            continue
        assert grads.keys() == reference_grads.keys()
        out[mode] = {"logits_max_abs_diff": float(np.abs(logits - reference_logits).max()),
                     "grad_max_abs_diff": max(float(np.abs(grads[k] - reference_grads[k]).max()) for k in grads),
                     "bitwise_equal": bool(np.array_equal(logits, reference_logits)
                                           and all(np.array_equal(grads[k], reference_grads[k]) for k in grads))}
    return out


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


ONE_CONV_CASES = ((2, 2), (2, 4), (4, 4), (8, 2), (2, 8), (16, 2), (2, 16))


def one_conv(repeats: int) -> list[dict[str, Any]]:
    """Median CPU ms of forward + backward of one conv, sliced and zero-padded, per (batch, side)."""
    conv = ElasticConv2D(512, 512, 3)
    rows = []
    for batch, side in ONE_CONV_CASES:
        x = paddle.randn([batch, 384, side, side])
        row: dict[str, Any] = {"batch": batch, "side": side, "output_positions": batch * side * side}
        for mode in ("slice", "pad"):
            conv.zero_pad_positions = CONV_MODES[mode]
            samples = []
            for _ in range(repeats + 1):  # the first is a warm-up
                start = time.process_time()
                conv(x, 408).sum().backward()
                conv.clear_gradients(set_to_zero=False)
                samples.append(time.process_time() - start)
            row[f"{mode}_cpu_ms"] = round(1000 * statistics.median(samples[1:]), 2)
        rows.append(row)
    return rows


def medians(values: list[list[tuple[float, float]]], clock: int) -> tuple[dict[str, float], float]:
    """Median ms of each phase and of the whole step, on the wall (0) or CPU (1) clock."""
    phases = {phase: 1000 * statistics.median(step[i][clock] for step in values) for i, phase in enumerate(PHASES)}
    return phases, 1000 * statistics.median(sum(part[clock] for part in step) for step in values)


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
    supernets = {"slice": supernet}
    for mode in MODES[1:]:
        twin = space.build_supernet()
        twin.set_state_dict(supernet.state_dict())
        supernets[mode] = twin.set_conv_mode(mode).apply(spec)
        supernets[mode].train()
    images = paddle.randn([args.batch, 3, args.size, args.size])
    labels = paddle.randint(0, space.num_classes, [args.batch])
    largest = space.max_spec()
    full_width = dataclasses.replace(spec, out_codes=largest.out_codes,
                                     mid_codes=tuple(codes[:depth] for codes, depth in zip(largest.mid_codes,
                                                                                             spec.depths)))
    standalone_full_width = supernet.export(full_width)
    standalone_full_width.train()
    differences = mode_differences(supernets, images, labels)
    names = {"hnas" if mode == "slice" else f"hnas_{mode}": net for mode, net in supernets.items()}
    plain = {"standalone": standalone, "standalone_full_width": standalone_full_width}
    steps = {name: phased_step(net, images, labels) for name, net in {**names, **plain}.items()}
    for step in steps.values():
        for _ in range(2):
            step()
    times: dict[str, list[list[tuple[float, float]]]] = {name: [] for name in steps}
    slices: list[float] = []
    order = list(steps)
    for repeat in range(args.repeats):
        for name in order[repeat % len(order):] + order[:repeat % len(order)]:
            times[name].append(steps[name]())
        slices.append(slice_seconds(supernet, images))
    wall = {name: medians(values, 0) for name, values in times.items()}
    cpu = {name: medians(values, 1) for name, values in times.items()}
    used = sum(int(param.numel()) for param in supernet.used_parameters())
    alone = sum(int(param.numel()) for param in standalone.parameters() if not param.stop_gradient)
    alone_full = sum(int(param.numel()) for param in standalone_full_width.parameters() if not param.stop_gradient)
    summary = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "paddle": paddle.__version__,
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                    "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},
                    "note": "2-core shared CPU, no GPU; other jobs ran at the same time"},
        "arch": code, "batch": args.batch, "size": args.size, "repeats": args.repeats,
        "step_ms": {name: round(total, 1) for name, (_, total) in wall.items()},
        "vs_standalone": {name: round(total / wall["standalone"][1], 3) for name, (_, total) in wall.items()},
        "cpu_step_ms": {name: round(total, 1) for name, (_, total) in cpu.items()},
        "cpu_vs_standalone": {name: round(total / cpu["standalone"][1], 3) for name, (_, total) in cpu.items()},
        "phase_ms": {name: {phase: round(value, 1) for phase, value in phases.items()}
                     for name, (phases, _) in wall.items()},
        "cpu_phase_ms": {name: {phase: round(value, 1) for phase, value in phases.items()}
                         for name, (phases, _) in cpu.items()},
        "slice_ms": round(1000 * statistics.median(slices), 1),
        "optimizer_elements": {"hnas_used_parameters_full_size": used, "standalone": alone,
                               "standalone_full_width": alone_full, "ratio": round(used / alone, 3)},
        "conv_modes_vs_slice": differences,
        "one_conv": one_conv(args.repeats),
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
    }
    atomic_write_text(args.out, json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
