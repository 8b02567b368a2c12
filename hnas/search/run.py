"""One ``hnas search`` run: a trained supernet, limits and settings -> a search folder.

The command (``hnas/commands/search.py``) only parses arguments into a :class:`SearchRun`;
:func:`run_search_folder` checks everything that can be checked before loading anything
(output folder, ``--compare``, limits, latency table, bucket metric), resumes the state of
an earlier run with the same settings, scores each generation's candidates together with the
scorer of :mod:`hnas.evaluation.scorer_builder` (:mod:`hnas.search.scoring`), and writes the folder's files atomically.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hnas.errors import HnasError
from hnas.evaluation.options import ScoringOptions
from hnas.io.atomic import atomic_write_text
from hnas.search.evolution import Buckets, Candidate, SearchCfg, SearchState, run_search
from hnas.search.scoring import ScoreMany, by_predictor, by_supernet
from hnas.search_spaces.base import SearchSpace

#: Files a search folder holds.
STATE_FILE, HISTORY_FILE, BEST_FILE, BUCKETS_FILE = "state.json", "history.json", "best.json", "best_per_bucket.json"
CANDIDATES_FILE, RESCORED_FILE = "candidates.json", "rescored.json"
PROGRESS_PLOT, PARETO_PLOT, PARETO_LATENCY_PLOT = "best_per_generation.png", "pareto_flops.png", "pareto_latency.png"
FOLDER_FILES = (STATE_FILE, HISTORY_FILE, CANDIDATES_FILE, BEST_FILE, BUCKETS_FILE, RESCORED_FILE, PROGRESS_PLOT,
                PARETO_PLOT, PARETO_LATENCY_PLOT)
METRICS = ("flops", "params", "latency")


@dataclass(frozen=True)
class SearchRun:
    """What ``hnas search`` is asked to do.

    Attributes:
        out: the search folder.
        search: strategy and its settings.
        checkpoint, config, weights: the trained supernet (as for ``hnas eval``).
        scoring: the validation subset and BN recalibration each candidate is scored with.
        limits: ``metric -> (low, high)`` (either None); metrics flops, params, latency.
        latency_table: table of ``hnas latency build`` (needed for latency limits).
        buckets: ``METRIC:LOW:HIGH:STEP`` (multi-target mode) or None.
        distribution: the space's distribution to search.
        compare: another search folder drawn in the progress plot.
        force: discard a search in ``out`` and start again.
        flops_convention: what the ``flops`` limits, buckets and records count (``"pss"``: PSS-Net's
            convention, the unit of its bucket ranges; see ``hnas flops --convention``).
        predictor: an accuracy predictor (``hnas predictor fit``) that scores the candidates instead of
            the supernet (OFA); the checkpoint is then needed only for ``rescore_top`` (if one is given
            anyway, its space must be the predictor's).
        rescore_top: with a predictor, score the best ``rescore_top`` candidates with the supernet
            after the search; best.json is then the best of them by supernet top-1.
        shared_prefix: score each generation's candidates with their shared prefixes run once
            (:mod:`hnas.search.scoring`; same scores); ``False`` runs every candidate whole
            (``--no-shared-prefix``). Not part of the state's settings: either resumes the other.
    """

    out: Path
    search: SearchCfg
    checkpoint: Path | None = None
    config: Path | None = None
    weights: str = "model"
    scoring: ScoringOptions = ScoringOptions(val_images=500)
    limits: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    latency_table: Path | None = None
    buckets: str | None = None
    distribution: str = "uniform"
    compare: Path | None = None
    force: bool = False
    flops_convention: str = "paddle"
    predictor: Path | None = None
    rescore_top: int = 0
    shared_prefix: bool = True


def check_folders(run: SearchRun) -> None:
    """``--out`` holds nothing but a search (or is new, under an existing folder); ``--compare`` is a search."""
    out = run.out
    if out.exists() and not out.is_dir():
        raise HnasError(f"--out {out} exists and is not a folder")
    if out.exists() and not run.force:
        foreign = [p.name for p in out.iterdir() if not p.name.startswith(".") and p.name not in FOLDER_FILES]
        if foreign:
            raise HnasError(f"--out {out} holds other files ({', '.join(sorted(foreign)[:3])}); choose another folder")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise HnasError(f"--out {out}: folder {parent} does not exist")
    if run.compare is not None and not (run.compare / STATE_FILE).is_file():
        raise HnasError(f"--compare {run.compare}: no {STATE_FILE} there (not a search folder)")


def _costs(run: SearchRun, space: SearchSpace) -> dict[str, Callable[[Any], float]]:
    from hnas.search_spaces.distributions import cost_function

    flops_metric = "flops" if run.flops_convention == "paddle" else f"flops_{run.flops_convention}"
    costs = {"flops": cost_function(space, flops_metric), "params": cost_function(space, "params")}
    if run.latency_table is not None:
        from hnas.proxies.latency import LatencyTable

        costs["latency"] = LatencyTable.load(run.latency_table, space).predict
    elif any(bound is not None for bound in run.limits.get("latency", (None, None))):
        raise HnasError("--max-latency / --min-latency need --latency-table FILE (hnas latency build)")
    return costs


def run_search_folder(run: SearchRun) -> SearchState:
    """Search, resuming an earlier run of ``run.out`` with the same settings; returns the final state.

    Raises:
        HnasError: bad folders, limits, table or checkpoint (before anything is loaded), a state
            written under other settings.
        WriteError: a write refused midway (disk full); the finished generations are kept.
    """
    from hnas.evaluation.scorer_builder import build_scorer, open_trained
    from hnas.search_spaces.distributions import ConstrainedDistribution, Constraint

    buckets = None if run.buckets is None else Buckets.parse(run.buckets)
    check_folders(run)
    run.scoring.check()
    predictor = _load_predictor(run)
    needs_supernet = predictor is None or run.rescore_top > 0 or run.checkpoint is not None or run.config is not None
    trained = open_trained(run.checkpoint, run.config, weights=run.weights) if needs_supernet else None
    if predictor is not None and trained is not None:
        predictor.check_space(trained.space, f"the supernet of {run.checkpoint or 'the default checkpoint'}")
    space = trained.space if trained is not None else predictor.space
    costs = _costs(run, space)
    constraints = [Constraint(metric, costs[metric], low, high) for metric, (low, high) in run.limits.items()
                   if metric in costs and (low is not None or high is not None)]
    base = space.distribution(run.distribution)
    dist = ConstrainedDistribution(base, constraints, run.search.max_draws) if constraints else base
    if buckets is not None and buckets.metric not in costs:
        raise HnasError(f"--buckets metric {buckets.metric!r}: known {', '.join(costs)}")
    recal = run.scoring.recal_batches if run.scoring.recalibrates else 0
    settings = {"search": dataclasses.asdict(run.search), "buckets": run.buckets, "space": space.name,
                "distribution": run.distribution,
                "constraints": [c.describe() for c in constraints], "val_images": run.scoring.val_images,
                "recal_batches": recal, "recal_batch_size": run.scoring.recal_batch_size,
                "weights": "none" if trained is None else str(trained.source.weights),
                "latency_table": None if run.latency_table is None else str(run.latency_table),
                # Recorded only when not the default, so searches written before the option resume.
                **({"flops_convention": run.flops_convention} if run.flops_convention != "paddle" else {})}
    if predictor is not None:  # only then, so that states written before predictors existed still resume
        settings["predictor"] = str(run.predictor)
    state_path = run.out / STATE_FILE
    if run.force and state_path.exists():
        state_path.unlink()
    state = SearchState.load(state_path, settings)
    needs_scorer = trained is not None and (predictor is None or run.rescore_top > 0)
    scorer = build_scorer(trained, run.scoring, shared_prefix=run.shared_prefix).scorer if needs_scorer else None
    if predictor is not None:
        score = by_predictor(predictor)
    else:
        score = by_supernet(scorer)
    run.out.mkdir(exist_ok=True)
    state = run_search(space, dist, score, costs, run.search, state, state_path, buckets)
    best = None
    if run.rescore_top:
        best = rescore(state, space, by_supernet(scorer), run.rescore_top, run.out / RESCORED_FILE)
    write_results(run, state, settings["constraints"], buckets, "latency" in costs, best)
    return state


def _load_predictor(run: SearchRun) -> Any:
    if run.rescore_top < 0:
        raise HnasError(f"--rescore-top must be >= 0, got {run.rescore_top}")
    if run.predictor is None:
        if run.rescore_top:
            raise HnasError("--rescore-top re-scores the predictor's best candidates with the supernet; "
                            "it needs --predictor FILE")
        return None
    from hnas.predictor.store import load_predictor

    return load_predictor(run.predictor)


def rescore(state: SearchState, space: SearchSpace, score: ScoreMany, top: int, path: Path) -> dict[str, Any]:
    """Score the ``top`` best candidates (by predicted accuracy) with ``score``, all at once; write them, best first.

    Returns the best of them by ``score`` as a best.json entry (``acc`` = its score, ``predicted`` = the
    predictor's accuracy).
    """
    ranked = sorted(state.history, key=lambda candidate: candidate.score, reverse=True)[:top]
    scores = score([space.decode(c.arch) for c in ranked])
    rows = [{"arch": c.arch, "acc": float(acc), "predicted": c.score, "generation": c.generation, **c.costs}
            for c, acc in zip(ranked, scores)]
    rows.sort(key=lambda row: row["acc"], reverse=True)
    atomic_write_text(path, json.dumps({f"arch{i}": row for i, row in enumerate(rows, start=1)}, indent=1) + "\n")
    return rows[0]


def write_results(run: SearchRun, state: SearchState, constraints: list[str], buckets: Buckets | None,
                  latency: bool, rescored_best: dict[str, Any] | None = None) -> None:
    """history.json (the competition format: a valid submission), candidates.json, best.json, plots.

    ``rescored_best`` (a predictor search re-scored by the supernet) replaces the best candidate by score.
    """
    from hnas.search.plots import plot_pareto, plot_progress

    out = run.out
    keys = [f"arch{i}" for i in range(1, len(state.history) + 1)]
    history = {key: {"acc": c.score, "arch": c.arch} for key, c in zip(keys, state.history)}
    candidates = {key: {"acc": c.score, "arch": c.arch, "generation": c.generation, **c.costs}
                  for key, c in zip(keys, state.history)}
    atomic_write_text(out / HISTORY_FILE, json.dumps(history, indent=1) + "\n")
    atomic_write_text(out / CANDIDATES_FILE, json.dumps(candidates, indent=1) + "\n")
    best = state.best()
    entry = rescored_best or {"arch": best.arch, "acc": best.score, "generation": best.generation, **best.costs}
    scored_by = "supernet" if run.predictor is None else ("supernet (re-scored)" if rescored_best else "predictor")
    atomic_write_text(out / BEST_FILE, json.dumps({**entry, "constraints": constraints, "strategy": run.search.strategy,
                                                   "scored_by": scored_by}, indent=1) + "\n")
    if buckets is not None:
        per_bucket = {buckets.label(i): _entry(group[0]) for i, group in buckets.best(state.history).items()}
        atomic_write_text(out / BUCKETS_FILE, json.dumps(per_bucket, indent=1) + "\n")
    states = {run.search.strategy: state}
    if run.compare is not None:
        other = json.loads((run.compare / STATE_FILE).read_text(encoding="utf-8"))
        states[f"{other['settings']['search']['strategy']} ({run.compare.name})"] = SearchState.load(
            run.compare / STATE_FILE, other["settings"])
    plot_progress(states, out / PROGRESS_PLOT)
    plot_pareto(state, "flops", out / PARETO_PLOT)
    if latency:
        plot_pareto(state, "latency", out / PARETO_LATENCY_PLOT)


def _entry(candidate: Candidate) -> dict[str, Any]:
    return {"arch": candidate.arch, "acc": candidate.score, **candidate.costs}
