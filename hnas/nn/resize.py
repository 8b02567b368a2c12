"""Running a subnet at its own input resolution: the batch is resized to ``spec.resolution``.

A space with elastic resolution has a ``resolution`` slot with several values (PSS-Net: 128 to
224 px in steps of 8; OFA: 128, 160, 192, 224). The data loader gives images at one size (the
largest resolution); whoever runs a subnet (the training step, BN recalibration, evaluation,
stand-alone training, export) resizes the batch to the subnet's resolution first, on the device,
bilinearly with ``align_corners=True`` as PSS-Net does inside its networks' ``forward``. A batch
already at the subnet's size is passed through untouched, so spaces with one resolution (the
competition's ResNet48) behave exactly as before.

The resolution comes from the spec, and the spec from the sampler, whose random sequence every
rank shares; so every rank resizes its batch to the same size in the same step.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, TypeVar

import paddle
import paddle.nn.functional as F

#: PSS-Net resizes with ``F.interpolate(x, size, mode="bilinear", align_corners=True)``.
ALIGN_CORNERS = True

Item = TypeVar("Item")


def resize_images(images: paddle.Tensor, resolution: int) -> paddle.Tensor:
    """``images`` (``[N, C, H, W]``) at ``resolution x resolution`` pixels; the same tensor if already so.

    Raises:
        ValueError: a resolution below 1 or a tensor that is not a batch of images.
    """
    if resolution < 1:
        raise ValueError(f"resolution must be a positive number of pixels, got {resolution}")
    if len(images.shape) != 4:
        raise ValueError(f"expected images [N, C, H, W], got shape {list(images.shape)}")
    if images.shape[2] == resolution and images.shape[3] == resolution:
        return images
    return F.interpolate(images, size=[resolution, resolution], mode="bilinear", align_corners=ALIGN_CORNERS)


def resize_item(item: Any, resolution: int) -> Any:
    """An image batch, or an ``(images, labels)`` batch, with its images at ``resolution``."""
    if isinstance(item, (tuple, list)):
        images, *rest = item
        return (resize_images(images, resolution), *rest)
    return resize_images(item, resolution)


class AtResolution(Iterable[Item]):
    """A re-iterable view of ``batches`` (image tensors or ``(images, labels)``) resized to ``resolution``.

    Resizing happens batch by batch as the view is iterated, so no second copy of a large
    validation set is held; with ``resolution=None`` the batches pass through unchanged.
    """

    def __init__(self, batches: Iterable[Item], resolution: int | None) -> None:
        self.batches = batches
        self.resolution = resolution

    def __iter__(self) -> Iterator[Item]:
        for item in self.batches:
            yield item if self.resolution is None else resize_item(item, self.resolution)


def at_resolution(batches: Iterable[Item], resolution: int | None) -> Iterable[Item]:
    """``batches`` resized to ``resolution`` as they are iterated (see :class:`AtResolution`)."""
    return batches if resolution is None else AtResolution(batches, resolution)
