"""Building datasets by registry name: the one entry point trainers and evaluators use.

Known names (see :data:`hnas.data.base.DATASETS`): ``multi_mnist`` (the default: overlaid
pairs of the embedded digits, no download), ``embedded_mnist`` (the digits alone),
``imagefolder``, ``cifar10``, ``cifar100`` and ``synthetic``. Each factory takes
``(root, split, **args)``; the args a name accepts are its factory's keyword parameters.
A config's ``data:`` section (:class:`hnas.config.DataCfg`) is built with
:func:`build_datasets` or, one split at a time, :func:`build_split`.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any, Mapping

from hnas.config import DataCfg
from hnas.data import cifar, embedded, imagefolder, multimnist, synthetic  # noqa: F401  (registration)
from hnas.data.base import DATASETS, SeededDataset, check_split, describe
from hnas.errors import HnasError
from hnas.registry import unknown_option

logger = logging.getLogger(__name__)


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
    _check_args(name, args)
    return DATASETS.build(name, None if root is None else Path(root), split, **args)


def _check_args(name: str, args: Mapping[str, Any], key_prefix: str = "") -> None:
    """Raise :class:`HnasError` for the first of ``args`` that dataset ``name`` does not take."""
    found = unknown_option(args, dataset_args(name))
    if found is not None:
        option, detail = found
        where = f"{key_prefix}{option}: " if key_prefix else ""
        raise HnasError(f"{where}dataset {name!r} {detail}")


def build_split(cfg: DataCfg, split: str) -> SeededDataset:
    """One split of the dataset a config's ``data:`` section describes.

    Raises:
        HnasError: unknown name or split, an option in ``cfg.args`` the dataset does not take
            (named as ``data.args.<option>``), or missing / malformed data.
    """
    _check_args(cfg.name, cfg.args, key_prefix="data.args.")
    return build_dataset(cfg.name, cfg.root, split, **cfg.args)


def build_datasets(cfg: DataCfg) -> tuple[SeededDataset, SeededDataset]:
    """The train and val splits a config's ``data:`` section describes.

    Both splits share one label mapping; their ``info`` (classes, channels, resolution) must
    agree, and is what the search space adapts to.

    Raises:
        HnasError: as :func:`build_split`, or splits that disagree.
    """
    train = build_split(cfg, "train")
    val = build_split(cfg, "val")
    if train.info != val.info:
        raise HnasError(f"dataset {cfg.name!r}: train and val disagree: {train.info} vs {val.info}")
    logger.info("train %s", describe(train))
    logger.info("val %s", describe(val))
    return train, val
