"""Plots of a search: best score per generation, and score against cost with the Pareto front."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from hnas.search.evolution import Candidate, SearchState


def pareto_front(candidates: Sequence[Candidate], cost: str) -> list[Candidate]:
    """Candidates no other beats on both lower ``cost`` and higher score, by increasing cost."""
    front: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.costs[cost], -c.score)):
        if not front or candidate.score > front[-1].score:
            front.append(candidate)
    return front


def plot_progress(states: dict[str, SearchState], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for label, state in states.items():
        best = state.best_per_generation()
        axes.plot(range(1, len(best) + 1), best, marker="o", label=label)
    axes.set_xlabel("generation")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel("best supernet top-1 so far")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_pareto(state: SearchState, cost: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    xs = [c.costs[cost] for c in state.history]
    axes.scatter(xs, [c.score for c in state.history], s=8, alpha=0.5, label="candidates")
    front = pareto_front(state.history, cost)
    axes.plot([c.costs[cost] for c in front], [c.score for c in front], color="C3", marker="o", label="Pareto front")
    axes.set_xlabel(cost)
    axes.set_ylabel("supernet top-1")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
