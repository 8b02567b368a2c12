"""The dynamic network next to the static width levels: accuracy against MAdds (``hnas dynamic-eval``).

For a stage II checkpoint: the top-1 and MAdds per image of every static width level (the
supernet's own subnets with their per-width BN statistics, no recalibration), and the top-1,
mean MAdds and route shares of the gated network's dynamic forward, on the whole validation
split of the run's data. Written as ``results.json``, ``table.md`` and ``curve.png``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import paddle

from hnas.checkpoints.folder import CONFIG_FILE, MODEL_FILE, read_meta, resolve_checkpoint
from hnas.checkpoints.space_record import read_space
from hnas.config import load_config
from hnas.data import make_loader
from hnas.data.datasets import build_split
from hnas.dynamic.network import GatedNetwork
from hnas.dynamic.stage2 import build_gated, evaluate_dynamic
from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text
from hnas.nn.state_dict import load_into, read_state_dict
from hnas.train_config import TrainConfig


def load_gated(checkpoint: str | os.PathLike[str]) -> tuple[GatedNetwork, TrainConfig, Path]:
    """The gated network of a stage II checkpoint (eval mode), its config and folder.

    Raises:
        HnasError: not a checkpoint, or one without a gate (a supernet of stage I).
    """
    folder = resolve_checkpoint(checkpoint, weights_only=True)
    cfg = load_config(folder / CONFIG_FILE, schema=TrainConfig)
    if cfg.gate is None:
        raise HnasError(f"checkpoint {folder} holds no gate (its config has no gate section): train stage II from "
                        "it with a gate config first (docs/systems/dsnet.md)")
    meta = read_meta(folder)
    space = read_space(meta, f"checkpoint {folder}")
    gated = build_gated(space, cfg)
    load_into(gated, read_state_dict(folder / MODEL_FILE, f"checkpoint {folder}"), source=f"checkpoint {folder}")
    gated.eval()
    return gated, cfg, folder


def static_accuracy(gated: GatedNetwork, batches: list[tuple[paddle.Tensor, paddle.Tensor]], level: Any) -> float:
    """Top-1 of one static subnet of the gated network's supernet (per-width statistics as stored)."""
    supernet = gated.supernet
    supernet.eval()
    supernet.apply(level)
    correct = total = 0
    with paddle.no_grad():
        for images, labels in batches:
            correct += int((supernet(images).numpy().argmax(axis=1) == labels.numpy().reshape(-1)).sum())
            total += int(images.shape[0])
    return correct / total


def dynamic_results(checkpoint: str | os.PathLike[str], batch_size: int = 250, seed: int = 0) -> dict[str, Any]:
    """Static levels and the dynamic network on the validation split (see the module docstring);
    ``dynamic_gumbel`` routes with Gumbel noise as DS-Net evaluates (``seed`` seeds it)."""
    gated, cfg, folder = load_gated(checkpoint)
    space = gated.supernet.space
    loader = make_loader(build_split(cfg.data, "val"), batch_size, shuffle=False)
    batches = [(images, labels) for images, labels in loader]
    static = []
    for index, level in enumerate(space.width_levels()):
        static.append({"level": index, "arch": space.encode(level), "routed": index < len(gated.levels),
                       "madds": space.flops(level, convention="macs"),
                       "top1": static_accuracy(gated, batches, level)})
    dynamic = evaluate_dynamic(gated, batches)
    paddle.seed(seed)
    sampled = evaluate_dynamic(gated, batches, noise=True)
    return {"checkpoint": str(folder), "space": space.name, "gate": dict(vars(cfg.gate)),
            "val_images": dynamic["images"], "static": static,
            "dynamic": {**dynamic, "gate_madds": gated.gate.madds()},
            "dynamic_gumbel": {**sampled, "gate_madds": gated.gate.madds(), "seed": seed}}


def same_accuracy_level(results: dict[str, Any]) -> dict[str, Any]:
    """The narrowest static level at least as accurate as the dynamic network (else the most accurate)."""
    static = results["static"]
    good = [row for row in static if row["top1"] >= results["dynamic"]["top1"]]
    return min(good, key=lambda row: row["madds"]) if good else max(static, key=lambda row: row["top1"])


def markdown_table(results: dict[str, Any]) -> str:
    lines = ["| network | arch | MAdds / image (M) | top-1 (%) |", "|---|---|---:|---:|"]
    for row in results["static"]:
        note = " (routed)" if row["routed"] else ""
        lines.append(f"| static level {row['level']}{note} | `{row['arch']}` | {row['madds'] / 1e6:.2f} | "
                     f"{100 * row['top1']:.2f} |")
    for key, name in (("dynamic", "**dynamic** (arg-max routing)"),
                      ("dynamic_gumbel", "dynamic, Gumbel-sampled routing (DS-Net's evaluation)")):
        row = results[key]
        shares = ", ".join(f"{100 * share:.1f}" for share in row["route_share"])
        lines.append(f"| {name}; % of images per level: {shares} | - | {row['mean_madds'] / 1e6:.2f} | "
                     f"{100 * row['top1']:.2f} |")
    return "\n".join(lines) + "\n"


def plot_curve(results: dict[str, Any], path: Path) -> Path:
    """Accuracy against MAdds: the static levels as a line, the dynamic network as a star."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    static = results["static"]
    figure, axes = plt.subplots(figsize=(5.5, 4))
    axes.plot([row["madds"] / 1e6 for row in static], [100 * row["top1"] for row in static], "o-",
              label="static width levels")
    for key, marker, label in (("dynamic", "*", "dynamic (arg-max routing)"),
                               ("dynamic_gumbel", "P", "dynamic (Gumbel-sampled routing)")):
        axes.plot([results[key]["mean_madds"] / 1e6], [100 * results[key]["top1"]], marker, markersize=12,
                  label=label)
    axes.set_xlabel("MAdds per image (M)")
    axes.set_ylabel("top-1 (%)")
    axes.set_title(f"{results['space']}: {results['val_images']} val images")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}.png")
    figure.savefig(temp, dpi=120)
    plt.close(figure)
    os.replace(temp, path)
    return path


def write_dynamic_report(results: dict[str, Any], out: Path) -> list[Path]:
    """``results.json``, ``table.md`` and ``curve.png`` in ``out`` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "results.json", json.dumps(results, indent=1, default=_plain) + "\n")
    atomic_write_text(out / "table.md", markdown_table(results))
    return [out / "results.json", out / "table.md", plot_curve(results, out / "curve.png")]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
