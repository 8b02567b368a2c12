"""``hnas bench report``: score every prior and supernet recipe against a ground-truth benchmark.

For each :class:`~hnas.benchmark.methods.Method`:

* a prior is computed on every arch of the ground truth (no training);
* a supernet is trained once per seed from the base training config with the method's
  overrides, on the ground truth's own data (its recipe's dataset and options replace the
  config's), then every ground-truth arch is evaluated in it with BN recalibration
  (:func:`hnas.evaluation.submission.evaluate_file`).

Predictions are written as competition-format files under ``runs_dir/<method>/`` so that
``hnas score`` can be run on any of them. The work is resumable: a finished run leaves a
``result.json`` (the resolved config, the evaluation settings, wall times) and is reused
when the same settings are asked for again; an interrupted training resumes from its
``last`` checkpoint. Rendering the table and plots is :mod:`hnas.benchmark.render`.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from hnas.benchmark.methods import Method
from hnas.benchmark.truth import GroundTruth
from hnas.errors import HnasError
from hnas.evaluation.ranking import DEFAULT_TOP_K, RankReport, rank_metrics
from hnas.evaluation.reporter import ProgressReporter, format_duration
from hnas.io.archs import write_arch_file
from hnas.io.atomic import atomic_write_text
from hnas.logs import configure_logging
from hnas.workers import run_in_processes

logger = logging.getLogger(__name__)

RESULT_FILE = "result.json"
PRED_FILE = "pred.json"


@dataclass(frozen=True)
class ReportSettings:
    """How the report is produced.

    Attributes:
        config: base training config of every supernet method (None: the built-in embedded
            default, ``configs/embedded.yaml``).
        runs_dir: where supernet checkpoints, predictions and run records go.
        seeds: training seeds of each supernet method.
        overrides: config overrides applied to every supernet method, after the method's own
            (e.g. ``epochs=1``).
        val_images: evaluate each arch on this many val images (seeded subset); None: all of
            them, as the ground truth was measured (2.5 times the cost on the shipped benchmark).
        recal_batches: BN recalibration batches per arch.
        recal_batch_size: images per recalibration batch.
        top_k: top-k sizes for the precision columns.
        restart: discard earlier runs in ``runs_dir`` of the methods being run.
        finished_only: train nothing: score the runs already finished in ``runs_dir`` (a
            report built across sessions, shown while its last runs are still training); the
            others are listed in :attr:`Report.missing`.
        workers: supernet runs trained at a time, each in a single-threaded CPU process
            (:func:`hnas.workers.run_in_processes`); 1 trains them one after the other in this
            process. A run's result does not depend on it (Paddle's default is one thread).
    """

    config: Path | None = None
    runs_dir: Path = Path("checkpoints/minibench")
    seeds: tuple[int, ...] = (0,)
    overrides: tuple[str, ...] = ()
    val_images: int | None = 1000
    recal_batches: int = 4
    recal_batch_size: int = 64
    top_k: tuple[float, ...] = DEFAULT_TOP_K
    restart: bool = False
    finished_only: bool = False
    workers: int = 1

    def __post_init__(self) -> None:
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise HnasError(f"seeds must be distinct, non-negative and at least one: {list(self.seeds)}")
        if self.recal_batches < 1 or self.recal_batch_size < 1:
            raise HnasError("recal_batches and recal_batch_size must be >= 1")
        if self.val_images is not None and self.val_images < 1:
            raise HnasError(f"val_images must be >= 1 or unset, got {self.val_images}")
        if self.workers < 1:
            raise HnasError(f"workers must be >= 1, got {self.workers}")
        if self.restart and self.finished_only:
            raise HnasError("restart discards the runs that finished_only would score: choose one")


@dataclass(frozen=True)
class RunScore:
    """One prior computation or one trained-and-evaluated supernet.

    Attributes:
        seed: training seed (None for a prior).
        metrics: agreement of the predictions with the ground truth.
        seconds: wall time (prior computation, or supernet training plus evaluation).
        train_seconds: training part of ``seconds`` (0 for a prior).
        pred_path: the predictions in competition format.
        resumed: the training was continued from an interrupted run, so ``seconds`` only
            counts the part run last.
        mean_acc: mean predicted top-1 of the archs in the supernet (None for a prior); near
            chance level it flags a supernet that has not learned, whose tau is noise.
        reused: the run had finished earlier and was only scored now.
    """

    seed: int | None
    metrics: RankReport
    seconds: float
    train_seconds: float
    pred_path: Path
    resumed: bool = False
    mean_acc: float | None = None
    reused: bool = False


@dataclass(frozen=True)
class MethodScore:
    """All runs of one method."""

    method: Method
    runs: tuple[RunScore, ...]

    def mean_std(self, name: str) -> tuple[float, float]:
        """Mean and sample std (0 for one run) over runs of a :class:`RankReport` field."""
        values = np.array([getattr(run.metrics, name) for run in self.runs], dtype=np.float64)
        std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        return float(values.mean()), std

    def top_k_mean(self, index: int) -> float:
        return float(np.mean([run.metrics.top_k[index].precision for run in self.runs]))

    @property
    def mean_acc(self) -> float | None:
        """Mean over runs of the archs' mean predicted top-1 (None for a prior)."""
        values = [run.mean_acc for run in self.runs if run.mean_acc is not None]
        return float(np.mean(values)) if values else None

    @property
    def seconds(self) -> float:
        """Mean wall time per run."""
        return float(np.mean([run.seconds for run in self.runs]))


@dataclass
class Report:
    """Everything the rendered outputs show."""

    truth: GroundTruth
    settings: ReportSettings
    scores: list[MethodScore] = field(default_factory=list)
    #: ``(method, seed)`` runs not finished yet (only with ``finished_only``).
    missing: list[tuple[str, int]] = field(default_factory=list)

    def best_supernet(self) -> MethodScore | None:
        """The supernet method with the highest mean Kendall tau (None without supernets)."""
        supernets = [score for score in self.scores if not score.method.is_prior]
        if not supernets:
            return None
        return max(supernets, key=lambda score: _finite(score.mean_std("kendall_tau")[0]))


def beyond_seed_spread(one: MethodScore, other: MethodScore, name: str = "kendall_tau") -> bool | None:
    """Whether the two methods' means differ by more than their seed spreads together.

    The rule is deliberately simple and stated in the report: ``|mean_1 - mean_2| > std_1 +
    std_2`` (sample std over seeds), i.e. the mean ± std intervals do not overlap. With three
    seeds no test has much power; this says which gaps a reader may take as real. None when a
    supernet method has fewer than two runs (its spread is unknown); a prior's spread is 0
    (it has no seed).
    """
    for score in (one, other):
        if not score.method.is_prior and len(score.runs) < 2:
            return None
    (mean_1, std_1), (mean_2, std_2) = one.mean_std(name), other.mean_std(name)
    if not (math.isfinite(mean_1) and math.isfinite(mean_2)):
        return None
    return abs(mean_1 - mean_2) > std_1 + std_2


def _finite(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


# --- priors ----------------------------------------------------------------------------------


def score_prior(method: Method, truth: GroundTruth, settings: ReportSettings) -> MethodScore:
    """Compute ``method.prior`` on every ground-truth arch and score it."""
    from hnas.proxies.registry import PROXIES

    proxy = PROXIES.get(method.prior or "")
    options = dict(method.prior_args or {})
    start = time.monotonic()
    reporter = ProgressReporter(len(truth.entries), unit="archs", log_every=10, label=f"prior {method.name}")
    preds: dict[str, float] = {}
    for key, entry in truth.entries.items():
        preds[key] = float(proxy(truth.space, entry.spec, **options))
        reporter.update()
    reporter.close()
    seconds = time.monotonic() - start
    pred_path = settings.runs_dir / method.name / PRED_FILE
    write_arch_file(pred_path, truth.entries, preds)
    metrics = rank_metrics(preds, truth.accs, settings.top_k)
    logger.info("%s: %s (%.1f s)", method.name, metrics.summary(), seconds)
    return MethodScore(method, (RunScore(None, metrics, seconds, 0.0, pred_path),))


# --- supernets -------------------------------------------------------------------------------


def data_overrides(truth: GroundTruth) -> list[str]:
    """Overrides that make a training config use the ground truth's data."""
    recipe = truth.recipe
    return ["data.root=null", f"data.name={recipe.data}", f"data.args={json.dumps(dict(recipe.data_args))}"]


def supernet_config(method: Method, seed: int, truth: GroundTruth, settings: ReportSettings) -> Any:
    """The resolved :class:`~hnas.train_config.TrainConfig` of one supernet run.

    Raises:
        HnasError: the config trains another space or other data than the ground truth.
    """
    from hnas.config import load_config
    from hnas.train_config import TrainConfig

    run_dir = run_directory(settings, method, seed)
    overrides = [*data_overrides(truth), *method.overrides, *settings.overrides,
                 f"seed={seed}", f"checkpoint.dir={run_dir}", "log.visualdl=false"]
    cfg = load_config(settings.config, overrides, schema=TrainConfig)
    if method.extra_epochs:
        cfg = load_config(settings.config, [*overrides, f"epochs={cfg.epochs + method.extra_epochs}"],
                          schema=TrainConfig)
    recipe = truth.recipe
    if cfg.space.name != recipe.space:
        raise HnasError(f"method {method.name!r}: the config trains space {cfg.space.name!r} but the ground truth "
                        f"{truth.path} was measured in {recipe.space!r}")
    if cfg.data.name != recipe.data or dict(cfg.data.args) != dict(recipe.data_args):
        raise HnasError(f"method {method.name!r}: an override changed the data away from the ground truth's "
                        f"({recipe.data} {dict(recipe.data_args)})")
    return cfg


def run_directory(settings: ReportSettings, method: Method, seed: int) -> Path:
    return settings.runs_dir / method.name / f"seed{seed}"


def eval_settings(settings: ReportSettings, method: Method) -> dict[str, Any]:
    """How a run's archs are scored; stored in its record, so a changed setting is a new run."""
    evaluation: dict[str, Any] = {"val_images": settings.val_images, "bn_recal": "reset",
                                  "recal_batches": settings.recal_batches,
                                  "recal_batch_size": settings.recal_batch_size}
    if method.fewshot is not None:
        evaluation["fewshot"] = method.fewshot.to_json()
    return evaluation


FEWSHOT_DIR = "fewshot"


def same_run_config(stored_text: str, cfg: Any) -> bool:
    """True when a stored run's config is ``cfg``, wherever the run folder now lives.

    Every key must match except ``checkpoint.dir``, so a moved runs folder is still
    recognised. A record missing a key that exists today is not the same config: the run was
    made before the key existed, and today's default need not be what it did; except the keys
    of :data:`~hnas.train_config.BEHAVIOUR_PRESERVING_KEYS`, whose default is what it did.
    """
    from hnas.config import ConfigError, config_to_dict, parse_yaml
    from hnas.train_config import BEHAVIOUR_PRESERVING_KEYS, TrainConfig

    try:
        stored = parse_yaml(stored_text)
    except ConfigError:
        return False
    if not isinstance(stored, dict) or not isinstance(stored.get("checkpoint"), dict):
        return False
    current = config_to_dict(cfg)
    stored["checkpoint"] = {**stored["checkpoint"], "dir": current["checkpoint"]["dir"]}
    defaults = config_to_dict(TrainConfig())
    for key in BEHAVIOUR_PRESERVING_KEYS:
        if "." not in key:
            stored.setdefault(key, defaults[key])
            continue
        section, name = key.split(".")
        if isinstance(stored.get(section), dict) and name not in stored[section]:
            stored[section] = {**stored[section], name: defaults[section][name]}
    return stored == current


def _finished_run(run_dir: Path, cfg: Any, evaluation: dict[str, Any]) -> dict[str, Any] | None:
    """The run record of ``run_dir`` if it matches these settings; raises if it does not."""
    path = run_dir / RESULT_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise HnasError(f"{path}: unreadable run record ({error}); pass --restart to redo the run") from None
    if not same_run_config(str(record.get("config", "")), cfg) or record.get("eval") != evaluation:
        raise HnasError(f"{run_dir} holds a run made with other settings; pass --restart to replace it "
                        "or choose another --runs-dir")
    return record


def _check_resumable(run_dir: Path, cfg: Any) -> bool:
    """True when ``run_dir`` has an interrupted training of the same config to continue."""
    from hnas.checkpoints.folder import CONFIG_FILE, LAST

    stored = run_dir / LAST / CONFIG_FILE
    if not stored.is_file():
        return False
    if not same_run_config(stored.read_text(encoding="utf-8"), cfg):
        raise HnasError(f"{run_dir} holds a training run with another config; pass --restart to replace it "
                        "or choose another --runs-dir")
    return True


def train_and_evaluate(method: Method, seed: int, truth: GroundTruth, settings: ReportSettings) -> RunScore:
    """Train (or resume, or reuse) one supernet run and score it on the ground truth."""
    from hnas.engine.trainer import config_text, train
    from hnas.evaluation.request import EvalRequest
    from hnas.evaluation.scoring import load_scores
    from hnas.evaluation.submission import evaluate_file

    cfg = supernet_config(method, seed, truth, settings)
    run_dir = run_directory(settings, method, seed)
    text = config_text(cfg)
    evaluation = eval_settings(settings, method)
    pred_path = run_dir / PRED_FILE
    record = _finished_run(run_dir, cfg, evaluation)
    reused = record is not None
    if record is None:
        resumed = _check_resumable(run_dir, cfg)
        start = time.monotonic()
        train(cfg, resume=resumed)
        checkpoint = run_dir
        if method.fewshot is not None:
            from hnas.fewshot.train import train_fewshot

            checkpoint = run_dir / FEWSHOT_DIR
            train_fewshot(run_dir, method.fewshot.split, checkpoint, method.fewshot.epochs)
        train_seconds = time.monotonic() - start
        request = EvalRequest(arch_file=truth.path, checkpoint=checkpoint, out=pred_path,
                              val_images=settings.val_images, bn_recal="reset",
                              recal_batches=settings.recal_batches,
                              recal_batch_size=settings.recal_batch_size, restart=True)
        evaluate_file(request)
        record = {"method": method.name, "seed": seed, "config": text, "eval": evaluation, "resumed": resumed,
                  "train_seconds": round(train_seconds, 2), "seconds": round(time.monotonic() - start, 2)}
        atomic_write_text(run_dir / RESULT_FILE, json.dumps(record, indent=1) + "\n")
    else:
        logger.info("%s seed %d: reusing the finished run in %s", method.name, seed, run_dir)
    preds = load_scores(pred_path)
    metrics = rank_metrics(preds, truth.accs, settings.top_k)
    logger.info("%s seed %d: %s (%.0f s)", method.name, seed, metrics.summary(), record["seconds"])
    return RunScore(seed, metrics, float(record["seconds"]), float(record["train_seconds"]), pred_path,
                    bool(record["resumed"]), mean_acc=float(np.mean(list(preds.values()))), reused=reused)


# --- the whole report ------------------------------------------------------------------------


def check_methods(methods: Sequence[Method], truth: GroundTruth, settings: ReportSettings) -> None:
    """Resolve every supernet config up front, so a bad setting fails before any training."""
    for method in methods:
        if not method.is_prior:
            cfg = supernet_config(method, settings.seeds[0], truth, settings)
            if settings.workers > 1 and cfg.device != "cpu":
                raise HnasError(f"method {method.name!r} trains on device {cfg.device!r}: parallel workers "
                                "are CPU processes; run one supernet at a time on a GPU (--workers 1)")


def build_report(truth: GroundTruth, methods: Sequence[Method], settings: ReportSettings) -> Report:
    """Score every method (priors first as listed, then the supernet runs); see the module docstring."""
    check_methods(methods, truth, settings)
    if settings.restart:
        for method in methods:
            shutil.rmtree(settings.runs_dir / method.name, ignore_errors=True)
    report = Report(truth, settings)
    runs = sum(1 if method.is_prior else len(settings.seeds) for method in methods)
    done = 0
    for method in methods:
        if method.is_prior:
            done += 1
            logger.info("[%d/%d] prior %s on %d archs", done, runs, method.name, len(truth.entries))
            report.scores.append(score_prior(method, truth, settings))
    supernets = [method for method in methods if not method.is_prior]
    # seed-major: a report stopped half-way has every method's first seeds, not some methods' all
    jobs = [(method, seed) for seed in settings.seeds for method in supernets]
    if settings.finished_only:
        report.missing = [(method.name, seed) for method, seed in jobs
                          if not _is_finished(method, seed, truth, settings)]
        jobs = [(method, seed) for method, seed in jobs if (method.name, seed) not in report.missing]
        settings = replace(settings, workers=1)  # nothing trains: score in this process
    finished: dict[tuple[str, int], RunScore] = {}
    start, trained = time.monotonic(), 0
    for name, score in _supernet_runs(jobs, truth, settings):
        done += 1
        trained += not score.reused
        finished[(name, score.seed)] = score
        left = len(jobs) - len(finished)
        # wall time per trained run so far (parallel workers included); runs differ in cost, so rough
        eta = f", about {format_duration((time.monotonic() - start) / trained * left)} left" if trained and left else ""
        logger.info("[%d/%d] supernet %s, seed %d finished%s", done, runs, name, score.seed, eta)
    for method in supernets:
        runs_of_method = tuple(finished[(method.name, seed)] for seed in settings.seeds
                               if (method.name, seed) in finished)
        if runs_of_method:
            report.scores.append(MethodScore(method, runs_of_method))
    return report


def _is_finished(method: Method, seed: int, truth: GroundTruth, settings: ReportSettings) -> bool:
    cfg = supernet_config(method, seed, truth, settings)
    run_dir = run_directory(settings, method, seed)
    return _finished_run(run_dir, cfg, eval_settings(settings, method)) is not None and (run_dir / PRED_FILE).is_file()


def _supernet_runs(jobs: Sequence[tuple[Method, int]], truth: GroundTruth,
                   settings: ReportSettings) -> Iterator[tuple[str, RunScore]]:
    """``(method name, run)`` of every ``(method, seed)`` job, as the runs finish."""
    if settings.workers == 1:
        for method, seed in jobs:
            logger.info("supernet %s, seed %d", method.name, seed)
            yield method.name, train_and_evaluate(method, seed, truth, settings)
        return
    logger.info("%d supernet runs, %d at a time in single-threaded processes", len(jobs), settings.workers)
    worker_jobs = [(method, seed, str(truth.path), settings) for method, seed in jobs]
    yield from run_in_processes(_supernet_job, worker_jobs, settings.workers)


def _supernet_job(method: Method, seed: int, truth_path: str, settings: ReportSettings) -> tuple[str, RunScore]:
    """One supernet run in a worker process; its log lines name the run."""
    from hnas.benchmark.truth import read_ground_truth

    configure_logging(logging.INFO, prefix=f"{method.name}/seed{seed} ")
    return method.name, train_and_evaluate(method, seed, read_ground_truth(truth_path), settings)
