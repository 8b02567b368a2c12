from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hnas.data.base import SampleKey
from hnas.data.imagefolder import ImageFolder, build_imagefolder
from hnas.errors import HnasError


def test_labels_follow_sorted_train_class_folders(tiny_imagefolder: Path) -> None:
    train = ImageFolder(tiny_imagefolder, "train", image_size=32)
    assert train.info.class_names == ("cat", "dog", "owl")
    assert train.info.num_classes == 3 and train.info.in_channels == 3
    assert len(train) == 9  # notes.txt is not an image
    assert [label for _, label in train.samples] == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_val_uses_the_train_mapping_even_with_fewer_classes(tiny_imagefolder: Path) -> None:
    val = ImageFolder(tiny_imagefolder, "val", image_size=32)
    assert val.info.class_names == ("cat", "dog", "owl")
    assert [(path.name, label) for path, label in val.samples] == [("a.png", 0), ("b.PNG", 2)]


def test_samples_are_normalised_chw_and_val_is_deterministic(tiny_imagefolder: Path) -> None:
    train = ImageFolder(tiny_imagefolder, "train", image_size=24)
    val = ImageFolder(tiny_imagefolder, "val", image_size=24)
    image, label = train[SampleKey(4, 0, 0)]
    assert image.shape == (3, 24, 24) and image.dtype == np.float32 and label == np.int64(1)
    views = {train[SampleKey(4, 0, epoch)][0].tobytes() for epoch in range(4)}
    assert len(views) > 1
    np.testing.assert_array_equal(val[SampleKey(0, 0, 0)][0], val[SampleKey(0, 0, 1)][0])


def test_missing_folders_are_reported(tmp_path: Path, tiny_imagefolder: Path) -> None:
    with pytest.raises(HnasError, match="does not exist"):
        build_imagefolder(tmp_path / "nowhere", "train")
    with pytest.raises(HnasError, match="needs a data root"):
        build_imagefolder(None, "train")
    shutil.rmtree(tiny_imagefolder / "val")
    with pytest.raises(HnasError, match="val: missing"):
        ImageFolder(tiny_imagefolder, "val")
    shutil.rmtree(tiny_imagefolder / "train")
    with pytest.raises(HnasError, match="train: missing"):
        ImageFolder(tiny_imagefolder, "train")


def test_empty_class_folder_is_reported(tiny_imagefolder: Path) -> None:
    (tiny_imagefolder / "train" / "emu").mkdir()
    with pytest.raises(HnasError, match="emu: no"):
        ImageFolder(tiny_imagefolder, "train")


def test_val_class_missing_from_train_is_reported(tiny_imagefolder: Path) -> None:
    shutil.copytree(tiny_imagefolder / "val" / "cat", tiny_imagefolder / "val" / "yak")
    with pytest.raises(HnasError, match="yak"):
        ImageFolder(tiny_imagefolder, "val")


def test_undecodable_image_is_reported_with_its_path(tiny_imagefolder: Path) -> None:
    (tiny_imagefolder / "train" / "cat" / "0.png").write_bytes(b"not a png")
    train = ImageFolder(tiny_imagefolder, "train")
    with pytest.raises(HnasError, match="0.png"):
        train[0]
