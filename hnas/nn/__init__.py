"""Network utilities shared by supernet training, evaluation and stand-alone training.

Below :mod:`hnas.engine`, :mod:`hnas.evaluation` and :mod:`hnas.benchmark` (it imports none of
them): BN recalibration (:mod:`~hnas.nn.bn_recal`), accuracy measurement
(:mod:`~hnas.nn.accuracy`), the in-memory subnet scorer (:mod:`~hnas.nn.scorer`), state-dict
key and shape matching (:mod:`~hnas.nn.state_dict`) and the optimizer / LR schedule builder
(:mod:`~hnas.nn.optim`). This package file itself is Paddle-free.
"""

from __future__ import annotations

#: ``--bn-recal`` modes: keep the trained statistics, or reset and re-estimate them per subnet.
BN_RECAL_MODES: tuple[str, ...] = ("none", "reset")
