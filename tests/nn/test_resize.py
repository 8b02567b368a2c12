"""Tests of hnas/nn/resize.py: batches resized to a subnet's resolution (bilinear, aligned corners)."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from hnas.nn.resize import at_resolution, resize_images


def _images(side: int, count: int = 2, channels: int = 1, seed: int = 0) -> paddle.Tensor:
    rng = np.random.default_rng(seed)
    return paddle.to_tensor(rng.normal(size=(count, channels, side, side)).astype("float32"))


def test_a_batch_already_at_the_resolution_is_passed_through() -> None:
    images = _images(16)
    assert resize_images(images, 16) is images


def test_bilinear_with_aligned_corners_keeps_a_linear_ramp_exact() -> None:
    """With ``align_corners=True`` output pixel a of n samples input position a * (N - 1) / (n - 1); a
    linear image is reproduced exactly there (half-pixel centres would shift every value)."""
    rows, cols = np.meshgrid(np.arange(28.0), np.arange(28.0), indexing="ij")
    images = paddle.to_tensor((rows + 2 * cols)[None, None].astype("float32"))
    out = resize_images(images, 20).numpy()[0, 0]
    a, b = np.meshgrid(np.arange(20.0), np.arange(20.0), indexing="ij")
    np.testing.assert_allclose(out, (a + 2 * b) * 27 / 19, atol=1e-4)
    assert out[0, 0] == 0 and out[-1, -1] == pytest.approx(27 * 3)


def test_every_image_and_channel_is_resized_on_its_own() -> None:
    images = _images(12, count=3, channels=2)
    out = resize_images(images, 8)
    assert out.shape == [3, 2, 8, 8]
    one = resize_images(images[1:2, 1:2], 8)
    np.testing.assert_array_equal(out[1:2, 1:2].numpy(), one.numpy())


@pytest.mark.parametrize("resolution, shape, match", [
    (0, (2, 1, 8, 8), "positive number of pixels"),
    (8, (1, 8, 8), r"expected images \[N, C, H, W\]"),
])
def test_bad_arguments_are_refused(resolution: int, shape: tuple[int, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        resize_images(paddle.zeros(shape), resolution)


def test_at_resolution_resizes_images_and_keeps_labels_on_every_pass() -> None:
    labels = paddle.to_tensor(np.array([3, 1], dtype="int64"))
    batches = [(_images(16, seed=seed), labels) for seed in range(2)]
    view = at_resolution(batches, 12)
    for _ in range(2):  # re-iterable
        items = list(view)
        assert [images.shape for images, _ in items] == [[2, 1, 12, 12]] * 2
        assert all(got is labels for _, got in items)
    np.testing.assert_array_equal(items[1][0].numpy(), resize_images(batches[1][0], 12).numpy())
    plain = [images for images, _ in batches]
    assert [images.shape for images in at_resolution(plain, 8)] == [[2, 1, 8, 8]] * 2
    assert at_resolution(plain, None) is plain
