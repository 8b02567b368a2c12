"""Evaluation: ranking architectures with a trained supernet and scoring the ranking.

A chain of small steps, one module each:

- :mod:`~hnas.checkpoints.source` finds the checkpoint, its space and its config;
- :mod:`~hnas.evaluation.eval_data` draws the fixed validation and recalibration images;
- :mod:`~hnas.nn.bn_recal` recalibrates BN for the active subnet and restores it;
- :mod:`~hnas.evaluation.evaluate` activates, measures and appends to the progress file
  (:mod:`~hnas.evaluation.progress`, with :mod:`~hnas.evaluation.reporter` for the display);
- :mod:`~hnas.evaluation.shards` splits work into shards and merges their files;
- :mod:`~hnas.evaluation.submission` runs all of it for ``hnas eval``, as asked by an
  :class:`~hnas.evaluation.request.EvalRequest` (Paddle-free, for the CLI parser);
- :mod:`~hnas.evaluation.ranking` and :mod:`~hnas.evaluation.scoring` compare a ranking
  with ground truth (``hnas score``); :mod:`~hnas.evaluation.distances` gives Hamming
  distance statistics; :mod:`~hnas.nn.state_dict` matches state-dict keys.

Modules are imported where used; importing this package loads nothing else.
"""
