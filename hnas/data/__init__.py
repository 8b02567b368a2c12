"""Data: datasets by registry name, seeded loaders and fixed evaluation subsets.

``build_datasets(cfg.data)`` (a :class:`hnas.config.DataCfg`) gives the train and val splits
(``build_split`` one of them, ``build_dataset`` one by name); every split reports its
``info`` (classes, channels, resolution) so the search space can follow the data;
``make_loader`` and ``set_epoch`` give reproducible, resumable batch orders; ``subset`` and
``to_arrays`` give the fixed images that evaluation and BN recalibration reuse.
"""

from hnas.data.base import DATASETS, SPLITS, DatasetInfo, SampleKey, SeededDataset
from hnas.data.cifar import Cifar
from hnas.data.datasets import build_dataset, build_datasets, build_split, dataset_args
from hnas.data.embedded import EmbeddedMnist
from hnas.data.imagefolder import ImageFolder
from hnas.data.loader import SeededBatchSampler, make_loader, set_epoch
from hnas.data.subset import Subset, subset, subset_indices, to_arrays
from hnas.data.synthetic import Synthetic

__all__ = [
    "DATASETS",
    "SPLITS",
    "Cifar",
    "DatasetInfo",
    "EmbeddedMnist",
    "ImageFolder",
    "SampleKey",
    "SeededBatchSampler",
    "SeededDataset",
    "Subset",
    "Synthetic",
    "build_dataset",
    "build_datasets",
    "build_split",
    "dataset_args",
    "make_loader",
    "set_epoch",
    "subset",
    "subset_indices",
    "to_arrays",
]
