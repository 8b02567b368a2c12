"""run_search with a synthetic score: constraints, no duplicates, determinism, resume, ETA format."""

from __future__ import annotations

import dataclasses
import logging
import random
from pathlib import Path

import pytest

from hnas.search import evolution
from hnas.search.evolution import Candidate, SearchCfg, SearchState, format_duration, run_search
from hnas.search.scoring import one_at_a_time
from hnas.search_spaces import SPACES
from hnas.search_spaces.distributions import ConstrainedDistribution, Constraint, cost_function

CFG = SearchCfg(population=8, top_k=3, mutations=4, crossovers=3, generations=5, seed=3)


def _setup(name: str = "resnet48_tiny"):
    space = SPACES.get(name)
    flops = cost_function(space, "flops")
    limit = (flops(space.min_spec()) + flops(space.max_spec())) / 2
    dist = ConstrainedDistribution(space.distribution("uniform"), [Constraint("flops", flops, None, limit)])
    # Synthetic score: closeness to the limit (the best subnet uses the whole budget).
    return space, dist, flops, limit, (lambda spec: -abs(flops(spec) - limit) / limit)


def _run(cfg: SearchCfg, state_path: Path | None = None, name: str = "resnet48_tiny") -> SearchState:
    space, dist, flops, _, score = _setup(name)
    state = SearchState({}) if state_path is None else SearchState.load(state_path, {})
    return run_search(space, dist, one_at_a_time(score), {"flops": flops}, cfg, state, state_path)


@pytest.mark.parametrize("name", ["resnet48_tiny", "mbv2_tiny"])
def test_every_candidate_is_new_and_within_the_limit(name: str) -> None:
    space, _, flops, limit, _ = _setup(name)
    state = _run(CFG, name=name)
    codes = [c.arch for c in state.history]
    assert len(codes) == CFG.population * CFG.generations == len(set(codes))
    assert all(flops(space.decode(code)) <= limit for code in codes)
    assert [c.generation for c in state.history] == sorted(c.generation for c in state.history)


def test_a_seed_fixes_the_history_and_another_seed_changes_it() -> None:
    first, again = _run(CFG), _run(CFG)
    assert first.history == again.history
    assert [c.arch for c in _run(dataclasses.replace(CFG, seed=4)).history] != [c.arch for c in first.history]


def test_evolution_beats_random_search_at_the_same_budget_on_a_smooth_score() -> None:
    evolution = _run(CFG).best_per_generation()
    random_search = _run(dataclasses.replace(CFG, strategy="random")).best_per_generation()
    assert evolution[0] == random_search[0]  # same generation 0
    assert evolution[-1] > random_search[-1]


def test_a_search_continued_from_its_saved_state_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    whole = _run(CFG)
    path = tmp_path / "state.json"
    part = _run(dataclasses.replace(CFG, generations=2), path)
    assert part.generations_done == 2 and SearchState.load(path, {}).history == part.history
    assert _run(CFG, path).history == whole.history


def test_each_generation_is_scored_in_one_call_and_a_short_answer_is_refused() -> None:
    space, dist, flops, _, score = _setup("mbv2_tiny")
    calls: list[int] = []

    def score_many(specs):
        calls.append(len(specs))
        return one_at_a_time(score)(specs)

    state = run_search(space, dist, score_many, {"flops": flops}, CFG, SearchState({}))
    assert calls == [CFG.population] * CFG.generations and state.history == _run(CFG, name="mbv2_tiny").history
    with pytest.raises(ValueError, match="returned 7 scores for 8 candidates"):
        run_search(space, dist, lambda specs: [0.0] * (len(specs) - 1), {"flops": flops}, CFG, SearchState({}))


def test_eta_keeps_hours() -> None:
    assert format_duration(59.6) == "0:01:00"
    assert format_duration(3 * 3600 + 62) == "3:01:02"
    assert format_duration(30 * 3600) == "30:00:00"


def test_children_of_converged_parents_are_redrawn_a_bounded_number_of_times_then_filled_randomly(
        monkeypatch, caplog) -> None:
    # One parent, no mutation: every mutant and every crossover is the parent itself, already evaluated.
    space, dist = SPACES.get("resnet48_tiny"), SPACES.get("resnet48_tiny").distribution("uniform")
    parent = space.encode(dist.sample(random.Random(0)))
    state = SearchState({}, 1, [Candidate(parent, 1.0, 0)])
    cfg = SearchCfg(population=8, top_k=1, mutations=4, crossovers=3, mutation_prob=0.0, max_draws=10_000)
    calls = []

    def counted(operator):
        return lambda *args: calls.append(operator.__name__) or operator(*args)

    monkeypatch.setattr(evolution, "mutate", counted(evolution.mutate))
    monkeypatch.setattr(evolution, "crossover", counted(evolution.crossover))
    with caplog.at_level(logging.INFO, logger=evolution.__name__):
        codes = evolution._generation(state, cfg, space, dist, 1)
    assert len(calls) == (cfg.mutations + cfg.crossovers) * evolution.CHILD_DRAWS < 7 * cfg.max_draws
    assert len(codes) == cfg.population == len(set(codes)) and parent not in codes
    assert all(dist.contains(space.decode(code)) for code in codes)
    assert "7 of 7 mutants and crossovers found no new feasible child in 100 draws" in caplog.text
    assert codes == evolution._generation(state, cfg, space, dist, 1)  # still deterministic
