"""Reading a built ground-truth benchmark: the accuracies, the arch specs, the recipe and the noise ceiling.

A benchmark is the pair written by :func:`hnas.benchmark.groundtruth.build_ground_truth`:
``ground_truth.json`` (competition format, ``acc`` = mean over seeds) and its
``ground_truth.meta.json`` (recipe, per-seed accuracies, noise ceiling). Whatever compares a
ranking method with the benchmark reads both through :func:`read_ground_truth`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from hnas.benchmark.groundtruth import META_FORMAT, sibling
from hnas.benchmark.noise import NoiseCeiling
from hnas.benchmark.recipe import Recipe
from hnas.errors import HnasError
from hnas.io.archs import ArchEntry, load_arch_file
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.spaces import resolve_space


@dataclass(frozen=True)
class GroundTruth:
    """A loaded benchmark.

    Attributes:
        path: the competition-format file.
        entries: its archs (key, code, parsed spec, seed-mean accuracy), in file order.
        recipe: the stand-alone recipe the accuracies were measured with.
        space: the recipe's search space, adapted to its data (classes, channels).
        noise: the seed-vs-seed noise ceiling stored with the benchmark.
        per_seed: ``{key: [acc of each seed]}``.
    """

    path: Path
    entries: Mapping[str, ArchEntry]
    recipe: Recipe
    space: SearchSpace
    noise: NoiseCeiling
    per_seed: Mapping[str, list[float]]

    @property
    def accs(self) -> dict[str, float]:
        """Seed-mean accuracy per key."""
        return {key: entry.acc for key, entry in self.entries.items()}


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HnasError(f"{path}: missing; a ground truth needs the .meta.json written next to it by "
                        "'hnas bench build'") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HnasError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != META_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise HnasError(f"{path}: format {found!r}, expected {META_FORMAT!r}")
    missing = [key for key in ("recipe", "noise", "archs") if key not in meta]
    if missing:
        raise HnasError(f"{path}: missing field(s) {missing}")
    return meta


def read_ground_truth(path: str | os.PathLike[str]) -> GroundTruth:
    """Load ``path`` and its ``.meta.json``, checking that they describe the same archs.

    Raises:
        HnasError: a missing or malformed file, an unknown recipe field, or keys / codes that
            differ between the two files.
    """
    path = Path(path)
    meta_path = sibling(path, ".meta.json")
    meta = _read_meta(meta_path)
    recipe = Recipe.from_dict(meta["recipe"])
    space = _recipe_space(recipe)
    entries = load_arch_file(path, space)
    archs = meta["archs"]
    differ = [key for key, entry in entries.items() if archs.get(key, {}).get("arch") != entry.arch]
    differ += [key for key in archs if key not in entries]
    if differ:
        raise HnasError(f"{path} and {meta_path} disagree on {len(differ)} arch(s) (first: {differ[0]}); "
                        "rebuild with 'hnas bench build'")
    try:
        noise = NoiseCeiling(**meta["noise"])
    except TypeError as error:
        raise HnasError(f"{meta_path}: bad 'noise' field ({error})") from None
    per_seed = {key: [float(value) for value in archs[key]["accs"]] for key in entries}
    return GroundTruth(path, entries, recipe, space, noise, per_seed)


def _recipe_space(recipe: Recipe) -> SearchSpace:
    """The recipe's space with the class count and channels of its data (no images decoded)."""
    from hnas.data.datasets import build_dataset  # data code stays out of the import of this module

    val = build_dataset(recipe.data, None, "val", **dict(recipe.data_args))
    return resolve_space(recipe.space, val.info.space_overrides())
