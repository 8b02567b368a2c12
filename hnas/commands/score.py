"""``hnas score``: ranking fidelity of predicted scores against ground-truth accuracies."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from hnas.errors import HnasError
from hnas.evaluation.ranking import DEFAULT_TOP_K, RankReport, resolve_k
from hnas.evaluation.scoring import describe_key_formats, score_files
from hnas.io.atomic import atomic_write_text
from hnas.io.outputs import check_output_file

if TYPE_CHECKING:
    from hnas.benchmark.noise import NoiseCeiling

#: Image formats of --plot and --plot-ranks (by file suffix).
PLOT_FORMATS: tuple[str, ...] = ("png", "pdf", "svg", "jpg", "jpeg")

#: Missing and extra keys printed before the rest are only counted.
LISTED_KEYS = 20


def _top_k(text: str) -> float:
    try:
        value = float(text)
        resolve_k(value, 100)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a count (10) or a fraction of the shared keys in (0, 1) (0.2 = top 20%)"
        ) from None
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="Kendall tau, Pearson, Spearman and top-k precision of predicted vs true scores",
        description=(
            "Join two score files on their keys and print n, Kendall's tau-b, Pearson's r, Spearman's rho "
            "(scipy.stats) and the precision of the top-k, then list keys found in only one file. "
            'Each file is the competition format {"key": {"acc": x, "arch": "..."}} or a plain {"key": x} map; '
            "when both carry arch strings they must match. Constant predictions (or a constant ground truth) "
            "are refused with exit 2: they rank nothing, tau is undefined and top-k precision would only "
            "reflect the key order. Output files (--json, --plot, --plot-ranks) follow the rule of every hnas "
            "writer: checked before scoring, never an input, an existing file only with --force."
        ),
    )
    parser.add_argument("pred", type=Path, metavar="PRED", help="predicted scores (e.g. a submission)")
    parser.add_argument("truth", type=Path, metavar="GT", help="ground-truth accuracies")
    parser.add_argument("--top-k", type=_top_k, nargs="+", default=list(DEFAULT_TOP_K), metavar="K",
                        help="top-set sizes: counts (10) or fractions (0.2); default: 10 0.2")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="write a predicted-vs-true scatter plot")
    parser.add_argument("--plot-ranks", type=Path, metavar="FILE.png",
                        help="write a predicted-rank vs true-rank plot (readable for thousands of archs)")
    parser.add_argument("--bootstrap", type=int, metavar="N",
                        help="also print 95%% bootstrap intervals of tau and Spearman over N resamples")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the bootstrap draws (default: 0)")
    parser.add_argument("--force", action="store_true", help="replace existing output files (never an input)")
    parser.add_argument("--pred-field", default="acc", metavar="NAME",
                        help="entry field of PRED to score (default: acc)")
    parser.add_argument("--truth-field", default="acc", metavar="NAME",
                        help="entry field of GT, e.g. flops for 'hnas flops --out' files (default: acc)")
    parser.add_argument("--title", default="", help="plot title (the figures are appended)")
    parser.add_argument("--json", dest="json_out", type=Path, metavar="OUT", help="also write the figures as JSON")
    parser.set_defaults(func=run)


def _figure(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.6f}"


def _key_list(label: str, keys: tuple[str, ...]) -> str:
    shown = ", ".join(keys[:LISTED_KEYS])
    more = f", ... ({len(keys) - LISTED_KEYS} more)" if len(keys) > LISTED_KEYS else ""
    return f"{label}: {len(keys)}" + (f" ({shown}{more})" if keys else "")


def print_report(report: RankReport) -> None:
    print(f"n:           {report.n}")
    print(f"kendall_tau: {_figure(report.kendall_tau)}")
    print(f"pearson:     {_figure(report.pearson)}")
    print(f"spearman:    {_figure(report.spearman)}")
    for item in report.top_k:
        print(f"precision@{item.label}: {_figure(item.precision)} (k={item.k})")
    print(_key_list("missing (in GT, not in PRED)", report.missing))
    print(_key_list("extra (in PRED, not in GT)", report.extra))


def check_outputs(args: argparse.Namespace) -> None:
    """Every output path of the command, checked before any file is read."""
    inputs = (args.pred, args.truth)
    outputs = [(flag, path) for flag, path in (("--json", args.json_out), ("--plot", args.plot),
                                               ("--plot-ranks", args.plot_ranks)) if path is not None]
    for flag, path in outputs:
        check_output_file(path, inputs, args.force, what=flag)
        if flag != "--json" and path.suffix.lstrip(".").lower() not in PLOT_FORMATS:
            raise HnasError(f"{flag} {path}: unknown image format {path.suffix or '(no suffix)'!r}; "
                            f"use one of {', '.join('.' + name for name in PLOT_FORMATS)}")
    for index, (flag, path) in enumerate(outputs):
        for other_flag, other in outputs[index + 1:]:
            if path.resolve() == other.resolve():
                raise HnasError(f"{flag} and {other_flag} name the same file {path}")


def refuse_constant(scores: dict[str, float], keys: list[str], path: Path, role: str) -> None:
    """Raise if every shared key has the same score: such a file ranks nothing."""
    values = {scores[key] for key in keys}
    if len(keys) >= 2 and len(values) == 1:
        raise HnasError(
            f"all {len(keys)} {role} in {path} are equal ({values.pop()!r}): they rank nothing, so Kendall tau is "
            "undefined and top-k precision would only reflect the order of the keys; refusing to score "
            "(is it an unfilled template?)"
        )


def run(args: argparse.Namespace) -> int:
    if args.bootstrap is not None and args.bootstrap < 1:
        raise HnasError(f"--bootstrap must be >= 1 resamples, got {args.bootstrap}")
    if args.seed < 0:
        raise HnasError(f"--seed must be >= 0, got {args.seed}")
    check_outputs(args)
    report, pred, truth = score_files(args.pred, args.truth, args.top_k, args.pred_field, args.truth_field)
    common = [key for key in truth if key in pred]
    if report.n == 0:
        print_report(report)
        raise HnasError(f"{args.pred} and {args.truth} share no keys; nothing to score; "
                        + describe_key_formats(list(pred), list(truth)))
    refuse_constant(pred, common, args.pred, "predictions")
    refuse_constant(truth, common, args.truth, "ground-truth values")
    print_report(report)
    interval = None
    if args.bootstrap is not None:
        from hnas.evaluation.bootstrap import bootstrap_ci

        interval = bootstrap_ci(pred, truth, args.bootstrap, args.seed)
        for name, bounds in (("kendall_tau", interval.kendall_tau), ("spearman", interval.spearman)):
            print(f"{name} 95% CI: [{_figure(bounds.low)}, {_figure(bounds.high)}] "
                  f"({args.bootstrap} bootstrap resamples, seed {args.seed})")
    noise = noise_ceiling_of(args.truth)
    if noise is not None and noise.kendall_tau > 0 and args.truth_field == "acc":
        print(f"noise ceiling of {args.truth.name} (seed-vs-seed Kendall tau): {noise.kendall_tau:.4f}; "
              f"tau / ceiling = {report.kendall_tau / noise.kendall_tau:.2f}; a noise-free ranking would "
              f"reach about {noise.mean_ceiling:.4f} against the {noise.seeds}-seed mean")
    if args.json_out is not None:
        document = {"pred": str(args.pred), "truth": str(args.truth), **report.to_dict()}
        if interval is not None:
            document["bootstrap"] = interval.to_dict()
        atomic_write_text(args.json_out, json.dumps(document, indent=1) + "\n")
        print(f"wrote {args.json_out}")
    title = args.title or f"{args.pred.name} vs {args.truth.name}"
    if args.plot is not None:
        from hnas.evaluation.ranking import scatter_plot

        scatter_plot(pred, truth, args.plot, title, xlabel=f"predicted ({args.pred_field})",
                     ylabel="true accuracy" if args.truth_field == "acc" else f"truth ({args.truth_field})")
        print(f"wrote {args.plot}")
    if args.plot_ranks is not None:
        from hnas.evaluation.ranking import rank_plot

        rank_plot(pred, truth, args.plot_ranks, title)
        print(f"wrote {args.plot_ranks}")
    return 0


def noise_ceiling_of(truth: Path) -> NoiseCeiling | None:
    """The stored noise ceiling when ``truth`` is a benchmark built by ``hnas bench build``."""
    from hnas.benchmark.noise import NoiseCeiling  # scipy: only when scoring

    meta = truth.with_name(truth.stem + ".meta.json")
    try:
        return NoiseCeiling(**json.loads(meta.read_text(encoding="utf-8"))["noise"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
