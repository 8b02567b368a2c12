"""Scoring one score file against another: join on keys, check arch codes, rank metrics.

Arch codes are opaque strings here (other benchmarks' files score too); when both files carry
one for a key, they must be equal, since equal keys with different archs mean the files do
not describe the same architectures.
"""

from __future__ import annotations

import math
import os
import re
from typing import Sequence

from hnas.errors import HnasError
from hnas.evaluation.ranking import DEFAULT_TOP_K, RankReport, rank_metrics
from hnas.io.archs import ArchFileError, load_score_file, read_json_object

MAX_LISTED_MISMATCHES = 10


def arch_strings(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``"arch"`` string of every entry that has one (competition format); ``{}`` for plain maps."""
    data = read_json_object(path, what="score file")
    return {
        key: value["arch"]
        for key, value in data.items()
        if isinstance(value, dict) and isinstance(value.get("arch"), str)
    }


def check_same_archs(pred_path: str | os.PathLike[str], truth_path: str | os.PathLike[str]) -> None:
    """Raise :class:`HnasError` listing keys whose arch codes differ between the two files."""
    pred, truth = arch_strings(pred_path), arch_strings(truth_path)
    mismatched = [key for key in truth if key in pred and pred[key] != truth[key]]
    if mismatched:
        lines = [f"  {key}: {pred[key]} in {pred_path}, {truth[key]} in {truth_path}" for key in mismatched]
        more = len(mismatched) - MAX_LISTED_MISMATCHES
        shown = lines[:MAX_LISTED_MISMATCHES] + ([f"  ... and {more} more"] if more > 0 else [])
        raise HnasError(
            f"{len(mismatched)} key(s) name different archs in the two files; they do not describe the same "
            "architectures:\n" + "\n".join(shown)
        )


def load_scores(path: str | os.PathLike[str], field: str = "acc") -> dict[str, float]:
    """Scores of a file: ``acc`` via :func:`hnas.io.archs.load_score_file` (competition format or a
    plain map), or another numeric field of ``{key: {...}}`` entries (e.g. ``flops`` of ``hnas flops --out``).

    Raises:
        HnasError: unreadable file, or entries without a finite number in ``field`` (all listed).
    """
    if field == "acc":
        return load_score_file(path)
    data = read_json_object(path, what="score file")
    scores: dict[str, float] = {}
    problems: list[str] = []
    for key, value in data.items():
        number = value.get(field) if isinstance(value, dict) else None
        if isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number):
            scores[key] = float(number)
        else:
            problems.append(f"{key}: no finite number in field {field!r}")
    if problems:
        raise ArchFileError(path, problems, total=len(data))
    return scores


def score_files(
    pred_path: str | os.PathLike[str],
    truth_path: str | os.PathLike[str],
    top_k: Sequence[float] = DEFAULT_TOP_K,
    pred_field: str = "acc",
    truth_field: str = "acc",
) -> tuple[RankReport, dict[str, float], dict[str, float]]:
    """Load both files, check their arch codes agree, and compute :func:`rank_metrics`.

    Args:
        pred_path: predicted scores.
        truth_path: ground truth.
        top_k: top-set sizes (see :func:`rank_metrics`).
        pred_field: entry field holding the prediction (``acc``; plain maps need ``acc``).
        truth_field: entry field holding the ground truth.

    Returns:
        The report and the two score maps (for plotting).

    Raises:
        HnasError: unreadable files, bad entries, or arch codes that differ for a shared key.
    """
    pred = load_scores(pred_path, pred_field)
    truth = load_scores(truth_path, truth_field)
    check_same_archs(pred_path, truth_path)
    return rank_metrics(pred, truth, top_k), pred, truth


def key_pattern(key: str) -> str:
    """The shape of a key: every run of digits replaced by ``N`` (``arch12`` -> ``archN``)."""
    return re.sub(r"\d+", "N", key)


def describe_key_formats(pred_keys: Sequence[str], truth_keys: Sequence[str]) -> str:
    """Why two files share no keys: whether their key formats differ, with an example of each."""

    def patterns(keys: Sequence[str]) -> list[str]:
        counts: dict[str, int] = {}
        for key in keys:
            counts[key_pattern(key)] = counts.get(key_pattern(key), 0) + 1
        return sorted(counts, key=lambda pattern: -counts[pattern])[:3]

    mine, theirs = patterns(pred_keys), patterns(truth_keys)
    example = f"e.g. {pred_keys[0]!r} vs {truth_keys[0]!r}" if pred_keys and truth_keys else ""
    if set(mine).isdisjoint(theirs):
        return (f"the key formats differ: PRED keys look like {', '.join(mine)}, GT keys like "
                f"{', '.join(theirs)} ({example})")
    return f"the key formats are alike ({', '.join(mine)}) but no key is in both files ({example})"
