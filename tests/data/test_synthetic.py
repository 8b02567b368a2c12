from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hnas.data.synthetic import Synthetic, build_synthetic, class_patterns
from hnas.errors import HnasError


def test_same_seed_same_data_other_seed_other_data() -> None:
    first, again = Synthetic("train", seed=3), Synthetic("train", seed=3)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.labels, again.labels)
    assert not np.array_equal(first.images, Synthetic("train", seed=4).images)
    assert not np.array_equal(first.images, Synthetic("val", seed=3).images)


def test_shapes_and_balanced_labels() -> None:
    data = Synthetic("train", num_images=30, num_classes=3, in_channels=2, image_size=10)
    image, label = data[0]
    assert image.shape == (2, 10, 10) and image.dtype == np.float32
    assert isinstance(label, np.int64)
    assert np.bincount(data.labels).tolist() == [10, 10, 10]
    assert data.info.resolution == 10 and data.info.in_channels == 2


def test_val_is_predictable_from_train_patterns() -> None:
    train, val = Synthetic("train", num_images=64), Synthetic("val", num_images=64)
    centroids = np.stack([train.images[train.labels == label].mean(axis=0) for label in range(4)])
    distances = ((val.images[:, None] - centroids[None]) ** 2).sum(axis=(2, 3, 4))
    assert (distances.argmin(axis=1) == val.labels).mean() > 0.9
    assert class_patterns(4, 3, 16, seed=0).shape == (4, 3, 16, 16)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(HnasError, match="reads no files"):
        build_synthetic(Path("data"), "train")
    with pytest.raises(HnasError, match=">= 1"):
        Synthetic("train", num_classes=0)
