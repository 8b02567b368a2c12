"""Evolution once its parents converge: children redrawn up to ``max_draws`` times against the cap, side by side.

Run from the repository root (single-threaded)::

    OMP_NUM_THREADS=1 python benchmarks/bench_search_redraws.py [--generations 17] [--out FILE]

A synthetic score makes the parents converge quickly: minus the number of choices in which a
subnet differs from one fixed reference subnet, so the 25 best are soon the reference and its near
copies, and most mutants and crossovers are subnets already evaluated. Space ``ofa_mbv3_tiny``
with OFA's search settings (population 100, top 25, 50 mutations with probability 0.1, 50
crossovers) and a FLOPs range (the middle 60 % of the space's range). Two searches run generation
by generation, taking turns: ``uncapped`` redraws a child up to ``max_draws`` (10,000) times, as
``hnas search`` did before the cap; ``capped`` up to :data:`~hnas.search.evolution.CHILD_DRAWS`
times, then fills the slot with a random candidate. Their histories agree until the first
generation in which a child needs more draws than the cap. Writes a JSON summary (default
``benchmarks/results/bench_search_redraws.json``) with each generation's wall time and best score
so far per path.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from hnas.io.atomic import atomic_write_text
from hnas.search.evolution import CHILD_DRAWS, SearchCfg, SearchState, run_search
from hnas.search.scoring import one_at_a_time
from hnas.search_spaces import SPACES
from hnas.search_spaces.distributions import ConstrainedDistribution, Constraint, cost_function


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=17)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bench_search_redraws.json"))
    args = parser.parse_args()
    space = SPACES.get("ofa_mbv3_tiny")
    flops = cost_function(space, "flops")
    low, high = flops(space.min_spec()), flops(space.max_spec())
    dist = ConstrainedDistribution(space.distribution("uniform"),
                                   [Constraint("flops", flops, low + 0.2 * (high - low), low + 0.8 * (high - low))])
    reference = space.choices(dist.sample(random.Random(5)))
    score = one_at_a_time(lambda spec: -sum(v != reference[k] for k, v in space.choices(spec).items()))
    cfg = SearchCfg(population=100, top_k=25, mutations=50, crossovers=50, mutation_prob=0.1, generations=1)
    paths = {"uncapped": cfg.max_draws, "capped": CHILD_DRAWS}
    states = {name: SearchState({}) for name in paths}
    rows = []
    for generation in range(args.generations):
        row: dict[str, float | int | bool] = {"generation": generation}
        for name, child_draws in paths.items():
            started = time.perf_counter()
            upto = SearchCfg(**{**cfg.__dict__, "generations": generation + 1})
            run_search(space, dist, score, {"flops": flops}, upto, states[name], child_draws=child_draws)
            row[f"{name}_s"] = round(time.perf_counter() - started, 3)
            row[f"{name}_best"] = states[name].best().score
        row["same_history"] = states["uncapped"].history == states["capped"].history
        rows.append(row)
        print(json.dumps(row), flush=True)
        summary = {"space": space.name, "settings": cfg.__dict__, "child_draws": paths, "generations": rows,
                   "total_s": {name: round(sum(r[f"{name}_s"] for r in rows), 2) for name in paths}}
        atomic_write_text(args.out, json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
