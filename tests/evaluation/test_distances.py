from __future__ import annotations

from pathlib import Path

import pytest

from hnas.errors import HnasError
from hnas.evaluation.distances import distance_histogram, random_pair_distances

LARGEST = "1558511111111111111111111111111111111111111111111111"
SMALLEST = "1222277777000000777700000077770000000000007777000000"


def test_pairs_are_seeded_and_use_the_hamming_definition() -> None:
    codes = [LARGEST, SMALLEST]
    assert random_pair_distances(codes, 3, seed=0) == [47, 47, 47]  # all of code[5:] differs
    same = [LARGEST, LARGEST[:-1] + "2"]
    assert random_pair_distances(same, 2, seed=1) == [1, 1]
    many = [LARGEST[:-1] + str(d) for d in range(1, 8)]
    assert random_pair_distances(many, 20, seed=4) == random_pair_distances(many, 20, seed=4)


def test_pairs_need_two_codes() -> None:
    with pytest.raises(HnasError, match="at least 2"):
        random_pair_distances([LARGEST], 1, seed=0)


def test_histogram_is_written(tmp_path: Path) -> None:
    path = distance_histogram([1, 2, 2, 47], tmp_path / "h.png", title="t")
    assert path.read_bytes()[:4] == b"\x89PNG"
