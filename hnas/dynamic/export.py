"""``hnas dynamic-export``: the gated network of a stage II checkpoint as a ``paddle.jit.save`` model.

The model is :class:`~hnas.dynamic.network.ExportedDynamicNetwork` traced to a static graph:
the shared layers once, the gate's arg-max route per image, each routed level's stand-alone
layers on the images routed to it (a group may be empty), the logits scattered back in order.
Paddle's static graph handles these data-dependent group sizes (``nonzero``, ``gather``,
``scatter`` with zero-size groups), so one inference model serves any batch size.

Written, atomically, into ``OUT``: ``inference/model.*`` (input ``image``: ``[None, C, R, R]``
float32; output logits) and ``dynamic.json`` (space, routed levels' arch codes and MAdds, gate
settings, source checkpoint).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import paddle

from hnas.checkpoints.space_record import space_record
from hnas.dynamic.network import ExportedDynamicNetwork
from hnas.dynamic.report import load_gated
from hnas.export import INFERENCE_PREFIX, check_output_folder
from hnas.io.atomic import atomic_write_folder

#: Metadata file of a dynamic export.
DYNAMIC_META = "dynamic.json"


def export_dynamic(checkpoint: str | os.PathLike[str], out: str | os.PathLike[str], force: bool = False) -> Path:
    """Write the inference model of a stage II checkpoint into ``out`` (see the module docstring)."""
    out = Path(out)
    check_output_folder(out, force)
    gated, cfg, folder = load_gated(checkpoint)
    network = ExportedDynamicNetwork(gated)
    space = gated.supernet.space
    resolution = gated.levels[0].resolution
    shape = [None, space.in_channels, resolution, resolution]
    meta = {
        **space_record(space),
        "routed_levels": [space.encode(level) for level in gated.levels],
        "level_madds": [float(m) for m in gated.option_madds.numpy()], "gate_madds": gated.gate.madds(),
        "gate": dict(vars(cfg.gate)), "checkpoint": str(folder), "input_shape": shape,
    }

    def fill(temp: Path) -> None:
        (temp / DYNAMIC_META).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        paddle.jit.save(network, str(temp / INFERENCE_PREFIX),
                        input_spec=[paddle.static.InputSpec(shape=shape, dtype="float32", name="image")])

    intact = f"the previous export {out} is untouched" if out.exists() else f"nothing was written to {out}"
    return atomic_write_folder(out, fill, intact=intact + "; free space and run the same command again")
