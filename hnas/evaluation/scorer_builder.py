"""From a trained supernet's checkpoint to a ready scorer: the one path of ``eval``, ``search`` and ``export``.

1. :func:`open_trained` (nothing heavy loaded): resolve ``--ckpt`` / ``--config`` / ``--weights``
   (:func:`hnas.checkpoints.source.locate`) and take the space of the weights: the
   checkpoint's own, or for a plain ``.pdparams`` file the config's space sized to the data
   (its classes and channels), so that every command accepts the same files. The validation
   split is built when first needed (a checkpoint folder is exported without its data);
   images of the wrong channel count are refused then.
2. :func:`build_scorer`: load the weights into the supernet, draw the fixed validation and BN
   recalibration images (:mod:`hnas.evaluation.eval_data`) and wrap them in a
   :class:`~hnas.nn.scorer.SubnetScorer`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from hnas.checkpoints.source import EvalSource, config_space, load_supernet, locate
from hnas.config import DataCfg
from hnas.data.base import SeededDataset
from hnas.data.datasets import build_split
from hnas.errors import HnasError
from hnas.evaluation.eval_data import EvalData, load_eval_data
from hnas.evaluation.options import ScoringOptions
from hnas.nn.scorer import SubnetScorer
from hnas.search_spaces.base import SearchSpace, Supernet


@dataclass
class TrainedSupernet:
    """A located checkpoint with the space of its weights (nothing loaded).

    Attributes:
        source: where the weights, the config and the stored space come from.
        space: the space of the weights (sized to the data for a plain state-dict file).
    """

    source: EvalSource
    space: SearchSpace
    _val: SeededDataset | None = None

    @property
    def data(self) -> DataCfg:
        return self.source.config.data

    @property
    def val(self) -> SeededDataset:
        """The validation split of the config's data section (built once, channels checked)."""
        if self._val is None:
            self._val = build_split(self.data, "val")
            check_channels(self._val, self.space, self.data)
        return self._val

    def train_split(self) -> SeededDataset:
        return build_split(self.data, "train")

    def load(self) -> Supernet:
        """The supernet with the weights loaded (eval mode)."""
        return load_supernet(self.source.weights, self.space)


def check_channels(val: SeededDataset, space: SearchSpace, data: DataCfg) -> None:
    """Raises HnasError if the data's images have another channel count than the space takes."""
    if val.info.in_channels != space.in_channels:
        raise HnasError(
            f"dataset {data.name!r} gives {val.info.in_channels}-channel images, space {space.name!r} "
            f"takes {space.in_channels}"
        )


def open_source(source: EvalSource) -> TrainedSupernet:
    """:class:`TrainedSupernet` of an already located source: a plain state-dict file's space is
    the config's, sized to the data's classes and channels (the same in every command)."""
    if source.space is not None:
        return TrainedSupernet(source, source.space)
    val = build_split(source.config.data, "val")
    trained = TrainedSupernet(source, config_space(source.config, val.info.space_overrides()), val)
    check_channels(val, trained.space, trained.data)
    return trained


def open_trained(checkpoint: str | os.PathLike[str] | None, config: str | os.PathLike[str] | None,
                 weights: str = "model", allow_fewshot: bool = False) -> TrainedSupernet:
    """Locate the checkpoint (see :func:`hnas.checkpoints.source.locate`) and size its space.

    Raises:
        HnasError: bad checkpoint, config, weights choice or data.
    """
    return open_source(locate(checkpoint, config, allow_fewshot=allow_fewshot, weights=weights))


def load_scoring_data(trained: TrainedSupernet, options: ScoringOptions, **kwargs: Any) -> EvalData:
    """The fixed validation batches and recalibration images of ``options``."""
    recal = options.recal_batches if options.recalibrates else 0
    train = trained.train_split() if recal else None
    return load_eval_data(trained.val, train, options.val_images, recal, options.recal_batch_size,
                          options.batch_size, options.seed, **kwargs)


@dataclass(frozen=True)
class ReadyScorer:
    """A loaded supernet, the data it is measured on, and the scorer over both."""

    supernet: Supernet
    data: EvalData
    scorer: SubnetScorer


def build_scorer(trained: TrainedSupernet, options: ScoringOptions, shared_prefix: bool = True) -> ReadyScorer:
    """Load the weights and the scoring data into a :class:`~hnas.nn.scorer.SubnetScorer`
    (``shared_prefix``: whether its ``measure_all`` / ``score_all`` run shared prefixes once).

    Raises:
        HnasError: bad options, unreadable or mismatched weights, too few images.
    """
    options.check()
    supernet = trained.load()
    data = load_scoring_data(trained, options)
    scorer = SubnetScorer(supernet, data.val, data.recal, "reset" if data.recal else "none",
                          shared_prefix=shared_prefix)
    return ReadyScorer(supernet, data, scorer)
