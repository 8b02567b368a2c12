from __future__ import annotations

import numpy as np
import pytest

from hnas.data.base import SampleKey, check_split
from hnas.data.embedded import EmbeddedMnist
from hnas.data.synthetic import Synthetic
from hnas.errors import HnasError


def test_keys_seed_the_augmentation_by_seed_epoch_and_index() -> None:
    train = EmbeddedMnist("train", max_shift=2)
    first = train[SampleKey(7, 3, 0)][0]
    np.testing.assert_array_equal(first, train[SampleKey(7, 3, 0)][0])
    others = [train[SampleKey(7, seed, epoch)][0] for seed, epoch in [(3, 1), (4, 0), (5, 2)]]
    assert any(not np.array_equal(first, other) for other in others)


def test_plain_index_is_reproducible_and_negative_indices_wrap() -> None:
    data = Synthetic("train", num_images=5)
    np.testing.assert_array_equal(data[4][0], data[-1][0])
    assert data[-1][1] == data[4][1]
    with pytest.raises(IndexError):
        data[5]


def test_info_gives_search_space_overrides() -> None:
    info = Synthetic("val", num_classes=3, in_channels=2).info
    assert info.space_overrides() == {"num_classes": 3, "in_channels": 2}


def test_unknown_split_is_rejected() -> None:
    check_split("train")
    with pytest.raises(HnasError, match="'test'"):
        check_split("test")
