from __future__ import annotations

import numpy as np
import pytest

from hnas.data.embedded import EmbeddedMnist
from hnas.data.loader import SeededBatchSampler, make_loader, set_epoch
from hnas.data.subset import subset
from hnas.data.synthetic import Synthetic
from hnas.errors import HnasError


def batches(loader) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(images.numpy(), labels.numpy()) for images, labels in loader]


def assert_same(first: list, second: list) -> None:
    assert len(first) == len(second)
    for (images_a, labels_a), (images_b, labels_b) in zip(first, second):
        np.testing.assert_array_equal(images_a, images_b)
        np.testing.assert_array_equal(labels_a, labels_b)


@pytest.fixture(scope="module")
def small_train() -> EmbeddedMnist:
    return subset(EmbeddedMnist("train", max_shift=2), 40, seed=0)


def test_batches_are_tensors_of_the_expected_shapes(small_train) -> None:
    loader = make_loader(small_train, batch_size=16)
    images, labels = next(iter(loader))
    assert list(images.shape) == [16, 1, 28, 28] and str(images.dtype) == "paddle.float32"
    assert list(labels.shape) == [16] and str(labels.dtype) == "paddle.int64"
    assert len(loader) == 3 and len(make_loader(small_train, 16, drop_last=True)) == 2


def test_two_loaders_with_one_seed_and_epoch_give_identical_batches(small_train) -> None:
    first = make_loader(small_train, 8, shuffle=True, seed=5)
    second = make_loader(small_train, 8, shuffle=True, seed=5)
    set_epoch(first, 3)
    set_epoch(second, 3)
    assert_same(batches(first), batches(second))


def test_order_changes_with_epoch_and_seed_and_epochs_advance(small_train) -> None:
    loader = make_loader(small_train, 40, shuffle=True, seed=5)
    epoch0, epoch1 = batches(loader), batches(loader)  # the epoch advances after each pass
    assert not np.array_equal(epoch0[0][1], epoch1[0][1])
    set_epoch(loader, 1)
    assert_same(batches(loader), epoch1)
    other_seed = make_loader(small_train, 40, shuffle=True, seed=6)
    set_epoch(other_seed, 1)
    assert not np.array_equal(batches(other_seed)[0][1], epoch1[0][1])
    assert sorted(epoch0[0][1].tolist()) == sorted(epoch1[0][1].tolist())


def test_resume_mid_epoch_replays_the_remaining_batches(small_train) -> None:
    loader = make_loader(small_train, 8, shuffle=True, seed=1)
    set_epoch(loader, 2)
    full = batches(loader)
    set_epoch(loader, 2, start_batch=3)
    assert_same(batches(loader), full[3:])


def test_worker_processes_give_the_same_batches(small_train) -> None:
    in_process = make_loader(small_train, 10, shuffle=True, seed=2)
    with_workers = make_loader(small_train, 10, shuffle=True, seed=2, num_workers=1)
    assert_same(batches(in_process), batches(with_workers))


def test_ranks_share_out_one_permutation() -> None:
    data = Synthetic("train", num_images=10)
    ranks = [SeededBatchSampler(data, 2, shuffle=True, seed=4, num_replicas=3, rank=rank)
             for rank in range(3)]
    seen = [[key.index for batch in sampler for key in batch] for sampler in ranks]
    assert [len(indices) for indices in seen] == [4, 4, 4]  # 10 padded to 12
    assert set().union(*map(set, seen)) == set(range(10))
    assert [len(sampler) for sampler in ranks] == [2, 2, 2]
    dropped = [SeededBatchSampler(data, 2, shuffle=True, seed=4, num_replicas=3, rank=rank,
                                  drop_last=True) for rank in range(3)]
    kept = [key.index for sampler in dropped for batch in sampler for key in batch]
    assert len(kept) == len(set(kept)) == 6


def test_plain_datasets_get_plain_indices_and_bad_settings_fail() -> None:
    sampler = SeededBatchSampler(list(range(5)), 2)
    assert list(sampler) == [[0, 1], [2, 3], [4]]
    with pytest.raises(HnasError, match="batch size"):
        SeededBatchSampler(list(range(5)), 0)
    with pytest.raises(HnasError, match="rank"):
        SeededBatchSampler(list(range(5)), 2, num_replicas=2, rank=2)
