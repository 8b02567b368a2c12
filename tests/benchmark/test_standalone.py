"""Stand-alone training of one arch and the ``hnas standalone`` command."""

from __future__ import annotations

import json
from pathlib import Path

from hnas.benchmark.recipe import Recipe
from hnas.benchmark.standalone import load_bench_data, steps_per_epoch, train_standalone
from hnas.cli import main

TINY = Recipe(data="synthetic",
              data_args={"num_images": 16, "num_classes": 3, "in_channels": 1, "image_size": 28},
              batch_size=4, max_train_batches=2, eval_batch_size=8, epochs=2)


def test_same_seed_same_accuracy_and_space_follows_the_data() -> None:
    data = load_bench_data(TINY)
    assert data.space.num_classes == 3 and data.space.in_channels == 1
    spec = data.space.min_spec()
    first = train_standalone(spec, TINY, 5, data)
    again = train_standalone(spec, TINY, 5, data)
    assert first.acc == again.acc and first.val_loss == again.val_loss
    assert first.steps == 4 and 0.0 <= first.acc <= 1.0
    assert sum(len(labels) for _, labels in data.val_batches) == 16


def test_steps_per_epoch_drops_the_last_partial_batch() -> None:
    assert steps_per_epoch(TINY.replace(max_train_batches=None), 18) == 4
    assert steps_per_epoch(TINY, 18) == 2


def test_cli_writes_the_result(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run.json"
    code = "1222277777000000777700000077770000000000007777000000"
    status = main(["standalone", code, "--data", "synthetic", "--data-arg", "num_images=16",
                   "--data-arg", "in_channels=1", "--data-arg", "image_size=28", "--batch-size", "8",
                   "--max-train-batches", "1", "--seed", "2", "--out", str(out)])
    assert status == 0
    record = json.loads(out.read_text())
    assert record["arch"] == code and record["seed"] == 2 and record["steps"] == 1
    assert record["recipe"]["data"] == "synthetic" and record["flops"] > 0
    assert "val acc" in capsys.readouterr().out


def test_cli_trains_on_an_image_folder_given_as_root(tmp_path: Path, capsys) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for label in ("a", "b"):
            for index in range(2):
                path = tmp_path / "images" / split / label / f"{index}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(rng.integers(0, 256, (32, 36, 3), dtype=np.uint8)).save(path)
    out = tmp_path / "run.json"
    options = ["--space", "spos_shufflenetv2_tiny", "--data", "imagefolder", "--data-arg", "image_size=28",
               "--batch-size", "2", "--max-train-batches", "1", "--out", str(out)]
    assert main(["standalone", "100000", *options, "--data-arg", f"root={tmp_path / 'images'}"]) == 0
    record = json.loads(out.read_text())
    assert record["steps"] == 1 and record["recipe"]["data_args"]["root"] == str(tmp_path / "images")
    assert main(["standalone", "100000", *options[:-2]]) == 2  # no root: the dataset's own message
    assert "needs a data root" in capsys.readouterr().err


def test_cli_rejects_a_bad_code(capsys) -> None:
    status = main(["standalone", "123", "--data", "synthetic", "--data-arg", "in_channels=1",
                   "--data-arg", "image_size=28", "--max-val-images", "4"])
    assert status == 2 and "length" in capsys.readouterr().err


def _recipe_of(*options: str) -> Recipe:
    import argparse

    from hnas.commands.standalone import add_recipe_arguments, recipe_from_arguments

    parser = argparse.ArgumentParser()
    add_recipe_arguments(parser)
    return recipe_from_arguments(parser.parse_args(list(options)))


def test_schedule_options_change_the_recipe() -> None:
    from hnas.benchmark.recipe import MINIBENCH_RECIPE

    assert _recipe_of() == MINIBENCH_RECIPE
    recipe = _recipe_of("--warmup-fraction", "0.3", "--grad-clip", "none", "--lr", "0.02")
    assert (recipe.warmup_fraction, recipe.grad_clip, recipe.lr) == (0.3, None, 0.02)
    assert _recipe_of("--grad-clip", "2.5").grad_clip == 2.5


def test_bad_grad_clip_is_a_usage_error(capsys) -> None:
    import pytest

    for bad in ("-1", "zero"):
        with pytest.raises(SystemExit):
            _recipe_of("--grad-clip", bad)
        assert "positive number or 'none'" in capsys.readouterr().err
