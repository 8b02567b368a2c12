"""What hnas writes to disk about a trained supernet, and how it reads it back.

Below both :mod:`hnas.engine` (which writes training checkpoints) and :mod:`hnas.evaluation`
(which reads them); imports neither.

* :mod:`~hnas.checkpoints.space_record`: the one spelling of a search space in every record
  (checkpoint ``meta.json``, export ``subnet.json``, few-shot manifest, latency table), and
  the reading of records written before it;
* :mod:`~hnas.checkpoints.folder`: a checkpoint folder's files, finding, reading and checking
  one, writing an evaluation-only one, pruning, and the free-space check before training;
* :mod:`~hnas.checkpoints.fewshot`: the few-shot folder's manifest;
* :mod:`~hnas.checkpoints.source`: from ``--ckpt`` / ``--config`` / ``--weights`` to the weights
  file, the space and the training config (nothing loaded), and loading the supernet;
* :mod:`~hnas.checkpoints.scorer`: from those options to a ready subnet scorer.

Files are written through :mod:`hnas.io.atomic`. Importing this package loads nothing.
"""
