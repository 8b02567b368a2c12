from __future__ import annotations

import numpy as np
import pytest

from hnas.data.subset import subset, subset_indices, to_arrays
from hnas.data.synthetic import Synthetic
from hnas.errors import HnasError


def test_subset_indices_are_seeded_distinct_and_shuffled() -> None:
    first = subset_indices(1000, 50, seed=1)
    np.testing.assert_array_equal(first, subset_indices(1000, 50, seed=1))
    assert len(set(first.tolist())) == 50 and first.max() < 1000
    assert not np.array_equal(first, np.sort(first))
    assert not np.array_equal(first, subset_indices(1000, 50, seed=2))
    np.testing.assert_array_equal(subset_indices(5, None, seed=0), np.arange(5))
    np.testing.assert_array_equal(subset_indices(5, 9, seed=0), np.arange(5))
    with pytest.raises(HnasError, match=">= 1"):
        subset_indices(5, 0, seed=0)


def test_subset_reads_the_parent_samples() -> None:
    data = Synthetic("val", num_images=20)
    part = subset(data, 6, seed=0)
    assert len(part) == 6 and part.info == data.info
    for position, index in enumerate(part.indices):
        np.testing.assert_array_equal(part[position][0], data[int(index)][0])
        assert part[position][1] == data[int(index)][1]


def test_to_arrays_stacks_images_and_labels() -> None:
    data = Synthetic("val", num_images=12, in_channels=2, image_size=8)
    images, labels = to_arrays(subset(data, 5, seed=3))
    assert images.shape == (5, 2, 8, 8) and images.dtype == np.float32
    assert labels.shape == (5,) and labels.dtype == np.int64
    full_images, full_labels = to_arrays(data)
    np.testing.assert_array_equal(full_images, data.images)
    np.testing.assert_array_equal(full_labels, data.labels)
