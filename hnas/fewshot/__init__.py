"""Few-shot supernets: one supernet split into sub-supernets, each over a part of the space.

Few-shot NAS (Zhao et al., ICML 2021) reduces the weight sharing that makes a one-shot
ranking unreliable: after the one-shot supernet is trained, the space is partitioned by the
choice of one slot (e.g. the depth of stage 3), every part gets its own copy of the
supernet's weights, and each copy is trained further on subnets of its part only. An arch is
then scored by the sub-supernet of its part. The 2nd and 4th teams of CVPR 2022 NAS Track 1
split their supernets this way (by stage depths, 5 and 2-7 sub-supernets).

* :mod:`hnas.fewshot.split`: which slot splits the space and how its values are grouped;
* the few-shot folder (``fewshot.json`` and one training checkpoint root per part), which
  ``hnas eval`` reads to route each arch, is described by :mod:`hnas.checkpoints.fewshot`;
* :mod:`hnas.fewshot.train`: training the sub-supernets from a parent checkpoint
  (``hnas fewshot train``; resumable part by part).

This package's ``__init__`` imports neither Paddle nor the engine: evaluation reads
manifests without loading the trainer.
"""

from hnas.fewshot.split import Split

__all__ = ["Split"]
