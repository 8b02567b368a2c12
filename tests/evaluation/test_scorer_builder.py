"""The scorer builder: one path from a checkpoint to a scorer, so eval, search and export accept the same files."""

from __future__ import annotations

import json
from pathlib import Path

import paddle
import pytest

from hnas.cli import main
from hnas.errors import HnasError
from hnas.evaluation.options import ScoringOptions
from hnas.evaluation.scorer_builder import build_scorer, open_trained
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import SPACES

#: Six classes where resnet48_tiny has ten: a plain state dict of this data's supernet has a 6-way classifier.
CONFIG = ("space:\n  name: resnet48_tiny\n"
          "data:\n  name: synthetic\n  args: {num_classes: 6, in_channels: 1, image_size: 28, num_images: 48}\n")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    folder = tmp_path_factory.mktemp("plain")
    space = SPACES.get("resnet48_tiny").replace({"num_classes": 6})
    paddle.seed(0)
    weights = folder / "supernet.pdparams"
    paddle.save(space.build_supernet().state_dict(), str(weights))
    config = folder / "six.yaml"
    config.write_text(CONFIG)
    return weights, config, sample_codes(space, 3, seed=2)


def test_a_plain_state_dict_is_sized_from_the_data(plain) -> None:
    weights, config, codes = plain
    trained = open_trained(weights, config)
    assert trained.space.num_classes == 6 and trained.source.space is None
    ready = build_scorer(trained, ScoringOptions(val_images=8, batch_size=8, recal_batches=1, recal_batch_size=8))
    top1, top5 = ready.scorer.score(trained.space.decode(codes[0]))
    assert 0 <= top1 <= top5 <= 1 and ready.data.val_images == 8 and len(ready.data.recal) == 1


def test_eval_search_and_export_accept_the_same_plain_state_dict(plain, tmp_path: Path) -> None:
    weights, config, codes = plain
    archs = tmp_path / "archs.json"
    archs.write_text(json.dumps({f"arch{i + 1}": {"acc": 0, "arch": code} for i, code in enumerate(codes)}))
    common = ["--ckpt", str(weights), "--config", str(config)]
    scoring = ["--val-images", "8", "--batch-size", "8", "--recal-batches", "1", "--recal-batch-size", "8"]
    assert main(["eval", str(archs), *common, "--out", str(tmp_path / "eval.json"), *scoring]) == 0
    assert main(["search", *common, "--out", str(tmp_path / "search"), *scoring, "--population", "3",
                 "--top-k", "2", "--mutations", "1", "--crossovers", "1", "--generations", "1"]) == 0
    assert main(["export", codes[0], *common, "--out", str(tmp_path / "export")]) == 0
    exported = json.loads((tmp_path / "export" / "subnet.json").read_text())
    assert exported["space"]["num_classes"] == 6
    assert len(json.loads((tmp_path / "search" / "history.json").read_text())) == 3


def test_data_of_another_channel_count_is_refused_when_the_data_is_first_needed(tmp_path: Path) -> None:
    from hnas.checkpoints.folder import save_weights_checkpoint

    space = SPACES.get("resnet48_tiny")  # 1-channel images
    save_weights_checkpoint(tmp_path / "ckpt", space.build_supernet().state_dict(), space, CONFIG)
    config = tmp_path / "rgb.yaml"
    config.write_text(CONFIG.replace("in_channels: 1", "in_channels: 3"))
    trained = open_trained(tmp_path / "ckpt", config)  # a checkpoint folder needs no data to be opened
    assert trained.space == space
    with pytest.raises(HnasError, match="gives 3-channel images, space 'resnet48_tiny' takes 1"):
        trained.val
