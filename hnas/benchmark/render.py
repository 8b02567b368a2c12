"""Writing a :class:`~hnas.benchmark.report.Report`: Markdown table, JSON figures and PNG plots.

Outputs in ``out_dir`` (all written atomically):

* ``report.md``: one row per method (Kendall tau, Pearson, Spearman as mean +- std over seeds,
  top-k precisions, tau as a fraction of the noise ceiling, wall time), with the ground
  truth's noise ceiling, what that ground truth measures (so what the report is for), which
  differences exceed the seed spread, and the command line that produced it;
* ``report.json``: the same figures per run, machine-readable;
* ``tau.png``: Kendall tau per method with the noise ceiling and 0.9 x ceiling as lines;
* ``tau_vs_time.png``: each supernet method's mean tau (± std over seeds) against its wall
  time per run: what a point of fidelity costs;
* ``best_supernet.png``: predicted vs true accuracy of the best supernet's first seed (the
  best method of any kind when no supernet was run).
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

from hnas.benchmark.report import MethodScore, Report, beyond_seed_spread
from hnas.evaluation.ranking import scatter_plot
from hnas.evaluation.reporter import format_duration
from hnas.io.atomic import atomic_write_bytes, atomic_write_text

REPORT_MD = "report.md"
REPORT_JSON = "report.json"
TAU_PNG = "tau.png"
COST_PNG = "tau_vs_time.png"
SCATTER_PNG = "best_supernet.png"

#: Every file :func:`write_report` may write (checked against overwriting before any work).
OUTPUT_FILES = (REPORT_MD, REPORT_JSON, TAU_PNG, COST_PNG, SCATTER_PNG)

#: Fraction of the noise ceiling drawn as a dashed reference line in ``tau.png``.
CEILING_GOAL = 0.9

#: Kendall tau of the depth and FLOPs priors against 30 real stand-alone ImageNet accuracies of
#: competition archs published by another team: on the real task deeper (and bigger) is better.
#: Quoted in every report header, next to the depth prior's tau on the report's own ground truth.
IMAGENET_DEPTH_TAU = 0.64
IMAGENET_FLOPS_TAU = 0.59


def _pm(mean: float, std: float, runs: int) -> str:
    if not math.isfinite(mean):
        return "n/a"
    return f"{mean:.3f} ± {std:.3f}" if runs > 1 else f"{mean:.3f}"


def _row(score: MethodScore, ceiling: float) -> str:
    runs = len(score.runs)
    tau, tau_std = score.mean_std("kendall_tau")
    cells = [
        f"`{score.method.name}`",
        "prior" if score.method.is_prior else f"supernet ×{runs}",
        _pm(tau, tau_std, runs),
        _pm(*score.mean_std("pearson"), runs),
        _pm(*score.mean_std("spearman"), runs),
    ]
    cells += [f"{score.top_k_mean(index):.2f}" for index in range(len(score.runs[0].metrics.top_k))]
    cells.append(f"{tau / ceiling:.2f}" if ceiling > 0 and math.isfinite(tau) else "n/a")
    cells.append("–" if score.mean_acc is None else f"{100 * score.mean_acc:.1f} %")
    resumed = any(run.resumed for run in score.runs)
    cells.append(format_duration(score.seconds) + (" (resumed)" if resumed else ""))
    cells.append(score.method.description)
    return "| " + " | ".join(cells) + " |"


def markdown_table(report: Report) -> str:
    """The method table with its header lines."""
    truth = report.truth
    noise = truth.noise
    first = report.scores[0].runs[0].metrics if report.scores else None
    top_k_labels = [f"P@{item.label}" for item in first.top_k] if first else []
    header = ["method", "kind", "Kendall τ", "Pearson", "Spearman", *top_k_labels, "τ / ceiling",
              "mean top-1 in supernet", "time / run", "what"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [_row(score, noise.kendall_tau) for score in report.scores]
    return "\n".join(lines)


def _ranked_supernets(report: Report) -> list[MethodScore]:
    supernets = [score for score in report.scores if not score.method.is_prior]
    return sorted(supernets, key=lambda score: -_finite_or_low(score.mean_std("kendall_tau")[0]))


def _finite_or_low(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def verdict(report: Report) -> str:
    """The best supernet, whether its lead is beyond the seed spread, and the best prior."""
    best = report.best_supernet()
    if best is None:
        return "No supernet was run."
    ceiling = report.truth.noise.kendall_tau
    tau, std = best.mean_std("kendall_tau")
    runs = len(best.runs)
    parts = [f"Best supernet: `{best.method.name}`, τ {_pm(tau, std, runs)} = {tau / ceiling:.2f} × the noise "
             f"ceiling ({ceiling:.3f})."]
    ranked = _ranked_supernets(report)
    if len(ranked) > 1:
        second = ranked[1]
        apart = beyond_seed_spread(best, second)
        if apart is None:
            parts.append(f"With one seed its lead over `{second.method.name}` cannot be told from seed noise.")
        else:
            relation = "beyond" if apart else "within"
            second_tau = _pm(*second.mean_std("kendall_tau"), len(second.runs))
            parts.append(f"Its lead over the next, `{second.method.name}` (τ {second_tau}), is {relation} "
                         "the seed spread.")
    chance = 1.0 / report.truth.space.num_classes
    if best.mean_acc is not None and best.mean_acc < 2 * chance:
        parts.append(f"Its archs average {100 * best.mean_acc:.1f} % top-1 in the supernet, near chance "
                     f"({100 * chance:.0f} %): the supernet has not learned, so this τ is not a fidelity result.")
    priors = [score for score in report.scores if score.method.is_prior]
    best_prior = max(priors, key=lambda score: _finite_or_low(score.mean_std("kendall_tau")[0]), default=None)
    if best_prior is not None:
        prior_tau = best_prior.mean_std("kendall_tau")[0]
        relation = "above" if tau > prior_tau else "not above"
        parts.append(f"Best prior: `{best_prior.method.name}`, τ {prior_tau:.3f} (best supernet {relation} it).")
    return " ".join(parts)


def spread_lines(report: Report) -> list[str]:
    """Per supernet method (best first), the others it is above or below beyond the seed spread."""
    every = _ranked_supernets(report)
    ranked = [score for score in every if len(score.runs) > 1]
    single = [score.method.name for score in every if len(score.runs) == 1]
    if len(every) < 2:
        return []
    if len(ranked) < 2:
        return ["With one seed per supernet the seed spread is unknown: run `--seeds 3` to tell which "
                "differences are real."]
    lines = ["Which Kendall τ differences exceed the seed spread (rule: |mean₁ − mean₂| > std₁ + std₂, "
             "i.e. the mean ± std intervals do not overlap):", ""]
    if single:
        lines[0] = lines[0][:-1] + "; methods with one finished seed so far (" + ", ".join(
            f"`{name}`" for name in single) + ") are left out:"
    for index, score in enumerate(ranked):
        below = [other.method.name for other in ranked[index + 1:] if beyond_seed_spread(score, other)]
        tied = [other.method.name for other in ranked if other is not score
                and not beyond_seed_spread(score, other)]
        text = f"- `{score.method.name}` (τ {_pm(*score.mean_std('kendall_tau'), len(score.runs))}): above "
        text += ", ".join(f"`{name}`" for name in below) if below else "none"
        if tied:
            text += "; not separable from " + ", ".join(f"`{name}`" for name in tied)
        lines.append(text + ".")
    return lines


def measures_paragraph(report: Report) -> str:
    """What the ground truth measures, and so what the report may and may not be used for."""
    depth = next((score for score in report.scores if score.method.name == "depth"), None)
    flops = next((score for score in report.scores if score.method.name == "flops"), None)
    here = []
    if depth is not None:
        depth_tau = depth.mean_std("kendall_tau")[0]
        here.append(f"the depth prior (more active blocks ranks higher) reaches τ {depth_tau:+.2f}")
    if flops is not None:
        here.append(f"FLOPs τ {flops.mean_std('kendall_tau')[0]:+.2f}")
    on_this = (" Here " + ", ".join(here) + ";") if here else ""
    return ("**What this ground truth measures.** The archs are trained stand-alone with a short CPU budget, so "
            "their accuracies rank how fast an arch trains, not what it can reach." + on_this +
            f" on 30 real stand-alone ImageNet accuracies of competition archs (published by another team) "
            f"deeper is better (depth τ ≈ +{IMAGENET_DEPTH_TAU:.2f}, FLOPs ≈ +{IMAGENET_FLOPS_TAU:.2f}). Use this "
            "report to compare methods with each other, never to choose the competition's defaults.")


def _missing_lines(report: Report) -> list[str]:
    """The runs a ``--finished-only`` report does not have yet, per method."""
    if not report.missing:
        return []
    by_method: dict[str, list[int]] = {}
    for name, seed in report.missing:
        by_method.setdefault(name, []).append(seed)
    listed = "; ".join(f"`{name}` seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
                       for name, seeds in by_method.items())
    return ["", f"**Interim report** (`--finished-only`): {len(report.missing)} supernet runs have not finished "
                f"yet and are not in the table ({listed}); the kind column gives each method's finished seeds."]


def markdown_report(report: Report, command: str) -> str:
    truth = report.truth
    noise = truth.noise
    settings = report.settings
    recipe = truth.recipe
    return "\n".join([
        "# Ranking fidelity on the mini-benchmark",
        "",
        f"Ground truth: `{truth.path.as_posix()}`: {noise.archs} archs of `{recipe.space}` trained stand-alone on "
        f"`{recipe.data}` with {noise.seeds} seeds; accuracy spread {100 * noise.spread:.1f} points, "
        f"seed std {100 * noise.seed_std:.1f} points, **noise ceiling (seed-vs-seed Kendall τ) "
        f"{noise.kendall_tau:.3f}**. Methods are scored against the {noise.seeds}-seed mean, which is less "
        f"noisy than one seed: a noise-free ranking would reach τ ≈ {noise.mean_ceiling:.3f} against it "
        "(Spearman–Brown estimate, see `hnas/benchmark/noise.py`), so a method can exceed the seed-vs-seed "
        "ceiling.",
        f"Supernets: seeds {list(settings.seeds)}, each evaluated on "
        f"{'all' if settings.val_images is None else settings.val_images} val images with BN recalibration "
        f"({settings.recal_batches} × {settings.recal_batch_size} images) per arch"
        + (f"; trained {settings.workers} at a time, one CPU thread each (time / run is measured under that "
           "sharing)." if settings.workers > 1 else "."),
        *_missing_lines(report),
        "",
        measures_paragraph(report),
        "",
        markdown_table(report),
        "",
        verdict(report),
        "",
        *spread_lines(report),
        "",
        f"A supernet whose mean top-1 is near chance ({100 / truth.space.num_classes:.0f} % on "
        f"{truth.space.num_classes} classes) has not learned: its τ is noise, not ranking fidelity.",
        "",
        f"Produced by `{command}`; figures per run in `{REPORT_JSON}`.",
        "",
    ])


def report_json(report: Report, command: str) -> dict:
    settings = report.settings
    return {
        "command": command,
        "ground_truth": report.truth.path.as_posix(),
        "noise": report.truth.noise.to_dict(),
        "missing_runs": [{"method": name, "seed": seed} for name, seed in report.missing],
        "settings": {"config": None if settings.config is None else str(settings.config),
                     "seeds": list(settings.seeds), "overrides": list(settings.overrides),
                     "val_images": settings.val_images, "recal_batches": settings.recal_batches,
                     "recal_batch_size": settings.recal_batch_size, "workers": settings.workers},
        "methods": [
            {"name": score.method.name, "description": score.method.description,
             "kind": "prior" if score.method.is_prior else "supernet",
             "overrides": list(score.method.overrides),
             "fewshot": None if score.method.fewshot is None else score.method.fewshot.to_json(),
             "extra_epochs": score.method.extra_epochs,
             "runs": [{"seed": run.seed, "seconds": round(run.seconds, 2), "train_seconds": round(run.train_seconds, 2),
                       "resumed": run.resumed, "predictions": run.pred_path.as_posix(),
                       "mean_predicted_acc": run.mean_acc, **run.metrics.to_dict()}
                      for run in score.runs]}
            for score in report.scores
        ],
    }


def tau_plot(report: Report, path: Path) -> Path:
    """Horizontal bars of Kendall tau per method (std over seeds as error bars) with the ceiling lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [score.method.name for score in report.scores]
    stats = [score.mean_std("kendall_tau") for score in report.scores]
    colors = ["#999999" if score.method.is_prior else "#3070b0" for score in report.scores]
    ceiling = report.truth.noise.kendall_tau
    figure, axes = plt.subplots(figsize=(7, 0.45 * len(names) + 1.6))
    try:
        positions = list(range(len(names)))[::-1]
        axes.barh(positions, [mean for mean, _ in stats], xerr=[std for _, std in stats], color=colors, capsize=3)
        axes.set_yticks(positions, names)
        axes.axvline(ceiling, color="#c03030", label=f"noise ceiling {ceiling:.3f}")
        axes.axvline(CEILING_GOAL * ceiling, color="#c03030", linestyle="--",
                     label=f"{CEILING_GOAL} × ceiling")
        axes.axvline(0.0, color="black", linewidth=0.8)
        axes.set_xlabel("Kendall τ vs stand-alone accuracy (grey: priors, blue: supernets)")
        axes.legend(loc="lower right", fontsize=8)
        axes.grid(axis="x", alpha=0.3)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=120)
    finally:
        plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def cost_plot(report: Report, path: Path) -> Path | None:
    """Mean Kendall tau (± std over seeds) of each supernet method against its wall time per run."""
    supernets = [score for score in report.scores if not score.method.is_prior]
    if not supernets:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    uneven = len({len(score.runs) for score in supernets}) > 1  # an interim report: say each one's seeds
    try:
        for score in supernets:
            tau, std = score.mean_std("kendall_tau")
            minutes = score.seconds / 60.0
            axes.errorbar([minutes], [tau], yerr=[std], fmt="o", color="#3070b0", capsize=3)
            label = f"{score.method.name} ×{len(score.runs)}" if uneven else score.method.name
            axes.annotate(label, (minutes, tau), textcoords="offset points", xytext=(5, 4), fontsize=8)
        axes.axhline(report.truth.noise.kendall_tau, color="#c03030", label="noise ceiling")
        axes.axhline(0.0, color="black", linewidth=0.8)
        runs = max(len(score.runs) for score in supernets)
        axes.set_xlabel("wall time per run, minutes (training + evaluation of every arch)")
        seeds = f"up to {runs} seeds, ×k: finished seeds" if uneven else f"{runs} seed{'s' if runs > 1 else ''}"
        axes.set_ylabel(f"Kendall τ (mean ± std over {seeds})")
        axes.legend(loc="lower right", fontsize=8)
        axes.grid(alpha=0.3)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=120)
    finally:
        plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def best_scatter(report: Report, path: Path) -> Path | None:
    """Scatter of the best supernet's (or best method's) first run against the ground truth."""
    from hnas.evaluation.scoring import load_scores

    best = report.best_supernet() or max(report.scores, key=lambda score: score.mean_std("kendall_tau")[0],
                                         default=None)
    if best is None:
        return None
    run = best.runs[0]
    seed = "" if run.seed is None else f", seed {run.seed}"
    xlabel = "predicted top-1 in the supernet" if not best.method.is_prior else f"{best.method.name} prior"
    return scatter_plot(load_scores(run.pred_path), report.truth.accs, path, title=f"{best.method.name}{seed}",
                        xlabel=xlabel, ylabel="stand-alone top-1 (ground truth)")


def write_report(report: Report, out_dir: Path, command: str) -> list[Path]:
    """Write every output of the module docstring; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / REPORT_MD, out_dir / REPORT_JSON]
    atomic_write_text(written[0], markdown_report(report, command))
    atomic_write_text(written[1], json.dumps(report_json(report, command), indent=1) + "\n")
    if report.scores:
        written.append(tau_plot(report, out_dir / TAU_PNG))
        cost = cost_plot(report, out_dir / COST_PNG)
        if cost is not None:
            written.append(cost)
        scatter = best_scatter(report, out_dir / SCATTER_PNG)
        if scatter is not None:
            written.append(scatter)
    return written
