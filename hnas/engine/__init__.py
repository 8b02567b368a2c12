"""Engine: runs supernet training steps (see :mod:`hnas.engine.trainer`).

Modules: ``step`` (one optimizer step over the sampled subnets), ``callbacks`` (hapi callbacks),
``checkpoint`` (saving and restoring the training state), ``distributed`` (gradient averaging),
``pretrained`` (init from stand-alone weights) and ``trainer`` (``paddle.Model`` + loop).
Import the module you need; importing the package does no work.
"""
