"""Evolutionary and random search over a space's subnets, scored by a supernet (SPOS, Guo et al. 2020).

Evolution: generation 0 is ``population`` random candidates; each later generation is
``mutations`` mutants (per-unit probability ``mutation_prob``) and ``crossovers`` children of the
``top_k`` best candidates seen so far, topped up with random ones. Random search evaluates the
same number of candidates per generation, all random. Every candidate lies in the distribution's
support and satisfies its constraints, and no candidate is evaluated twice (draws are bounded).
A mutant or crossover child is redrawn at most :data:`CHILD_DRAWS` times (fewer if ``max_draws``
is lower); a slot still without a new feasible child is filled by a random candidate, as in SPOS,
and the generation logs how many. Once the parents have converged most children are subnets
already evaluated, and without this cap each such slot cost ``max_draws`` redraws.

A generation's candidates are all drawn before any of them is scored, then scored together in
one :data:`~hnas.search.scoring.ScoreMany` call (a supernet then runs the prefixes they share
once); the candidates never depend on how their generation is scored.

Each generation draws from its own RNG, derived from ``(seed, generation)``, and the state (every
evaluated candidate, in order) is written atomically after each generation, so a killed search
restarted with the same settings continues at the next generation and ends with the same history
and best arch as an uninterrupted one (a partly evaluated generation is evaluated again, with the
same candidates).
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text
from hnas.search.operators import crossover, mutate
from hnas.search.scoring import ScoreMany
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.distributions import Distribution

logger = logging.getLogger(__name__)

STRATEGIES: tuple[str, ...] = ("evolution", "random")

#: Redraws of one mutant or crossover child before its slot goes to a random candidate. A child
#: of parents that have not converged needs a handful (at most 14 in the search tests).
CHILD_DRAWS = 100


@dataclass(frozen=True)
class SearchCfg:
    """Search settings (SPOS defaults). ``YAML`` keys are these field names; unknown keys are refused."""

    strategy: str = "evolution"
    population: int = 50
    top_k: int = 10
    mutations: int = 25
    crossovers: int = 25
    mutation_prob: float = 0.1
    generations: int = 20
    seed: int = 0
    max_draws: int = 10_000

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise HnasError(f"search.strategy {self.strategy!r}: expected one of {', '.join(STRATEGIES)}")
        for name in ("population", "top_k", "generations", "max_draws"):
            if getattr(self, name) < 1:
                raise HnasError(f"search.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("mutations", "crossovers", "seed"):
            if getattr(self, name) < 0:
                raise HnasError(f"search.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.mutation_prob <= 1.0:
            raise HnasError(f"search.mutation_prob must lie in [0, 1], got {self.mutation_prob}")
        if self.top_k > self.population:
            raise HnasError(f"search.top_k {self.top_k} exceeds search.population {self.population}")


@dataclass
class Candidate:
    arch: str
    score: float
    generation: int
    costs: dict[str, float] = field(default_factory=dict)


@dataclass
class SearchState:
    """What a search has done: the settings it runs under and every candidate evaluated, in order."""

    settings: dict[str, Any]
    generations_done: int = 0
    history: list[Candidate] = field(default_factory=list)

    def best(self) -> Candidate:
        return max(enumerate(self.history), key=lambda item: (item[1].score, -item[0]))[1]

    def best_per_generation(self) -> list[float]:
        """Best score seen up to and including each finished generation."""
        best, out = float("-inf"), []
        for generation in range(self.generations_done):
            scores = [c.score for c in self.history if c.generation == generation]
            best = max([best, *scores])
            out.append(best)
        return out

    def save(self, path: Path) -> None:
        payload = {"settings": self.settings, "generations_done": self.generations_done,
                   "history": [asdict(c) for c in self.history]}
        atomic_write_text(path, json.dumps(payload, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path, settings: dict[str, Any]) -> SearchState:
        """The saved state if it was written under ``settings``; a fresh one if ``path`` is absent.

        Raises:
            HnasError: unreadable state, or one written under other settings (naming them).
        """
        if not path.exists():
            return cls(settings)
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            history = [Candidate(**c) for c in payload["history"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise HnasError(f"{path}: unreadable search state ({error}); remove it or use another --out") from None
        if payload["settings"] != settings:
            differing = sorted(k for k in {*settings, *payload["settings"]}
                               if settings.get(k) != payload["settings"].get(k))
            raise HnasError(f"{path} holds a search with other settings ({', '.join(differing)}); "
                            "use another --out, or --force to start again")
        return cls(settings, int(payload["generations_done"]), history)


@dataclass(frozen=True)
class Buckets:
    """Multi-target mode (AlphaNet / PSS-Net style): the best subnet per ``metric`` bucket in one run.

    Buckets are ``[low, low + step), [low + step, low + 2 step), ...`` up to ``high``; parse ``"flops:8e6:30e6:2e6"``
    with :meth:`parse`. Evolution then draws its parents from the best candidates of every bucket.
    """

    metric: str
    low: float
    high: float
    step: float

    @classmethod
    def parse(cls, text: str) -> Buckets:
        try:
            metric, low, high, step = text.split(":")
            buckets = cls(metric, float(low), float(high), float(step))
        except ValueError:
            raise HnasError(f"--buckets {text!r}: expected METRIC:LOW:HIGH:STEP, e.g. flops:8e6:30e6:2e6") from None
        if not (buckets.step > 0 and buckets.high > buckets.low):
            raise HnasError(f"--buckets {text!r}: needs STEP > 0 and HIGH > LOW")
        return buckets

    def index(self, value: float) -> int | None:
        if not self.low <= value < self.high:
            return None
        return int((value - self.low) // self.step)

    def label(self, index: int) -> str:
        start = self.low + index * self.step
        return f"{self.metric} [{start:g}, {min(start + self.step, self.high):g})"

    def best(self, history: list[Candidate], per_bucket: int = 1) -> dict[int, list[Candidate]]:
        """The ``per_bucket`` best candidates of every non-empty bucket."""
        groups: dict[int, list[Candidate]] = {}
        for candidate in history:
            index = self.index(candidate.costs[self.metric])
            if index is not None:
                groups.setdefault(index, []).append(candidate)
        return {i: sorted(group, key=lambda c: -c.score)[:per_bucket] for i, group in sorted(groups.items())}


def format_duration(seconds: float) -> str:
    """``H:MM:SS`` (hours not wrapped at 24, unlike ``time.strftime``)."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _draw_new(make: Callable[[], Any], space: SearchSpace, dist: Distribution, seen: set[str],
              max_draws: int) -> str | None:
    """A code from ``make`` that is in the support, satisfies the constraints and is new; None after max_draws."""
    for _ in range(max_draws):
        spec = make()
        code = space.encode(spec)
        if code not in seen and dist.contains(spec):
            return code
    return None


def _generation(state: SearchState, cfg: SearchCfg, space: SearchSpace, dist: Distribution,
                generation: int, buckets: Buckets | None = None, child_draws: int = CHILD_DRAWS) -> list[str]:
    """The candidates of ``generation`` (deterministic given the history and the seed)."""
    # Not keyed by the strategy: evolution and random search start from the same random generation 0.
    rng = random.Random(f"hnas-search/{cfg.seed}/{generation}")
    seen = {c.arch for c in state.history}
    codes: list[str] = []

    def add(make: Callable[[], Any], draws: int = cfg.max_draws) -> bool:
        code = _draw_new(make, space, dist, seen, draws)
        if code is None:
            return False
        seen.add(code)
        codes.append(code)
        return True

    if cfg.strategy == "evolution" and generation > 0:
        ranked = sorted(state.history, key=lambda c: -c.score)[: cfg.top_k]
        if buckets is not None:
            per_bucket = buckets.best(state.history, max(1, cfg.top_k // max(1, len(buckets.best(state.history)))))
            ranked = [c for group in per_bucket.values() for c in group] or ranked
        parents = [space.decode(c.arch) for c in ranked]
        child_draws = min(cfg.max_draws, child_draws)
        failed = 0
        for _ in range(cfg.mutations):
            failed += not add(lambda: mutate(space, dist, rng.choice(parents), rng, cfg.mutation_prob), child_draws)
        for _ in range(cfg.crossovers):
            failed += not add(lambda: crossover(space, dist, rng.choice(parents), rng.choice(parents), rng),
                              child_draws)
        if failed:
            logger.info("generation %d: %d of %d mutants and crossovers found no new feasible child in %d "
                        "draws; random candidates fill the population", generation, failed,
                        cfg.mutations + cfg.crossovers, child_draws)
    while len(codes) < cfg.population:
        if not add(lambda: dist.sample(rng)):
            break
    return codes[: cfg.population]


def run_search(
    space: SearchSpace,
    dist: Distribution,
    score: ScoreMany,
    costs: dict[str, Callable[[Any], float]],
    cfg: SearchCfg,
    state: SearchState,
    state_path: Path | None = None,
    buckets: Buckets | None = None,
    child_draws: int = CHILD_DRAWS,
) -> SearchState:
    """Run (or continue) the search until ``cfg.generations`` generations are done.

    Args:
        score: scores of a generation's new candidates, given all at once (higher is better, e.g.
            supernet top-1; :mod:`hnas.search.scoring`); a per-candidate function goes through
            :func:`~hnas.search.scoring.one_at_a_time`.
        costs: named cost functions recorded with every candidate (``flops``, ``params``, ...).
        state: from :meth:`SearchState.load`; saved to ``state_path`` after every generation.
        buckets: multi-target mode (parents from the best of every bucket).
        child_draws: redraws of a mutant or crossover child before its slot goes to a random
            candidate (at most ``cfg.max_draws``).
    """
    started = time.monotonic()
    start_generation = state.generations_done
    for generation in range(state.generations_done, cfg.generations):
        codes = _generation(state, cfg, space, dist, generation, buckets, child_draws)
        if not codes:
            raise HnasError(f"generation {generation}: no new candidate in {cfg.max_draws} draws; the "
                            "constrained space is exhausted (lower population or generations)")
        specs = [space.decode(code) for code in codes]
        scores = score(specs)
        if len(scores) != len(specs):
            raise ValueError(f"the scorer returned {len(scores)} scores for {len(specs)} candidates")
        for code, spec, value in zip(codes, specs, scores):
            state.history.append(Candidate(code, float(value), generation,
                                           {name: float(fn(spec)) for name, fn in costs.items()}))
        state.generations_done = generation + 1
        if state_path is not None:
            state.save(state_path)
        done = generation + 1 - start_generation
        eta = (time.monotonic() - started) / done * (cfg.generations - generation - 1)
        logger.info("generation %d/%d: best %.4f, %d evaluated, ETA %s", generation + 1, cfg.generations,
                    state.best().score, len(state.history), format_duration(eta))
    return state
