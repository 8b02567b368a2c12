"""Recipe: JSON round trip and strict keys."""

from __future__ import annotations

import json

import pytest

from hnas.benchmark.recipe import MINIBENCH_RECIPE, Recipe
from hnas.errors import HnasError


def test_round_trip_through_json() -> None:
    recipe = MINIBENCH_RECIPE.replace(epochs=3, data_args={"label": "first"})
    assert Recipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe


def test_unknown_key_is_named() -> None:
    with pytest.raises(HnasError, match="epoch"):
        Recipe.from_dict({"epoch": 3})


@pytest.mark.parametrize("change", [{"epochs": 0}, {"lr": 0.0}, {"warmup_fraction": 1.0}, {"max_val_images": 0}])
def test_bad_values_are_rejected(change: dict[str, float]) -> None:
    with pytest.raises(HnasError, match="recipe"):
        MINIBENCH_RECIPE.replace(**change)
