"""Distribution of Hamming distances between architectures, e.g. to pick distant pairs.

The distance is :func:`hnas.search_spaces.distance.hamming_distance`: the number of differing
characters from the stem width code to the end of the arch code (``code[5:]`` in the 4-stage
layout). Depth digits are excluded, but a block active in one code and padded with ``00`` in
the other counts in both of its characters.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from pathlib import Path
from typing import Sequence

from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_bytes
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.distance import hamming_distance


def random_pair_distances(codes: Sequence[str], pairs: int, seed: int, space: SearchSpace | None = None) -> list[int]:
    """Distances of ``pairs`` random pairs of distinct positions of ``codes`` (seeded).

    Raises:
        HnasError: fewer than two codes, or a negative number of pairs.
    """
    if len(codes) < 2:
        raise HnasError(f"need at least 2 arch codes to form pairs, got {len(codes)}")
    if pairs < 0:
        raise HnasError(f"number of pairs must be >= 0, got {pairs}")
    rng = random.Random(seed)
    distances = []
    for _ in range(pairs):
        first, second = rng.sample(range(len(codes)), 2)
        distances.append(hamming_distance(codes[first], codes[second], space))
    return distances


def distance_histogram(distances: Sequence[int], path: str | Path, title: str = "") -> Path:
    """Write a bar chart of how often each distance occurs (matplotlib Agg, imported here)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = Counter(distances)
    figure, axes = plt.subplots(figsize=(7, 4))
    try:
        axes.bar(sorted(counts), [counts[value] for value in sorted(counts)], width=0.9)
        axes.set_xlabel("Hamming distance (differing characters of code[5:])")
        axes.set_ylabel("pairs")
        mean = sum(distances) / len(distances) if distances else float("nan")
        summary = f"{len(distances)} pairs, mean {mean:.1f}"
        axes.set_title(f"{title}\n{summary}" if title else summary)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format=Path(path).suffix.lstrip(".").lower() or "png", dpi=120)
    finally:
        plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)
