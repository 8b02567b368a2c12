"""``LOSSES``: the distillation losses a student subnet can be trained with, by config name.

Every entry is an ``nn.Layer`` class whose ``forward(student_logits, teacher_logits)``
returns a scalar tensor; build one with ``LOSSES.build(name, **args)``.
"""

from __future__ import annotations

from paddle import nn

from hnas.registry import Registry

LOSSES: Registry[type[nn.Layer]] = Registry("distillation loss")
