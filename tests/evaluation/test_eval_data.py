from __future__ import annotations

import numpy as np

from hnas.data.datasets import build_dataset
from hnas.evaluation.eval_data import StreamedBatches, load_eval_data
from hnas.nn.accuracy import measure_accuracy


def datasets():
    options = {"num_images": 40, "num_classes": 10, "in_channels": 1, "image_size": 28}
    return build_dataset("synthetic", None, "val", **options), build_dataset("synthetic", None, "train", **options)


def test_subsets_are_seeded_and_independent_of_each_other() -> None:
    val, train = datasets()
    first = load_eval_data(val, train, 12, 2, 4, batch_size=5, seed=3)
    again = load_eval_data(val, train, 12, 3, 4, batch_size=5, seed=3)  # more recal images
    assert [len(y) for _, y in first.val] == [5, 5, 2] and first.val_images == 12
    assert len(first.recal) == 2 and list(first.recal[0].shape) == [4, 1, 28, 28]
    for (x1, y1), (x2, y2) in zip(first.val, again.val):
        np.testing.assert_array_equal(x1.numpy(), x2.numpy())
        np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    other = load_eval_data(val, train, 12, 0, 4, batch_size=5, seed=4)
    assert not np.array_equal(first.val[0][0].numpy(), other.val[0][0].numpy())  # another seed, other images


def test_streaming_gives_the_in_memory_numbers(supernet, tiny_archs) -> None:
    val, _ = datasets()
    in_memory = load_eval_data(val, None, 20, 0, 1, batch_size=8, seed=0)
    streamed = load_eval_data(val, None, 20, 0, 1, batch_size=8, seed=0, max_bytes=0)
    assert in_memory.in_memory and isinstance(streamed.val, StreamedBatches)
    supernet.apply(tiny_archs["arch4"][1])
    assert measure_accuracy(supernet, streamed.val) == measure_accuracy(supernet, in_memory.val)
