"""Analytic FLOPs vs ``paddle.flops``: speed on all competition archs and exactness on a sample.

Run from the repository root::

    python benchmarks/bench_flops.py [--out FILE] [--data FILE] [--n-compare 20] [--seed 0]

1. Analytic FLOPs (paddle convention, 224 px) of every arch of the test file: time, archs/s.
2. On ``--n-compare`` archs drawn from the file with ``--seed``: analytic FLOPs and params vs
   ``paddle.flops`` and the parameter sum of the built stand-alone network, which must be equal
   for every arch, and the time ratio of FLOPs alone. The headline analytic time is each
   arch's first ``count_flops`` call in a fresh process (memo caches cold; a warm median of
   repeats is reported too); the paddle side is timed as ``paddle.flops`` alone and as
   building the network plus ``paddle.flops``.

Writes a JSON summary (default ``benchmarks/results/bench_flops.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import io
import json
import os
import platform
import random
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import paddle  # noqa: E402

from hnas.io.archs import ArchEntry, entries_from_codes, load_arch_file  # noqa: E402
from hnas.io.atomic import atomic_write_text  # noqa: E402
from hnas.proxies.flops import count_flops, count_params  # noqa: E402
from hnas.search_spaces.base import SearchSpace  # noqa: E402
from hnas.search_spaces.sampling import sample_codes  # noqa: E402
from hnas.search_spaces.spaces import SPACES  # noqa: E402

DEFAULT_DATA = REPO / ".." / "shared" / "data" / "CVPR_2022_NAS_Track1_test.json"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_flops.json"
SPEEDUP_GOAL = 1000.0
WARM_REPEATS = 5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="competition-format arch file")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--n-compare", type=int, default=20, help="archs compared with paddle.flops")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw of compared archs")
    parser.add_argument("--space", default="resnet48", help="search space (default resnet48: the arch file's codes; "
                        "other spaces draw --n-archs uniform codes of their own)")
    parser.add_argument("--n-archs", type=int, default=45_000, help="archs drawn for a space other than resnet48")
    args = parser.parse_args()
    if args.out == DEFAULT_OUT and args.space != "resnet48":
        args.out = DEFAULT_OUT.with_name(f"bench_flops_{args.space}.json")
    return args


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Keep garbage collection out of microsecond timings (as ``timeit`` does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def time_analytic(space: SearchSpace, spec: Any) -> tuple[int, float, float]:
    """FLOPs of ``spec``, the time of the first call and the median of warm repeats."""
    with gc_paused():
        start = time.perf_counter()
        flops = count_flops(space, spec)
        first = time.perf_counter() - start
        repeats = []
        for _ in range(WARM_REPEATS):
            start = time.perf_counter()
            count_flops(space, spec)
            repeats.append(time.perf_counter() - start)
    return flops, first, statistics.median(repeats)


def time_paddle(space: SearchSpace, spec: Any) -> tuple[int, int, float, float]:
    """``paddle.flops`` and parameter sum of the built network, build time and flops time."""
    resolution = space.resolutions[0]
    start = time.perf_counter()
    model = space.build_standalone(spec)
    build_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flops = int(paddle.flops(model, [1, space.in_channels, resolution, resolution]))
    flops_seconds = time.perf_counter() - start
    params = sum(int(parameter.numel()) for parameter in model.parameters())
    return flops, params, build_seconds, flops_seconds


def time_compare(space: SearchSpace, entries: list[ArchEntry]) -> dict[str, Any]:
    """Analytic vs paddle FLOPs and params on ``entries``: equality and per-arch times."""
    rows = []
    for entry in entries:
        flops, first_seconds, warm_seconds = time_analytic(space, entry.spec)
        paddle_flops, paddle_params, build_seconds, flops_seconds = time_paddle(space, entry.spec)
        rows.append(
            {
                "key": entry.key,
                "arch": entry.arch,
                "flops": flops,
                "paddle_flops": paddle_flops,
                "params": count_params(space, entry.spec),
                "paddle_params": paddle_params,
                "analytic_first_call_seconds": first_seconds,
                "analytic_warm_seconds": warm_seconds,
                "build_seconds": build_seconds,
                "paddle_flops_seconds": flops_seconds,
            }
        )
    analytic = sum(row["analytic_first_call_seconds"] for row in rows)
    analytic_warm = sum(row["analytic_warm_seconds"] for row in rows)
    paddle_only = sum(row["paddle_flops_seconds"] for row in rows)
    build_and_flops = paddle_only + sum(row["build_seconds"] for row in rows)
    mismatches = [
        row["key"] for row in rows if row["flops"] != row["paddle_flops"] or row["params"] != row["paddle_params"]
    ]
    return {
        "n": len(rows),
        "exact": not mismatches,
        "mismatches": mismatches,
        "analytic_seconds": analytic,
        "analytic_warm_seconds": analytic_warm,
        "paddle_flops_seconds": paddle_only,
        "paddle_build_and_flops_seconds": build_and_flops,
        "speedup_vs_paddle_flops": paddle_only / analytic,
        "speedup_vs_build_and_paddle_flops": build_and_flops / analytic,
        "speedup_warm_vs_paddle_flops": paddle_only / analytic_warm,
        "archs": rows,
    }


def time_all(space: SearchSpace, entries: list[ArchEntry]) -> dict[str, Any]:
    """Analytic FLOPs of every entry, from parsed specs and from the code strings."""
    start = time.perf_counter()
    flops = [count_flops(space, entry.spec) for entry in entries]
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    from_codes = [count_flops(space, space.decode(entry.arch)) for entry in entries]
    seconds_with_decode = time.perf_counter() - start
    assert from_codes == flops
    return {
        "n": len(entries),
        "seconds": seconds,
        "archs_per_second": len(entries) / seconds,
        "seconds_with_decode": seconds_with_decode,
        "archs_per_second_with_decode": len(entries) / seconds_with_decode,
        "flops_min": min(flops),
        "flops_max": max(flops),
    }


def environment() -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "paddle": paddle.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }


def print_summary(results: dict[str, Any]) -> None:
    every, compare = results["all_archs"], results["compare"]
    print(f"analytic FLOPs, {every['n']} archs: {every['seconds']:.3f} s ({every['archs_per_second']:,.0f} archs/s); "
          f"with decoding: {every['seconds_with_decode']:.3f} s ({every['archs_per_second_with_decode']:,.0f} archs/s)")
    print(f"{compare['n']} archs vs paddle.flops: exact={compare['exact']} "
          f"(mismatches: {compare['mismatches'] or 'none'})")
    print(f"  analytic {compare['analytic_seconds'] * 1e3:.2f} ms "
          f"(warm {compare['analytic_warm_seconds'] * 1e3:.2f} ms), "
          f"paddle.flops {compare['paddle_flops_seconds']:.2f} s, "
          f"build + paddle.flops {compare['paddle_build_and_flops_seconds']:.2f} s")
    print(f"  speed-up: {compare['speedup_vs_paddle_flops']:,.0f}x vs paddle.flops, "
          f"{compare['speedup_vs_build_and_paddle_flops']:,.0f}x vs build + paddle.flops, "
          f"{compare['speedup_warm_vs_paddle_flops']:,.0f}x warm vs paddle.flops "
          f"(goal >= {SPEEDUP_GOAL:,.0f}x: {'met' if results['goal_met'] else 'NOT met'})")


def main() -> int:
    args = parse_args()
    paddle.set_device("cpu")
    space = SPACES.get(args.space)
    if args.space == "resnet48":
        entries = list(load_arch_file(args.data, space).values())
    else:
        entries = list(entries_from_codes(sample_codes(space, args.n_archs, seed=args.seed), space).values())
    sample = random.Random(args.seed).sample(entries, args.n_compare)
    # The comparison runs first so that its analytic calls find the memo caches empty.
    compare = time_compare(space, sample)
    every = time_all(space, entries)
    results = {
        "benchmark": "bench_flops",
        "data": str(args.data),
        "space": space.name,
        "resolution": space.resolutions[0],
        "convention": "paddle",
        "seed": args.seed,
        "environment": environment(),
        "all_archs": every,
        "compare": compare,
        "speedup_goal": SPEEDUP_GOAL,
        "goal_met": compare["exact"] and compare["speedup_vs_paddle_flops"] >= SPEEDUP_GOAL,
    }
    print_summary(results)
    atomic_write_text(args.out, json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0 if compare["exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
