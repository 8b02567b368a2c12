"""hnas's supernet vs PaddleSlim's OFA supernet vs the plain stand-alone network, one run, same weights.

Run from the repository root (needs the paddleslim extra)::

    OMP_NUM_THREADS=1 python benchmarks/bench_vs_paddleslim.py [--repeats 7] [--archs 4] [--conv-mode slice]
        [--out FILE]

Networks: ResNet48 (space ``resnet48``), one fixed subnet (``--arch``, default a seeded draw of the
competition distribution). hnas: ``space.build_supernet()`` with the subnet applied, in conv mode
``--conv-mode`` (``ElasticSupernet.set_conv_mode``; default ``slice``). PaddleSlim:
the baseline's ``Convert(supernet(expand_ratio=[1.0]))`` + ``OFA`` (paddleslim_ext/ofa.py), traced
through paddleslim_ext.compat, the subnet set with ``set_net_config`` at the same channel counts.
Stand-alone: ``supernet.export(spec)``. All three hold the same weights.

0. Check: the three give the same logits on one batch (training mode: batch statistics).
1. Training step (forward, cross-entropy, backward, momentum update, gradient clear) in two
   regimes, timed alternately in one process, median of ``--repeats``: conv-dominated (16 x 112 px)
   and overhead-dominated (2 x 64 px, per-layer Python overhead dominates, as on a fast GPU).
2. Per-arch evaluation: for ``--archs`` archs, activate (hnas ``apply``, OFA ``set_net_config``,
   stand-alone: ``export``) then score 4 batches of 16 x 64 px in eval mode; archs per second.
3. Peak RSS (``VmHWM``) of a child process that builds only one of the three and does 3
   training steps of the conv-dominated regime (measured first, while this process is small).

Writes a JSON summary (default ``benchmarks/results/bench_vs_paddleslim.json``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle.nn.functional as F  # noqa: E402

from hnas.engine.pretrained import hnas_to_paddleslim_key  # noqa: E402
from hnas.io.atomic import atomic_write_text  # noqa: E402
from hnas.search_spaces.ops import CONV_MODES  # noqa: E402
from hnas.search_spaces.sampling import sample_codes  # noqa: E402
from hnas.search_spaces.spaces import SPACES  # noqa: E402
from paddleslim_ext.compat import paddleslim_compat, paddleslim_version  # noqa: E402
from paddleslim_ext.ofa import build_ofa_supernet, ofa_net_config  # noqa: E402

DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_vs_paddleslim.json"
REGIMES = {"conv_dominated": (16, 112), "overhead_dominated": (2, 64)}
NETWORKS = ("hnas", "paddleslim", "standalone")
WARMUP_STEPS = 2
EVAL_BATCHES, EVAL_BATCH, EVAL_SIZE = 4, 16, 64


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", help="the fixed subnet (default: a seeded competition-distribution draw)")
    parser.add_argument("--repeats", type=int, default=7, help="timed training steps per network and regime")
    parser.add_argument("--archs", type=int, default=4, help="archs of the evaluation-throughput part")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conv-mode", choices=list(CONV_MODES), default="slice",
                        help="how hnas's elastic convs run a narrower width")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--memory-child", choices=NETWORKS, help=argparse.SUPPRESS)
    return parser.parse_args()


def build(space: Any, code: str, seed: int, trace_size: int, conv_mode: str) -> dict[str, Any]:
    """The three networks with the same weights, subnet ``code`` active, in training mode."""
    paddle.seed(seed)
    spec = space.decode(code)
    supernet = space.build_supernet().set_conv_mode(conv_mode)
    ofa = build_ofa_supernet(space)
    ofa.set_state_dict({hnas_to_paddleslim_key(key, space): value for key, value in supernet.state_dict().items()})
    ofa.train()
    with paddleslim_compat(), paddle.no_grad():  # OFA's first call traces the model (training mode)
        ofa(paddle.zeros([1, 3, trace_size, trace_size]))
    ofa.set_net_config(ofa_net_config(space, spec))
    supernet.apply(spec)
    standalone = supernet.export(spec)
    standalone.train()
    return {"hnas": supernet, "paddleslim": ofa, "standalone": standalone}


def logits_check(networks: dict[str, Any], images: paddle.Tensor) -> dict[str, float]:
    """Largest absolute logit difference of each supernet from the stand-alone network (batch statistics)."""
    with paddle.no_grad():
        outputs = {name: net(images).numpy() for name, net in networks.items()}
    scale = float(np.abs(outputs["standalone"]).max())
    return {f"{name}_max_abs_diff": float(np.abs(outputs[name] - outputs["standalone"]).max())
            for name in ("hnas", "paddleslim")} | {"logit_scale": scale}


def sgd_step(network: paddle.nn.Layer, images: paddle.Tensor, labels: paddle.Tensor) -> Callable[[], None]:
    optimizer = paddle.optimizer.Momentum(learning_rate=1e-4, momentum=0.9, parameters=network.parameters())

    def step() -> None:
        loss = F.cross_entropy(network(images), labels)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad(set_to_zero=False)
        float(loss)

    return step


def time_training(networks: dict[str, Any], batch: int, size: int, repeats: int) -> dict[str, Any]:
    images = paddle.randn([batch, 3, size, size])
    labels = paddle.randint(0, 1000, [batch])
    steps = {name: sgd_step(net, images, labels) for name, net in networks.items()}
    for step in steps.values():
        for _ in range(WARMUP_STEPS):
            step()
    times: dict[str, list[float]] = {name: [] for name in NETWORKS}
    for repeat in range(repeats):
        order = NETWORKS if repeat % 2 == 0 else tuple(reversed(NETWORKS))
        for name in order:
            started = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - started)
    median = {name: statistics.median(values) for name, values in times.items()}
    return {
        "batch": batch, "size": size,
        **{f"{name}_ms": 1000 * median[name] for name in NETWORKS},
        "hnas_vs_standalone": median["hnas"] / median["standalone"],
        "paddleslim_vs_standalone": median["paddleslim"] / median["standalone"],
        "hnas_vs_paddleslim": median["hnas"] / median["paddleslim"],
        **{f"{name}_ms_all": [round(1000 * value, 1) for value in times[name]] for name in NETWORKS},
    }


def time_evaluation(space: Any, networks: dict[str, Any], codes: list[str]) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    batches = [paddle.to_tensor(rng.standard_normal((EVAL_BATCH, 3, EVAL_SIZE, EVAL_SIZE)), "float32")
               for _ in range(EVAL_BATCHES)]
    supernet, ofa = networks["hnas"], networks["paddleslim"]
    supernet.eval()
    ofa.eval()

    def hnas_arch(spec: Any) -> None:
        supernet.apply(spec)
        for images in batches:
            supernet(images).numpy()

    def ofa_arch(spec: Any) -> None:
        ofa.set_net_config(ofa_net_config(space, spec))
        for images in batches:
            ofa(images).numpy()

    def standalone_arch(spec: Any) -> None:
        net = supernet.export(spec)
        for images in batches:
            net(images).numpy()

    runs = {"hnas": hnas_arch, "paddleslim": ofa_arch, "standalone": standalone_arch}
    seconds = {name: 0.0 for name in NETWORKS}
    with paddle.no_grad():
        runs["hnas"](space.decode(codes[0]))  # warm-up
        for index, code in enumerate(codes):
            spec = space.decode(code)
            for name in NETWORKS if index % 2 == 0 else tuple(reversed(NETWORKS)):
                started = time.perf_counter()
                runs[name](spec)
                seconds[name] += time.perf_counter() - started
    rates = {f"{name}_archs_per_s": len(codes) / seconds[name] for name in NETWORKS}
    return {"archs": len(codes), "images_per_arch": EVAL_BATCHES * EVAL_BATCH, "size": EVAL_SIZE, **rates,
            "hnas_vs_paddleslim_speed": rates["hnas_archs_per_s"] / rates["paddleslim_archs_per_s"]}


def memory_child(name: str, code: str, seed: int, conv_mode: str) -> None:
    """Child process: 3 conv-dominated training steps of network ``name`` only; prints its peak RSS in MiB."""
    space = SPACES.get("resnet48")
    spec = space.decode(code)
    batch, size = REGIMES["conv_dominated"]
    paddle.seed(seed)
    if name == "hnas":
        network = space.build_supernet().set_conv_mode(conv_mode).apply(spec)
    elif name == "standalone":
        network = space.build_standalone(spec)
    else:
        network = build_ofa_supernet(space)
        with paddleslim_compat(), paddle.no_grad():
            network(paddle.zeros([1, 3, size, size]))
        network.set_net_config(ofa_net_config(space, spec))
    network.train()
    step = sgd_step(network, paddle.randn([batch, 3, size, size]), paddle.randint(0, 1000, [batch]))
    for _ in range(3):
        step()
    print(json.dumps({"peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's peak resident set: ``VmHWM`` (reset by exec, unlike ``ru_maxrss``, which a
    child started from a large parent inherits), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory(code: str, seed: int, conv_mode: str) -> dict[str, float]:
    result = {}
    for name in NETWORKS:
        command = [sys.executable, __file__, "--memory-child", name, "--arch", code, "--seed", str(seed),
                   "--conv-mode", conv_mode]
        completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
        result[f"{name}_peak_rss_mib"] = json.loads(completed.stdout.strip().splitlines()[-1])["peak_rss_mib"]
    return result


def main() -> None:
    args = parse_args()
    paddle.set_device("cpu")
    space = SPACES.get("resnet48")
    code = args.arch or sample_codes(space, 1, seed=args.seed, distribution="competition")[0]
    if args.memory_child:
        memory_child(args.memory_child, code, args.seed, args.conv_mode)
        return
    memory = peak_memory(code, args.seed, args.conv_mode)
    print("peak RSS MiB: " + ", ".join(f"{key.split('_')[0]} {value:.0f}" for key, value in memory.items()))
    networks = build(space, code, args.seed, trace_size=64, conv_mode=args.conv_mode)
    check = logits_check(networks, paddle.randn([2, 3, 64, 64]))
    print(f"logits vs stand-alone: hnas {check['hnas_max_abs_diff']:.2e}, PaddleSlim "
          f"{check['paddleslim_max_abs_diff']:.2e} (logit scale {check['logit_scale']:.1f})")
    training = {}
    for regime, (batch, size) in REGIMES.items():
        for net in networks.values():
            net.train()
        row = time_training(networks, batch, size, args.repeats)
        training[regime] = row
        print(f"train {regime} {batch}x{size}: hnas {row['hnas_ms']:.1f} ms, PaddleSlim {row['paddleslim_ms']:.1f} ms, "
              f"stand-alone {row['standalone_ms']:.1f} ms; vs stand-alone hnas {row['hnas_vs_standalone']:.2f}x, "
              f"PaddleSlim {row['paddleslim_vs_standalone']:.2f}x; hnas/PaddleSlim {row['hnas_vs_paddleslim']:.2f}")
    codes = sample_codes(space, args.archs, seed=args.seed + 1, distribution="competition")
    evaluation = time_evaluation(space, networks, codes)
    print(f"eval archs/s: hnas {evaluation['hnas_archs_per_s']:.2f}, PaddleSlim "
          f"{evaluation['paddleslim_archs_per_s']:.2f}, stand-alone {evaluation['standalone_archs_per_s']:.2f}")
    summary = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(), "python": platform.python_version(),
        "paddle": paddle.__version__, "paddleslim": paddleslim_version(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "note": "CPU shared with other processes while measuring; timings are noisy",
        "arch": code, "conv_mode": args.conv_mode, "repeats": args.repeats, "logits_check": check, "training": training,
        "evaluation": evaluation, "memory": memory,
    }
    atomic_write_text(args.out, json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
