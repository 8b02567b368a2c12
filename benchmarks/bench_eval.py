"""Evaluation throughput and overhead of ``hnas eval`` on the tiny space (untrained supernet).

Run from the repository root::

    python benchmarks/bench_eval.py [--archs 200] [--val-images 64] [--memory-archs 2000] [--parts abc] [--out FILE]

Archs are drawn with a fixed seed from the competition test file (``../shared/data``) when it
exists, else from the sampler's "competition" distribution; validation images are a seeded
subset of the embedded MNIST val split, held in memory.

(a) Overhead: the evaluation loop (``evaluate_archs``: apply, top-1/top-5, progress file,
    progress bar) over ``--archs`` archs, against the pure forward time of the same archs on
    the same images (only ``model(images)`` timed, under no_grad in eval mode). Measured for
    ``--bn-recal none`` and ``reset`` (whose pure forward time includes the recalibration
    forwards). Best of ``--repeats``. Goal: ratio <= 1.3.
(b) Parallelism: wall time of the evaluation loop over the same archs as 1 process with 2
    threads (and, for reference, 1 thread) vs 2 concurrent ``--shard i/2`` processes with 1
    thread each (``hnas eval`` subprocesses; loop times parsed from their output, process
    start-up reported apart). Goal: speed-up >= 1.6 on 2 cores. Needs both cores free: other
    load on the machine caps it.
(c) Memory: resident set size (VmRSS) after 100 archs and after ``--memory-archs`` archs of
    one evaluation loop. Goal: growth < 50 MB.

Writes a JSON summary (default ``benchmarks/results/bench_eval.json``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import paddle  # noqa: E402

from hnas.data.datasets import build_dataset  # noqa: E402
from hnas.evaluation.eval_data import load_eval_data  # noqa: E402
from hnas.evaluation.evaluate import evaluate_archs  # noqa: E402
from hnas.evaluation.progress import ProgressLog  # noqa: E402
from hnas.io.arch_space import space_of_file  # noqa: E402
from hnas.io.archs import load_arch_file  # noqa: E402
from hnas.io.atomic import atomic_write_text  # noqa: E402
from hnas.search_spaces.sampling import sample_codes  # noqa: E402
from hnas.search_spaces.spaces import SPACES  # noqa: E402

DEFAULT_DATA = REPO / ".." / "shared" / "data" / "CVPR_2022_NAS_Track1_test.json"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_eval.json"
SPACE = "resnet48_tiny"
DEFAULT_SPACE = SPACE


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", type=int, default=200, help="archs for (a) and (b)")
    parser.add_argument("--val-images", type=int, default=64, help="validation images per arch")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--recal-batches", type=int, default=2)
    parser.add_argument("--recal-batch-size", type=int, default=32)
    parser.add_argument("--memory-archs", type=int, default=2000, help="archs for (c)")
    parser.add_argument("--memory-val-images", type=int, default=32, help="validation images per arch in (c)")
    parser.add_argument("--repeats", type=int, default=2, help="repeats of (a); the best is kept")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--parts", default="abc", help="which measurements to run; others keep their old results")
    parser.add_argument("--space", default=SPACE, help=f"search space (default {SPACE}); the arch file is read "
                        "when its codes fit the space, other spaces sample their own codes")
    args = parser.parse_args()
    if args.out == DEFAULT_OUT and args.space != SPACE:
        args.out = DEFAULT_OUT.with_name(f"bench_eval_{args.space}.json")
    return args


def draw_codes(count: int, data: Path) -> list[str]:
    space = SPACES.get(SPACE)
    if data.is_file() and space.name in space_of_file(data, None).fitting:
        codes = [entry.arch for entry in load_arch_file(data, space).values()]
        return random.Random(0).sample(codes, count) if count <= len(codes) else codes
    return sample_codes(space, count, seed=0, distribution=_distribution(space))


def _distribution(space) -> str:
    """The test file's distribution where the space has it, else uniform."""
    return "competition" if "competition" in space.distribution_names() else "uniform"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_supernet() -> Any:
    paddle.seed(0)
    net = SPACES.get(SPACE).build_supernet()
    net.eval()
    return net


def pure_forward_seconds(net: Any, specs: list[Any], val: list[Any], recal: list[Any]) -> float:
    """Only the forward passes an evaluation performs, timed around ``model(images)``."""
    total = 0.0
    for spec in specs:
        net.apply(spec)
        if recal:
            net.train()
            with paddle.no_grad():
                for images in recal:
                    start = time.perf_counter()
                    net(images)
                    total += time.perf_counter() - start
            net.eval()
        with paddle.no_grad():
            for images, _ in val:
                start = time.perf_counter()
                logits = net(images)
                logits.numpy()  # wait for the result, as evaluation does once per arch
                total += time.perf_counter() - start
    return total


def overhead(args: argparse.Namespace, codes: list[str], mode: str, folder: Path) -> dict[str, Any]:
    space = SPACES.get(SPACE)
    archs = {f"arch{i}": (code, space.decode(code)) for i, code in enumerate(codes)}
    specs = [spec for _, spec in archs.values()]
    recal_batches = args.recal_batches if mode == "reset" else 0
    data = load_eval_data(
        build_dataset("embedded_mnist", None, "val"),
        build_dataset("embedded_mnist", None, "train") if recal_batches else None,
        args.val_images, recal_batches, args.recal_batch_size, args.batch_size, seed=0,
    )
    net = make_supernet()
    forward, loop = [], []
    for repeat in range(args.repeats):
        forward.append(pure_forward_seconds(net, specs, data.val, data.recal))
        log = ProgressLog(folder / f"a_{mode}_{repeat}.jsonl", {"mode": mode})
        run = evaluate_archs(net, archs, data.val, data.recal, mode, log)
        loop.append(run.seconds)
    best_forward, best_loop = min(forward), min(loop)
    return {
        "bn_recal": mode,
        "archs": len(codes),
        "val_images": data.val_images,
        "recal_images": recal_batches * args.recal_batch_size,
        "pure_forward_s": round(best_forward, 3),
        "eval_loop_s": round(best_loop, 3),
        "ratio": round(best_loop / best_forward, 3),
        "eval_archs_per_s": round(len(codes) / best_loop, 2),
        "all_runs": {"pure_forward_s": [round(v, 3) for v in forward], "eval_loop_s": [round(v, 3) for v in loop]},
        "goal": "ratio <= 1.3",
    }


LOOP_LINE = re.compile(r"evaluated (\d+) archs in ([\d.]+) s")


def hnas_eval(arch_file: Path, weights: Path, out: Path, threads: int, extra: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "hnas", "eval", str(arch_file), "--ckpt", str(weights), "--out", str(out), *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> float:
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"hnas eval failed:\n{stderr[-2000:]}")
    match = LOOP_LINE.search(stdout)
    if match is None:
        raise RuntimeError(f"no timing line in:\n{stdout}")
    return float(match.group(2))


def parallelism(args: argparse.Namespace, codes: list[str], folder: Path) -> dict[str, Any]:
    arch_file = folder / "b.json"
    arch_file.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": c} for i, c in enumerate(codes)}))
    weights = folder / "b.pdparams"
    paddle.save(make_supernet().state_dict(), str(weights))
    extra = ["--val-images", str(args.val_images), "--batch-size", str(args.batch_size), "--bn-recal", "none"]
    if SPACE != DEFAULT_SPACE:  # a plain state dict carries no space: name it in a config
        config = folder / "space.yaml"
        config.write_text(f"space:\n  name: {SPACE}\n")
        extra += ["--config", str(config)]
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    start = time.perf_counter()
    single_loop = finish(hnas_eval(arch_file, weights, folder / "single.json", 2, extra))
    single_wall = time.perf_counter() - start
    one_thread_loop = finish(hnas_eval(arch_file, weights, folder / "single1.json", 1, extra))
    start = time.perf_counter()
    out = folder / "sharded.json"
    workers = [hnas_eval(arch_file, weights, out, 1, [*extra, "--shard", f"{index}/2"]) for index in range(2)]
    shard_loops = [finish(worker) for worker in workers]
    sharded_wall = time.perf_counter() - start
    return {
        "archs": len(codes),
        "one_process_2_threads": {"loop_s": single_loop, "wall_s": round(single_wall, 2)},
        "one_process_1_thread": {"loop_s": one_thread_loop},
        "two_processes_1_thread": {"loop_s": shard_loops, "wall_s": round(sharded_wall, 2)},
        "speedup_loop": round(single_loop / max(shard_loops), 3),
        "speedup_loop_vs_1_thread": round(one_thread_loop / max(shard_loops), 3),
        "speedup_wall": round(single_wall / sharded_wall, 3),
        "goal": "speedup >= 1.6",
        "load_average_before": load_before,
        "load_average_after": Path("/proc/loadavg").read_text().split()[:3],
        "note": "wall includes process start-up (import paddle, data, weights) in both cases; other processes "
        "on the machine (load average) take cores away from the 2-process run",
    }


def memory(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    space = SPACES.get(SPACE)
    codes = sample_codes(space, args.memory_archs, seed=1, distribution=_distribution(space))
    archs = {f"arch{i}": (code, space.decode(code)) for i, code in enumerate(codes)}
    data = load_eval_data(
        build_dataset("embedded_mnist", None, "val"), None, args.memory_val_images, 0, 1, args.batch_size, seed=0
    )
    net = make_supernet()
    path = folder / "c.jsonl"
    first = min(100, len(archs))
    evaluate_archs(net, archs, data.val, [], "none", ProgressLog(path, {}), max_archs=first)
    after_first = rss_mb()
    run = evaluate_archs(net, archs, data.val, [], "none", ProgressLog(path, {}))
    after_all = rss_mb()
    return {
        "archs": len(archs),
        "val_images": data.val_images,
        f"rss_mb_after_{first}": round(after_first, 1),
        f"rss_mb_after_{len(archs)}": round(after_all, 1),
        "growth_mb": round(after_all - after_first, 1),
        "archs_per_s": round(run.rate, 2),
        "goal": "growth < 50 MB",
    }


def main() -> None:
    global SPACE
    args = parse_args()
    SPACE = args.space
    paddle.set_device("cpu")
    codes = draw_codes(args.archs, args.data)
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    results: dict[str, Any] = {
        **previous,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "paddle": paddle.__version__},
        "space": SPACE,
        "arch_source": str(args.data) if args.data.is_file() else "sampler (competition distribution)",
    }
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        if "a" in args.parts:
            results["a_overhead"] = [overhead(args, codes, mode, folder) for mode in ("none", "reset")]
            print(json.dumps(results["a_overhead"], indent=1), flush=True)
        if "b" in args.parts:
            results["b_parallel"] = parallelism(args, codes, folder)
            print(json.dumps(results["b_parallel"], indent=1), flush=True)
        if "c" in args.parts:
            results["c_memory"] = memory(args, folder)
            print(json.dumps(results["c_memory"], indent=1), flush=True)
    atomic_write_text(args.out, json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
