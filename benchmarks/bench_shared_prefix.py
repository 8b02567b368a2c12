"""Shared-prefix vs per-arch evaluation on a fixed sample of the real test file, side by side in one run.

Run from the repository root (single-threaded, as each ``eval_supernet.sh`` worker is)::

    OMP_NUM_THREADS=1 python benchmarks/bench_shared_prefix.py [--archs 2000] [--val-images 250]
        [--recal-batches 2] [--bn-recal reset] [--out FILE]

The sample keeps the test file's prefix structure: the distinct stem + stage-1 prefixes of the
45,000 archs are shuffled with a fixed seed and all archs of each are taken until ``--archs`` are
reached (a uniform sample of 2,000 archs would hold 675 prefixes, i.e. far less sharing than the
whole file's 1,080 prefixes for 45,000 archs). Space ``resnet48_tiny`` (the same 52-character
codes), an untrained seeded supernet (timing does not depend on the weights), embedded-MNIST
images in memory; defaults are the demo's evaluation settings (``make demo-eval``: 250 validation
images, BN recalibration over 2 batches of 64).

Timing: the archs are ordered group by group and cut into blocks of whole groups; each block is
evaluated by the real loop (:func:`hnas.evaluation.evaluate.evaluate_archs`, progress file
included) with ``shared_prefix=False`` and ``True`` in turn (the first path alternating between
blocks), so both paths see the same machine load. Equality: every arch's top-1, top-5 and loss
must be identical. Memory: each path evaluates the first ``--memory-archs`` archs in a fresh child
process, which reports its peak resident set size (VmHWM) and its RSS before the loop.

Writes a JSON summary (default ``benchmarks/results/bench_shared_prefix.json``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import paddle  # noqa: E402

from hnas.data.datasets import build_dataset  # noqa: E402
from hnas.evaluation.eval_data import EvalData, load_eval_data  # noqa: E402
from hnas.evaluation.evaluate import evaluate_archs  # noqa: E402
from hnas.evaluation.progress import ProgressLog  # noqa: E402
from hnas.io.atomic import atomic_write_text  # noqa: E402
from hnas.search_spaces.spaces import SPACES  # noqa: E402

DEFAULT_DATA = REPO / ".." / "shared" / "data" / "CVPR_2022_NAS_Track1_test.json"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_shared_prefix.json"
SPACE = "resnet48_tiny"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", type=int, default=2000, help="archs in the sample (whole prefix groups)")
    parser.add_argument("--val-images", type=int, default=250)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--bn-recal", choices=("reset", "none"), default="reset")
    parser.add_argument("--recal-batches", type=int, default=2)
    parser.add_argument("--recal-batch-size", type=int, default=64)
    parser.add_argument("--block", type=int, default=100, help="archs per timing block (whole groups)")
    parser.add_argument("--memory-archs", type=int, default=300, help="archs per path in the memory children")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--group-cap", type=int, help="take at most this many archs of each group (less sharing "
                        "than the file has: a conservative, shorter run)")
    parser.add_argument("--space", default=SPACE, help=f"a space reading the test file's codes (default {SPACE}); "
                        "other than the default, images are seeded random tensors at the space's resolution")
    parser.add_argument("--child", choices=("per_arch", "shared"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.out == DEFAULT_OUT and args.space != SPACE:
        args.out = DEFAULT_OUT.with_name(f"bench_shared_prefix_{args.space}.json")
    return args


def sample_groups(data: Path, count: int, space_name: str = SPACE, cap: int | None = None) -> list[list[str]]:
    """Whole prefix groups of the test file (archs in file order), in a seeded order, until ``count`` archs."""
    space = SPACES.get(space_name)
    groups: dict[Any, list[str]] = {}
    for entry in json.loads(data.read_text()).values():
        groups.setdefault(space.prefix_key(space.decode(entry["arch"])), []).append(entry["arch"])
    keys = list(groups)
    random.Random(0).shuffle(keys)
    chosen: list[list[str]] = []
    total = 0
    for key in keys:
        if total >= count:
            break
        chosen.append(groups[key][:cap])
        total += len(chosen[-1])
    return chosen


def blocks(groups: list[list[str]], size: int) -> list[list[str]]:
    """Consecutive whole groups of about ``size`` archs each."""
    out: list[list[str]] = [[]]
    for group in groups:
        if out[-1] and len(out[-1]) + len(group) > size:
            out.append([])
        out[-1].extend(group)
    return out


def proc_status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def random_data(args: argparse.Namespace) -> EvalData:
    """Seeded random images at the space's resolution (timing and equality do not depend on content)."""
    space = SPACES.get(args.space)
    size = space.resolutions[0]
    generator = np.random.default_rng(0)

    def images(count: int) -> paddle.Tensor:
        return paddle.to_tensor(generator.normal(size=(count, space.in_channels, size, size)).astype("float32"))

    sizes = [min(args.batch_size, args.val_images - start) for start in range(0, args.val_images, args.batch_size)]
    val = [(images(n), paddle.to_tensor(generator.integers(0, space.num_classes, n).astype("int64"))) for n in sizes]
    recal = [images(args.recal_batch_size) for _ in range(args.recal_batches)] if args.bn_recal == "reset" else []
    return EvalData(val=val, recal=recal, val_images=args.val_images)


def setup(args: argparse.Namespace) -> tuple[Any, Any]:
    paddle.set_device("cpu")
    if args.space != SPACE:
        paddle.seed(0)
        net = SPACES.get(args.space).build_supernet()
        net.eval()
        return net, random_data(args)
    recal = args.recal_batches if args.bn_recal == "reset" else 0
    data = load_eval_data(
        build_dataset("embedded_mnist", None, "val"),
        build_dataset("embedded_mnist", None, "train") if recal else None,
        args.val_images, recal, args.recal_batch_size, args.batch_size, seed=0,
    )
    paddle.seed(0)
    net = SPACES.get(SPACE).build_supernet()
    net.eval()
    return net, data


def run_block(net: Any, data: Any, codes: list[str], mode: str, shared: bool, path: Path) -> tuple[float, dict]:
    space = net.space
    archs = {f"arch{i}": (code, space.decode(code)) for i, code in enumerate(codes)}
    start = time.perf_counter()
    run = evaluate_archs(net, archs, data.val, data.recal, mode, ProgressLog(path, {}), shared_prefix=shared)
    return time.perf_counter() - start, run.results


def child(args: argparse.Namespace) -> None:
    """One path over the first ``--memory-archs`` archs; prints its memory figures as JSON."""
    groups = sample_groups(args.data, args.memory_archs, args.space, args.group_cap)
    codes = [code for group in groups for code in group][: args.memory_archs]
    net, data = setup(args)
    before = proc_status("VmRSS")
    with tempfile.TemporaryDirectory() as temp:
        seconds, _ = run_block(net, data, codes, args.bn_recal, args.child == "shared", Path(temp) / "p.jsonl")
    print(json.dumps({"archs": len(codes), "rss_mb_before_loop": round(before, 1),
                      "peak_rss_mb": round(proc_status("VmHWM"), 1), "seconds": round(seconds, 2)}))


def memory(args: argparse.Namespace, path: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", path, "--archs", str(args.archs), "--val-images",
               str(args.val_images), "--batch-size", str(args.batch_size), "--bn-recal", args.bn_recal,
               "--recal-batches", str(args.recal_batches), "--recal-batch-size", str(args.recal_batch_size),
               "--memory-archs", str(args.memory_archs), "--data", str(args.data), "--space", args.space,
               *(["--group-cap", str(args.group_cap)] if args.group_cap else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    if args.child:
        child(args)
        return
    if not args.data.is_file():
        sys.exit(f"bench_shared_prefix: error: the real test file {args.data} is absent (pass --data)")
    groups = sample_groups(args.data, args.archs, args.space, args.group_cap)
    codes = [code for group in groups for code in group]
    net, data = setup(args)
    times = {"per_arch": 0.0, "shared": 0.0}
    results: dict[str, dict] = {"per_arch": {}, "shared": {}}
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory() as temp:
        for number, block in enumerate(blocks(groups, args.block)):
            order = ("per_arch", "shared") if number % 2 == 0 else ("shared", "per_arch")
            for path in order:
                seconds, block_results = run_block(net, data, block, args.bn_recal, path == "shared",
                                                   Path(temp) / f"{path}{number}.jsonl")
                times[path] += seconds
                results[path].update({f"{number}:{key}": value for key, value in block_results.items()})
            print(f"block {number}: {len(block)} archs, per-arch {times['per_arch']:.1f} s, "
                  f"shared {times['shared']:.1f} s so far", flush=True)
    mismatched = [key for key in results["per_arch"] if results["per_arch"][key] != results["shared"].get(key)]
    summary: dict[str, Any] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "paddle": paddle.__version__,
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                    "note": "2-core shared CPU, no GPU; other jobs ran at the same time"},
        "space": args.space,
        "sample": {"archs": len(codes), "prefix_groups": len(groups), "source": str(args.data),
                   "rule": "whole stem + stage-1 prefix groups of the test file, seeded order",
                   "group_cap": args.group_cap},
        "settings": {"val_images": data.val_images, "batch_size": args.batch_size, "bn_recal": args.bn_recal,
                     "recal_images": len(data.recal) * args.recal_batch_size if data.recal else 0},
        "per_arch_s": round(times["per_arch"], 2),
        "shared_prefix_s": round(times["shared"], 2),
        "per_arch_archs_per_s": round(len(codes) / times["per_arch"], 2),
        "shared_prefix_archs_per_s": round(len(codes) / times["shared"], 2),
        "speedup": round(times["per_arch"] / times["shared"], 3),
        "identical_results": not mismatched and len(results["shared"]) == len(results["per_arch"]) == len(codes),
        "mismatched_archs": len(mismatched),
        "goal": "speedup >= 1.35 at identical results",
        "load_average_before": load_before,
        "load_average_after": Path("/proc/loadavg").read_text().split()[:3],
    }
    print(json.dumps(summary, indent=1), flush=True)
    summary["memory"] = {path: memory(args, path) for path in ("per_arch", "shared")}
    atomic_write_text(args.out, json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary["memory"], indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
