"""Dynamic slimmable networks (DS-Net stage II): a slimming gate routes each image to a width.

:mod:`~hnas.dynamic.gate` holds the gate's slimming head and its routing,
:mod:`~hnas.dynamic.sgs` the stage II loss, :mod:`~hnas.dynamic.network` the gated network
with its grouped dynamic forward. Per-width BN, which stage II relies on, is a space option
(:mod:`hnas.search_spaces.per_width_bn`); the BN reset is :func:`hnas.nn.bn_recal.reset_bn_per_width`.
"""
