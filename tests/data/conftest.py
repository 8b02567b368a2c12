"""Tiny on-disk datasets in the real layouts, written per test into ``tmp_path``."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def write_png(path: Path, width: int, height: int, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((height, width, 3), value, dtype=np.uint8)
    pixels[: height // 2, :, 0] = 255 - value  # some structure, so crops differ
    Image.fromarray(pixels).save(path)


@pytest.fixture
def tiny_imagefolder(tmp_path: Path) -> Path:
    """``train/`` with classes cat, dog, owl (3 images each), ``val/`` with cat and owl only."""
    root = tmp_path / "folder"
    for label, name in enumerate(["owl", "cat", "dog"]):
        for index in range(3):
            write_png(root / "train" / name / f"{index}.png", 40 + 7 * index, 30, 60 * label)
    write_png(root / "val" / "cat" / "a.png", 50, 50, 10)
    write_png(root / "val" / "owl" / "b.PNG", 30, 45, 20)
    (root / "train" / "cat" / "notes.txt").write_text("not an image")
    return root


def cifar_rows(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 3072), dtype=np.uint8)


def write_pickle(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(content, protocol=2))


@pytest.fixture
def tiny_cifar10(tmp_path: Path) -> Path:
    """``cifar-10-batches-py`` with byte keys like the Python 2 originals: 5 x 4 train, 3 test."""
    folder = tmp_path / "cifar-10-batches-py"
    for batch in range(1, 6):
        write_pickle(folder / f"data_batch_{batch}",
                     {b"data": cifar_rows(4, batch), b"labels": [batch, 0, 9, 3]})
    write_pickle(folder / "test_batch", {b"data": cifar_rows(3, 0), b"labels": [1, 2, 3]})
    names = [f"name{label}".encode() for label in range(10)]
    write_pickle(folder / "batches.meta", {b"label_names": names})
    return folder


@pytest.fixture
def tiny_cifar100(tmp_path: Path) -> Path:
    """``cifar-100-python`` with str keys: 6 train, 2 test, no meta file."""
    folder = tmp_path / "cifar-100-python"
    write_pickle(folder / "train", {"data": cifar_rows(6, 1), "fine_labels": [0, 99, 5, 5, 7, 1],
                                    "coarse_labels": [0] * 6})
    write_pickle(folder / "test", {"data": cifar_rows(2, 2), "fine_labels": [42, 3],
                                   "coarse_labels": [0, 0]})
    return folder
