"""Wall time per image of DS-Net's dynamic network against static networks, in one run.

Run from the repository root on a stage II checkpoint (docs/systems/dsnet.md)::

    OMP_NUM_THREADS=1 python benchmarks/bench_dynamic.py --ckpt CKPT [--report DIR/results.json]
        [--images 512] [--batch-sizes 1 64] [--repeats 5] [--out FILE]

Networks, all in eval mode under ``no_grad`` on the same validation images of the run's data:

* ``dynamic``: the exported dynamic network (``ExportedDynamicNetwork``: the shared prefix once
  per batch, the gate, each group of images through its level's exported stand-alone network,
  the order restored), i.e. what a user deploys; ``dynamic_jit_graph``: its graph-friendly
  ``forward`` (what ``hnas dynamic-export`` traces: every level runs, on a possibly empty group)
  in eager mode; ``dynamic_gumbel``: the same with Gumbel-sampled
  routes (DS-Net's evaluation: a mixed batch, several groups); ``dynamic_supernet``: arg-max
  routing run through the supernet's sliced weights (``GatedNetwork.dynamic_forward``);
* ``static_same_accuracy``: the exported static width level with the smallest MAdds whose
  top-1 (from ``--report``, ``hnas dynamic-eval``'s results.json, or measured here) is at least
  the dynamic network's; ``static_widest_level``: the widest width level; ``static_largest``:
  the space's largest subnet (every slot at its widest).

``--space dsnet_mbv1 --route-share 0.79 0.03 0.03 0.15`` instead times DS-Net's full-size space at
224 px with untrained weights (wall time does not depend on them) and a fixed mix of routes (the
images of a batch assigned to the routed levels in those shares, e.g. the shares measured on the
embedded run): ``dynamic`` (grouped, exported levels) against ``static_widest_level`` and
``static_largest``; random images, ``--images`` of them.

Each (network, batch size) is timed over ``--images`` images (the last partial batch dropped),
``--repeats`` times, interleaved network by network so that load on the shared machine hits
all of them alike; the best repeat is reported as milliseconds per image, and the ratios
``static / dynamic`` come from that one run. Writes JSON (default
``benchmarks/results/bench_dynamic.json``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
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

from hnas.data import make_loader  # noqa: E402
from hnas.data.datasets import build_split  # noqa: E402
from hnas.dynamic.network import ExportedDynamicNetwork  # noqa: E402
from hnas.dynamic.report import dynamic_results, load_gated, same_accuracy_level  # noqa: E402


def _images(cfg: Any, count: int) -> paddle.Tensor:
    loader = make_loader(build_split(cfg.data, "val"), 250, shuffle=False)
    batches, total = [], 0
    for images, _ in loader:
        batches.append(images)
        total += int(images.shape[0])
        if total >= count:
            break
    return paddle.concat(batches)[:count]


def _time(run: Callable[[paddle.Tensor], Any], images: paddle.Tensor, batch: int) -> float:
    """Seconds per image of ``run`` over ``images`` in batches of ``batch``."""
    count = (int(images.shape[0]) // batch) * batch
    chunks = [images[start:start + batch] for start in range(0, count, batch)]
    with paddle.no_grad():
        run(chunks[0])  # warm-up: kernel selection, allocations
        started = time.perf_counter()
        for chunk in chunks:
            run(chunk)
        return (time.perf_counter() - started) / count


def _share_route(shares: list[float], batch: int) -> paddle.Tensor:
    """Routes of a batch with level ``k`` taking ``round(shares[k] * batch)`` images (the rest to level 0)."""
    counts = [round(share * batch) for share in shares]
    counts[0] = batch - sum(counts[1:])
    route = [level for level, count in enumerate(counts) for _ in range(max(count, 0))]
    return paddle.to_tensor(route[:batch], dtype="int64")


def full_size(args: argparse.Namespace) -> dict[str, Any]:
    """Timing of the untrained full-size space with a fixed route mix (see the module docstring)."""
    from hnas.dynamic.network import GatedNetwork, check_gate
    from hnas.search_spaces.spaces import SPACES

    space = SPACES.get(args.space).replace({"bn": "per_width"})
    levels = check_gate(space, space.gate_points()[0], len(args.route_share))
    gated = GatedNetwork(space.build_supernet(), levels, [space.flops(level, convention="macs") for level in levels],
                         space.gate_points()[0])
    gated.eval()
    exported = ExportedDynamicNetwork(gated)

    def dynamic(x: paddle.Tensor) -> Any:
        features, reduced = exported.prefix(x)
        exported.gate(reduced)  # the gate's cost; its route is replaced by the fixed mix
        return exported.run_routed(features, reduced, _share_route(args.route_share, int(x.shape[0])))

    def static(spec: Any) -> Any:
        net = gated.supernet.export(spec)
        net.eval()
        return net

    networks = {"dynamic": dynamic, "static_widest_level": static(space.width_levels()[-1]),
                "static_largest": static(space.max_spec())}
    resolution = levels[0].resolution
    images = paddle.randn([args.images, space.in_channels, resolution, resolution])
    level_madds = [space.flops(level, convention="macs") for level in levels]
    mean_madds = sum(share * madds for share, madds in zip(args.route_share, level_madds)) + gated.gate.madds()
    madds = {"dynamic": mean_madds, "static_widest_level": space.flops(space.width_levels()[-1], convention="macs"),
             "static_largest": space.flops(space.max_spec(), convention="macs")}
    return {"space": space.name, "route_share": args.route_share, "networks": networks, "madds": madds,
            "images": images}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", type=Path, help="stage II checkpoint folder")
    parser.add_argument("--report", type=Path, help="results.json of hnas dynamic-eval (else measured here)")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "bench_dynamic.json")
    parser.add_argument("--space", help="time this full-size space untrained with --route-share instead of --ckpt")
    parser.add_argument("--route-share", type=float, nargs="+", help="share of images per routed level")
    args = parser.parse_args()

    paddle.set_device("cpu")
    if args.space:
        run = full_size(args)
        timings = _timings(run["networks"], run["images"], args.batch_sizes, args.repeats)
        table = {str(batch): {"ms_per_image": {name: 1e3 * value for name, value in best.items()},
                              "speedup_vs_largest": best["static_largest"] / best["dynamic"],
                              "speedup_vs_widest_level": best["static_widest_level"] / best["dynamic"]}
                 for batch, best in timings.items()}
        _write(args, {"space": run["space"], "weights": "untrained (timing only)", "route_share": run["route_share"],
                      "images": int(run["images"].shape[0]), "repeats": args.repeats,
                      "madds_per_image": run["madds"], "batches": table})
        return
    results = json.loads(args.report.read_text()) if args.report else dynamic_results(args.ckpt)
    gated, cfg, folder = load_gated(args.ckpt)
    space = gated.supernet.space
    same = same_accuracy_level(results)
    levels = space.width_levels()

    def static(spec: Any) -> Any:
        gated.supernet.apply(spec)
        net = gated.supernet.export(spec)
        net.eval()
        return net

    exported = ExportedDynamicNetwork(gated)
    networks: dict[str, Callable[[paddle.Tensor], Any]] = {
        "dynamic": lambda x: exported.dynamic_forward(x)[0],
        "dynamic_jit_graph": exported,
        "dynamic_gumbel": lambda x: exported.dynamic_forward(x, noise=True)[0],
        "dynamic_supernet": lambda x: gated.dynamic_forward(x)[0],
        "static_same_accuracy": static(levels[same["level"]]),
        "static_widest_level": static(levels[-1]),
        "static_largest": static(space.max_spec()),
    }
    madds = {"dynamic": results["dynamic"]["mean_madds"] + results["dynamic"]["gate_madds"],
             "dynamic_jit_graph": results["dynamic"]["mean_madds"] + results["dynamic"]["gate_madds"],
             "dynamic_gumbel": results["dynamic_gumbel"]["mean_madds"] + results["dynamic"]["gate_madds"],
             "dynamic_supernet": results["dynamic"]["mean_madds"] + results["dynamic"]["gate_madds"],
             "static_same_accuracy": same["madds"], "static_widest_level": results["static"][-1]["madds"],
             "static_largest": space.flops(space.max_spec(), convention="macs")}
    images = _images(cfg, args.images)
    table = {}
    for batch, best in _timings(networks, images, args.batch_sizes, args.repeats).items():
        table[str(batch)] = {
            "ms_per_image": {name: 1e3 * value for name, value in best.items()},
            "speedup_vs_largest": best["static_largest"] / best["dynamic"],
            "speedup_vs_widest_level": best["static_widest_level"] / best["dynamic"],
            "speedup_vs_same_accuracy": best["static_same_accuracy"] / best["dynamic"],
            "gumbel_speedup_vs_largest": best["static_largest"] / best["dynamic_gumbel"],
            "gumbel_speedup_vs_widest_level": best["static_widest_level"] / best["dynamic_gumbel"],
        }
    _write(args, {
        "checkpoint": str(folder), "space": space.name,
        "images": int(images.shape[0]), "repeats": args.repeats,
        "accuracy": {"dynamic": results["dynamic"]["top1"], "dynamic_gumbel": results["dynamic_gumbel"]["top1"],
                     "static_same_accuracy": same["top1"],
                     "static_same_accuracy_level": same["level"], "static_widest_level": results["static"][-1]["top1"]},
        "route_share": results["dynamic"]["route_share"],
        "route_share_gumbel": results["dynamic_gumbel"]["route_share"], "madds_per_image": madds, "batches": table,
    })


def _timings(networks: dict[str, Callable[[paddle.Tensor], Any]], images: paddle.Tensor, batch_sizes: list[int],
             repeats: int) -> dict[int, dict[str, float]]:
    """Best seconds per image of every network at every batch size, repeats interleaved."""
    timings: dict[int, dict[str, list[float]]] = {batch: {name: [] for name in networks} for batch in batch_sizes}
    for _ in range(repeats):
        for batch in batch_sizes:
            for name, run in networks.items():
                timings[batch][name].append(_time(run, images, batch))
    return {batch: {name: min(values) for name, values in timings[batch].items()} for batch in batch_sizes}


def _write(args: argparse.Namespace, fields: dict[str, Any]) -> None:
    summary = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "OMP_NUM_THREADS=%s python benchmarks/bench_dynamic.py %s" % (
            os.environ.get("OMP_NUM_THREADS", "unset"), " ".join(sys.argv[1:])),
        "hardware": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared, no GPU)",
        "load_average": os.getloadavg(), "paddle": paddle.__version__, **fields,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
