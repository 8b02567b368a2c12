from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hnas.config import DataCfg
from hnas.data.base import DATASETS
from hnas.data.datasets import build_dataset, build_datasets, build_split, dataset_args
from hnas.errors import HnasError


@pytest.fixture
def sources(tiny_imagefolder: Path, tiny_cifar10: Path, tiny_cifar100: Path) -> dict:
    """Root and args of a tiny instance; kinds not listed are built with no root and defaults."""
    return {
        "embedded_mnist": (None, {"val_per_class": 100}),
        "imagefolder": (tiny_imagefolder, {"image_size": 20}),
        "cifar10": (tiny_cifar10, {}),
        "cifar100": (tiny_cifar100, {}),
        "synthetic": (None, {"num_images": 8}),
    }


@pytest.mark.parametrize("name", DATASETS.names())
def test_every_registered_kind_yields_samples_matching_its_info(name: str, sources: dict) -> None:
    root, args = sources.get(name, (None, {}))
    train, val = build_datasets(DataCfg(name=name, root=root, args=args))
    info = train.info
    assert info.name == name and len(info.class_names) == info.num_classes
    for dataset in (train, val):
        image, label = dataset[len(dataset) - 1]
        assert image.shape == (info.in_channels, info.resolution, info.resolution)
        assert image.dtype == np.float32 and isinstance(label, np.int64)
        assert 0 <= label < info.num_classes and np.isfinite(image).all()


def test_default_config_is_the_minibench_task() -> None:
    from hnas.benchmark.recipe import MINIBENCH_RECIPE

    train, val = build_datasets(DataCfg())
    assert (train.info.name, len(train), len(val), train.info.num_classes) == ("multi_mnist", 4000, 2500, 10)
    explicit = build_datasets(DataCfg(name=MINIBENCH_RECIPE.data, args=dict(MINIBENCH_RECIPE.data_args)))[1]
    rng = np.random.default_rng(0)
    assert all(np.array_equal(val.sample(i, rng)[0], explicit.sample(i, rng)[0]) for i in (0, 1, 2499))


def test_unknown_names_options_and_splits_are_reported() -> None:
    with pytest.raises(HnasError, match="unknown dataset 'mnist'.*embedded_mnist"):
        build_dataset("mnist", None, "train")
    with pytest.raises(HnasError, match="dataset 'synthetic' has no option 'imagesize' \\(did you mean 'image_size'"):
        build_dataset("synthetic", None, "train", imagesize=8)
    with pytest.raises(HnasError, match="split 'test'"):
        build_dataset("synthetic", None, "test")
    assert "max_shift" in dataset_args("embedded_mnist")


def test_config_options_are_checked_and_named_by_their_key() -> None:
    message = r"^data\.args\.bogus: dataset 'synthetic' has no option 'bogus'; known: num_images, "
    with pytest.raises(HnasError, match=message):
        build_split(DataCfg(name="synthetic", args={"num_images": 8, "bogus": 1}), "val")
    val = build_split(DataCfg(name="synthetic", args={"num_images": 8}), "val")
    assert val.info.name == "synthetic"
