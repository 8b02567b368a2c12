from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from hnas.data import transforms
from hnas.data.base import SampleKey
from hnas.data.cifar import CIFAR10, Cifar, build_cifar10, build_cifar100
from hnas.errors import HnasError


def test_cifar10_reads_five_batches_and_the_test_batch(tiny_cifar10: Path) -> None:
    train = build_cifar10(tiny_cifar10.parent, "train")  # the parent of the batch folder works
    val = build_cifar10(tiny_cifar10, "val")
    assert (len(train), len(val)) == (20, 3)
    assert train.labels.tolist()[:8] == [1, 0, 9, 3, 2, 0, 9, 3]
    assert train.info.num_classes == 10 and train.info.resolution == 32
    assert train.info.class_names[:2] == ("name0", "name1")


def test_rows_are_channel_major(tiny_cifar10: Path) -> None:
    val = build_cifar10(tiny_cifar10, "val")
    row = pickle.loads((tiny_cifar10 / "test_batch").read_bytes())[b"data"][0]
    image, label = val[0]
    assert image.shape == (3, 32, 32) and image.dtype == np.float32 and label == 1
    expected_green = (row[1024:2048].reshape(32, 32) / 255 - CIFAR10.mean[1]) / CIFAR10.std[1]
    np.testing.assert_allclose(image[1], expected_green, rtol=1e-5, atol=1e-5)


def test_only_train_is_augmented(tiny_cifar10: Path) -> None:
    train, val = build_cifar10(tiny_cifar10, "train"), build_cifar10(tiny_cifar10, "val")
    assert len({train[SampleKey(0, 0, epoch)][0].tobytes() for epoch in range(5)}) > 1
    np.testing.assert_array_equal(val[SampleKey(0, 0, 0)][0], val[SampleKey(0, 0, 1)][0])


def test_cifar100_uses_fine_labels_and_its_own_statistics(tiny_cifar100: Path) -> None:
    train = build_cifar100(tiny_cifar100, "train")
    assert train.labels.tolist() == [0, 99, 5, 5, 7, 1]
    assert train.info.num_classes == 100 and train.info.class_names[99] == "99"
    val = build_cifar100(tiny_cifar100, "val")
    row = pickle.loads((tiny_cifar100 / "test").read_bytes())["data"][1]
    image, label = val[1]
    expected_red = (row[:1024].reshape(32, 32) / 255 - transforms.CIFAR100_MEAN[0]) \
        / transforms.CIFAR100_STD[0]
    assert label == 3
    np.testing.assert_allclose(image[0], expected_red, rtol=1e-5, atol=1e-5)


def test_missing_batch_is_reported(tiny_cifar10: Path) -> None:
    os.remove(tiny_cifar10 / "data_batch_3")
    with pytest.raises(HnasError, match="data_batch_3: missing"):
        Cifar(tiny_cifar10, "train", CIFAR10)
    with pytest.raises(HnasError, match="does not exist"):
        build_cifar10(tiny_cifar10 / "nowhere", "train")


def test_corrupt_or_wrong_pickles_are_reported(tiny_cifar10: Path) -> None:
    (tiny_cifar10 / "test_batch").write_bytes(b"\x80\x02garbage")
    with pytest.raises(HnasError, match="test_batch: not a readable pickle"):
        build_cifar10(tiny_cifar10, "val")
    (tiny_cifar10 / "test_batch").write_bytes(pickle.dumps({b"data": np.zeros((2, 10))}))
    with pytest.raises(HnasError, match="no 'labels'"):
        build_cifar10(tiny_cifar10, "val")
    (tiny_cifar10 / "test_batch").write_bytes(
        pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}))
    with pytest.raises(HnasError, match="labels outside"):
        build_cifar10(tiny_cifar10, "val")


def test_pickles_cannot_run_code(tiny_cifar10: Path) -> None:
    (tiny_cifar10 / "test_batch").write_bytes(pickle.dumps({b"data": os.getcwd}))
    with pytest.raises(HnasError, match="refusing global"):
        build_cifar10(tiny_cifar10, "val")
