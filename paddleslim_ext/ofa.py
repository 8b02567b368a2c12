"""The baseline's OFA supernet built with PaddleSlim, and hnas subnets activated in it.

:func:`build_ofa_supernet` does what the official baseline's ``train_supernet.py`` does:
``Convert(supernet(expand_ratio=[1.0])).convert(BaselineResNet)`` (every conv and the FC become
``Block(Super...)`` layers, every BN a ``SuperBatchNorm2D``) wrapped in ``OFA``, optionally with
``DistillConfig(teacher_model=...)``. Its state dict is the format ``hnas convert-ckpt --from
paddleslim`` reads (``model.blocks.1.conv1.fn.weight``, ``model.blocks.1.bn1._mean``, ...).

:func:`ofa_net_config` turns an hnas subnet spec into an OFA ``net_config`` with explicit
``channel`` counts, i.e. the widths hnas (and the competition's model) use,
``make_divisible(int(r * base), 8)``. PaddleSlim 2.6.0's own ``expand_ratio`` path would slice
``int(r * base)`` channels instead (64 -> 60, 57, ...; see README "Coming from PaddleSlim").

Requires PaddleSlim (hnas's ``paddleslim`` extra); run the first forward inside
:func:`paddleslim_ext.compat.paddleslim_compat`.
"""

from __future__ import annotations

from typing import Any

from paddle import nn

from hnas.engine.pretrained import official_block_index
from hnas.search_spaces.resnet import ResNetSpace, ResNetSpec
from hnas.search_spaces.resnet.space import block_shapes, stem_channels
from paddleslim_ext.baseline import BaselineResNet
from paddleslim_ext.compat import check_paddleslim


def build_ofa_supernet(space: ResNetSpace, teacher: nn.Layer | None = None) -> Any:
    """The baseline's PaddleSlim OFA supernet of ``space`` (task ``expand_ratio``, as the baseline sets).

    Args:
        space: layout of the network (``resnet48`` for the competition's ResNet48).
        teacher: if given, passed as ``DistillConfig(teacher_model=teacher)`` (the baseline
            distils from a stand-alone copy); its weights then appear in the state dict under
            ``ofa_teacher_model.``.

    Returns:
        A ``paddleslim.nas.ofa.OFA`` in training mode.
    """
    check_paddleslim()
    from paddleslim.nas.ofa import OFA, DistillConfig, supernet
    from paddleslim.nas.ofa.convert_super import Convert

    model = Convert(supernet(expand_ratio=[1.0])).convert(BaselineResNet(space))
    distill = None if teacher is None else DistillConfig(teacher_model=teacher)
    ofa = OFA(model, distill_config=distill)
    ofa.set_task("expand_ratio")
    return ofa


def ofa_net_config(space: ResNetSpace, spec: ResNetSpec) -> dict[str, Any]:
    """OFA ``net_config`` running subnet ``spec``: depths plus the output channels of every conv.

    Keys are the OFA layer names of the baseline network (``blocks.0.conv``, ``blocks.{i}.conv1``,
    ``blocks.{i}.conv2``, ``blocks.{i}.downsample.0``, the head's ``fc``), including inactive
    blocks (OFA wants an entry for every elastic layer). Pass it to ``ofa.set_net_config``.
    """
    config: dict[str, Any] = {"depth": list(spec.depths), "blocks.0.conv": {"channel": stem_channels(space, spec)}}
    active = {(shape.stage, shape.index): shape for shape in block_shapes(space, spec)}
    for stage, count in enumerate(space.stage_blocks):
        for block in range(count):
            index = official_block_index(space, stage, block)
            shape = active.get((stage, block))
            mid = {} if shape is None else {"channel": shape.mid_channels}
            out = {} if shape is None else {"channel": shape.out_channels}
            config[f"blocks.{index}.conv1"] = mid
            config[f"blocks.{index}.conv2"] = out
            if space.has_downsample(stage, block):
                config[f"blocks.{index}.downsample.0"] = out
    config[f"blocks.{1 + sum(space.stage_blocks)}.fc"] = {}
    return config
