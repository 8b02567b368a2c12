"""Engine: runs supernet training steps (see :mod:`hnas.engine.trainer`).

Modules: ``config`` (schema of ``hnas train``), ``optim`` (SGD + warm-up/cosine LR),
``step`` (one optimizer step over the sampled subnets), ``callbacks`` (hapi callbacks),
``checkpoint`` (atomic, resumable checkpoints), ``distributed`` (gradient averaging),
``pretrained`` (init from stand-alone weights) and ``trainer`` (``paddle.Model`` + loop).
Import the module you need; importing the package does no work.
"""
